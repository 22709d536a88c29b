# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.


"""Fake CP commands, answered the way ``vmcp`` prints them.

smtLayer and zvmsdk parse CP's message ids (``HCPCQU045E`` = not logged
on, ``HCPCQV003E`` = no such userid or device...), so the failures below
use the real ids.
"""

import re

from nova_zvm.lab import zvm as fake_zvm


class CP(object):
    def __init__(self, zvm):
        self.zvm = zvm
        self.handlers = [
            (r'QUERY USERID$', self.query_userid),
            (r'QUERY CPLEVEL$', self.query_cplevel),
            (r'(?:QUERY|Q) USER (\S+)$', self.query_user),
            (r'SPOOL READER CLASS \*$', lambda m: ''),
            (r'CHANGE RDR (\d+) CLASS (\S+)$', self.change_rdr),
            (r'TRANSFER \* RDR (\d+) TO (\S+) RDR$', self.transfer_rdr),
            (r'PURGE RDR (\S+)$', self.purge_rdr),
            (r'DETACH (\S+)$', lambda m: 'DASD %s DETACHED' % m.group(1)),
            (r'(?:QUERY|Q) (\S+)$', self.query_any),
        ]

    def call(self, command):
        text = ' '.join(command.split())
        upper = text.upper()
        for pattern, handler in self.handlers:
            m = re.match(pattern, upper)
            if m:
                fault = self.zvm.record('cp', upper)
                if fault is not None:
                    raise fake_zvm.CommandFailed(
                        fault.rc, 'HCPLAB%03dE nova-zvm lab: injected fault '
                        'on CP %s (rc %d rs %d)' % (fault.rc % 1000, upper,
                                                    fault.rc, fault.rs))
                with self.zvm.lock:
                    return handler(m)
        self.zvm.record('cp', upper)
        raise fake_zvm.NotEmulated('CP command', text)

    # -- queries -----------------------------------------------------------
    def query_userid(self, m):
        return '%s AT %s\n' % (self.zvm.smt_userid,
                               self.zvm.host['system_name'])

    def query_cplevel(self, m):
        return ('z/VM Version 7 Release 3.0, service level 2401 (64-bit)\n'
                'Generated at 01/15/26 12:00:00 UTC\n'
                '%s\n' % self.zvm.host['ipl_time'])

    def query_user(self, m):
        userid = m.group(1)
        user = self.zvm.get_user(userid)
        if userid == self.zvm.smt_userid:
            return '%s - DSC\n' % userid
        if user is None or user['power'] == 'off':
            raise fake_zvm.CommandFailed(
                45, 'HCPCQU045E %s not logged on\n' % userid)
        return '%s - DSC\n' % userid

    def query_any(self, m):
        # ``vmcp q <userid>`` is how zvmsdk checks that a userid exists.
        name = m.group(1)
        user = self.zvm.get_user(name)
        if user is None:
            raise fake_zvm.CommandFailed(
                1, 'HCPCQV003E Invalid option - %s\n' % name)
        if user['power'] == 'off':
            raise fake_zvm.CommandFailed(
                45, 'HCPCQU045E %s not logged on\n' % name)
        return '%s - DSC\n' % name

    # -- spool -------------------------------------------------------------
    def _spool_file(self, spoolid):
        f = self.zvm.spool.get(int(spoolid))
        if f is None:
            raise fake_zvm.CommandFailed(
                42, 'HCPCSU042E File %s does not exist\n' % spoolid)
        return f

    def change_rdr(self, m):
        f = self._spool_file(m.group(1))
        f['class'] = m.group(2)
        return '0000001 FILE CHANGED\n'

    def transfer_rdr(self, m):
        f = self._spool_file(m.group(1))
        target = m.group(2)
        if self.zvm.get_user(target) is None:
            raise fake_zvm.CommandFailed(
                53, 'HCPCSU053E %s not in CP directory\n' % target)
        f['owner'] = target
        return ('RDR FILE %04d SENT FROM %s PUN WAS %04d\n'
                % (f['id'], self.zvm.smt_userid, f['id']))

    def purge_rdr(self, m):
        if m.group(1) == 'ALL':
            for sid in [s for s, f in self.zvm.spool.items()
                        if f['owner'] == self.zvm.smt_userid]:
                del self.zvm.spool[sid]
        else:
            self._spool_file(m.group(1))
            del self.zvm.spool[int(m.group(1))]
        return '0000001 FILE PURGED\n'
