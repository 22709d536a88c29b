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


"""Fake SMAPI, answered the way ``smcli`` does, on the fake z/VM.

Return/reason codes follow the SMAPI reference where the server tests for
them (e.g. 400/4 "image not found", 200/8 "already active", 200/12 "not
active"). Directory functions live in ``dirmaint``, network functions in
``vnet``; host, power, performance, name list and spool functions here.
"""

import os
import time

from nova_zvm.lab import dirmaint
from nova_zvm.lab import guestnet
from nova_zvm.lab import smcli
from nova_zvm.lab import sysusers
from nova_zvm.lab import vnet
from nova_zvm.lab import zvm as fake_zvm

SMAPIError = smcli.SMAPIError


def _locked(userid):
    # rcdescriptions.c: 400/12 "Image or profile definition is locked".
    return SMAPIError(400, 12, 'Image or profile definition is locked: %s'
                      % userid)


class SMAPI(dirmaint.DirectoryFunctions, vnet.NetworkFunctions):
    def __init__(self, zvm):
        self.zvm = zvm

    def call(self, function, args):
        ops = smcli.parse_operands(args)
        if not function.endswith('_DM'):
            return self._run(function, ops)
        if self.zvm.settings['dirmaint_serial']:
            # One DirMaint request at a time, its latency included.
            with self.zvm.dirmaint_queue:
                return self._run(function, ops)
        # Overlapping requests: DirMaint still locks the entry it is
        # changing, and a second change of that entry is refused.
        target = self._changed_entry(function, ops)
        with self.zvm.lock:
            if target in self.zvm.dirmaint_busy:
                self.zvm.record('smapi', function)
                raise _locked(target)
            if target:
                self.zvm.dirmaint_busy.add(target)
        try:
            return self._run(function, ops)
        finally:
            with self.zvm.lock:
                self.zvm.dirmaint_busy.discard(target)

    def _run(self, function, ops):
        fault = self.zvm.record('smapi', function)
        if fault is not None:
            raise SMAPIError(fault.rc, fault.rs,
                             'nova-zvm lab: injected fault on %s' % function)
        handler = getattr(self, 'do_' + function, None)
        if handler is None:
            raise fake_zvm.NotEmulated(
                'SMAPI function', function,
                '8 99 99 (details) nova-zvm lab: SMAPI function %s is not '
                'emulated\nnova-zvm lab: SMAPI function %s is not emulated'
                % (function, function))
        with self.zvm.lock:
            self._check_system(function, ops)
            self._check_held(function, ops)
            body = handler(ops)
        return '0 0 0 (details) None\n' + (body or '')

    @staticmethod
    def _changed_entry(function, ops):
        """The userid a directory call changes, or None for a query."""
        if not function.endswith('_DM') or function.endswith('_Query_DM'):
            return None
        return (smcli.one(ops, '-T', '') or '').upper() or None

    def _check_system(self, function, ops):
        """Refuse a change to the system's own users (MAINT, DIRMAINT...).

        SMAPI reference, return codes: 100/12 "Request not authorized by
        directory manager". Which entries a site's DirMaint authorization
        protects from the SMAPI servers is configuration; the lab protects
        all of the system users (modelled: the stricter case). Creating one
        still gets DirMaint's 400/8 "already defined".
        """
        target = self._changed_entry(function, ops)
        if (function != 'Image_Create_DM' and target and
                sysusers.is_system(self.zvm.get_user(target))):
            raise SMAPIError(100, 12, 'Request not authorized by directory '
                             'manager: %s is a system user' % target)

    def _check_held(self, function, ops):
        """Refuse a change to an entry someone else holds locked (400/12).

        A lock held outside the connector (an administrator's DIRM LOCK,
        another DirMaint client) is set from the control API; it refuses
        ``count`` changes, then goes away (count 0: until released).
        """
        target = self._changed_entry(function, ops)
        user = self.zvm.get_user(target) if target else None
        held = user and user.get('held_by')
        if not held:
            return
        held['refused'] += 1
        if held['count'] and held['refused'] >= held['count']:
            user['held_by'] = None
        raise _locked(target)

    def _user(self, ops, flag='-T'):
        userid = smcli.one(ops, flag, '').upper()
        user = self.zvm.get_user(userid)
        if user is None:
            # "Image not found"
            raise SMAPIError(400, 4, 'Image %s not found' % userid)
        return userid, user

    # -- host --------------------------------------------------------------
    def do_System_Processor_Query(self, ops):
        n = self.zvm.host['cpus_total']
        lines = ['Partition mode: ESA', '',
                 'ADDRESS STATUS TYPE CORE_ID']
        for i in range(n):
            status = 'MASTER' if i == 0 else 'ALTERNATE'
            lines.append('%02X %s IFL %04X' % (i, status, i))
        return '\n'.join(lines) + '\n'

    def do_System_Information_Query(self, ops):
        mem = smcli.mem_text(self.zvm.host['memory_mb'])
        # smtLayer reads the 3rd '='-field of the first word and the 2nd
        # of the fifth.
        return ('STORAGE=STORAGE=%s CONFIGURED=%s INC=256M STANDBY=0 '
                'RESERVED=0\n' % (mem, mem))

    def do_System_Performance_Information_Query(self, ops):
        used_mb = sum(u['memory_mb'] for u in self.zvm.users.values()
                      if u['power'] != 'off')
        return 'MEMORY_IN_USE=%d\n' % (used_mb * 256)

    def do_SSI_Query(self, ops):
        name = self.zvm.host.get('ssi_name')
        if not name:
            return ('ssi_name = \nssi_mode = \nssi_pdr = \n'
                    'cross_system_timeouts = \noutput.ssiInfoCount = 0\n')
        return ('ssi_name = %s\nssi_mode = Stable\nssi_pdr = IAS7CM_on_139E\n'
                'cross_system_timeouts = Enabled\noutput.ssiInfoCount = 1\n'
                'member_slot = 1\nmember_system_id = %s\n'
                'member_state = Joined\nmember_pdr_heartbeat = '
                '12/28/2026_05:10:21\nmember_received_heartbeat = '
                '12/28/2026_05:10:21\n'
                % (name, self.zvm.host['system_name']))

    def do_System_WWPN_Query(self, ops):
        # No FCP devices: the lab has no SCSI volumes (the server asks
        # at start-up to sync its FCP database).
        return ''

    def do_Image_Volume_Space_Query_DM(self, ops):
        """DirMaint's space query, per volume and extent as smtLayer reads it.

        ``-q 1`` definitions (``-e 1`` volumes: "VOLID TYPE SIZE"; ``-e 3``
        groups: "GROUP VOLID..."), ``-q 2`` free and ``-q 3`` used extents,
        one line each: "VOLID TYPE START SIZE GROUP" (smtLayer.getHost sums
        them per group; a volume lists each free extent separately).
        """
        query = smcli.one(ops, '-q', '1')
        entry = smcli.one(ops, '-e', '3')
        names = (smcli.one(ops, '-n', '*') or '*').upper().split()
        lines = []
        for name in sorted(self.zvm.pools):
            pool = self.zvm.pools[name]
            dev = '3390-54' if pool['type'] == 'ECKD' else '9336-00'
            vols = pool['volumes']
            if query == '1' and entry == '1':
                lines.extend('%s %s %d' % (v['volid'], dev, v['size'])
                             for v in vols if '*' in names or
                             v['volid'] in names)
                continue
            if '*' not in names and name not in names:
                continue
            if query == '1':
                lines.append(' '.join([name] + [v['volid'] for v in vols]))
            elif query == '2':
                for v in vols:
                    lines.extend('%s %s %04d %d %s' % (
                        v['volid'], dev, start, length, name)
                        for start, length in v['free'])
            elif query == '3':
                for disk in self._used_extents(name):
                    lines.append('%s %s %04d %d %s' % (
                        disk['volume'], dev, disk['start'], disk['size'],
                        name))
        return '\n'.join(lines) + ('\n' if lines else '')

    def _used_extents(self, pool_name):
        return [d for u in self.zvm.users.values()
                for d in u['minidisks'].values()
                if d['pool'] == pool_name and d.get('volume')]

    # -- power -------------------------------------------------------------
    def do_Image_Activate(self, ops):
        userid, user = self._user(ops)
        if user['power'] != 'off':
            # Also while a logoff is still in progress: CP logs a user on
            # only once it is fully logged off.
            raise SMAPIError(200, 8, 'Image %s already active' % userid)
        self.check_macids(userid, user['nics'])
        user['power'] = 'on'
        # The guest answers over IUCV once it has booted.
        boot = self.zvm.settings['boot_seconds']
        user['os_up'] = boot <= 0
        if boot > 0:
            user['os_up_at'] = time.monotonic() + boot
        # What the running guest has: its directory at logon.
        user['active_cpus'] = list(dirmaint.user_cpu_addrs(user))
        user['active_memory_mb'] = user['memory_mb']
        for nic in user['nics'].values():
            # CP defines the directory's NICs at logon and couples them
            # where the directory says, if the user is authorized.
            nic['active'] = True
            vsw = self.zvm.vswitches.get(nic.get('dir_vswitch') or '')
            nic['active_vswitch'] = (nic['dir_vswitch'] if vsw is not None
                                     and userid in vsw['grants'] else None)
        self.assign_macs(user)
        guestnet.boot(self.zvm, userid, user)
        user['console'] += ('z/VM V7.3.0 LOGON %s\nIPL %s\nLinux version '
                            '6.1.0 (nova-zvm lab) booting\n'
                            % (userid, user['ipl'] or '0100'))
        return ''

    def do_Image_Deactivate(self, ops):
        """Log a guest off: at once with IMMED, else after its shutdown.

        Without IMMED, CP signals the guest and waits until it has shut
        down, at most ``WITHIN n`` seconds or the system's signal timeout,
        then logs it off (CP SIGNAL SHUTDOWN / FORCE; SMAPI reference,
        Image_Deactivate). Meanwhile the guest is still logged on and a
        second request gets 200/16 "Image being deactivated"
        (rcdescriptions.c). A guest set to ignore the signal
        (``shutdown: 'ignore'``) takes the whole timeout. A halted guest
        is treated as answering at once: how long CP waits for a guest in
        a disabled wait is not in the public sources.
        """
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(200, 12, 'Image %s not active' % userid)
        if self.zvm.logging_off(user):
            raise SMAPIError(200, 16, 'Image %s being deactivated' % userid)
        force = ' '.join(ops.get('-f', [])).upper().split()
        settings = self.zvm.settings
        wait = 0.0
        if 'IMMED' not in force:
            timeout = settings['signal_timeout']
            if force[:1] == ['WITHIN'] and len(force) > 1:
                timeout = float(force[1])
            wait = min(timeout, self._shutdown_seconds(user))
        self.zvm.begin_logoff(userid, user,
                              wait + settings['logoff_seconds'])
        return ''

    def _shutdown_seconds(self, user):
        """How long the guest's OS takes to shut down once signalled."""
        if not user.get('os_up', True) and user.get('os_halt_at') is None:
            return 0.0
        if user.get('os_halt_at') is not None:
            # Already shutting down (``shutdown -h`` over IUCV).
            return max(0.0, user['os_halt_at'] - time.monotonic())
        shutdown = user.get('shutdown', 0)
        return float('inf') if shutdown == 'ignore' else float(shutdown)

    def do_Image_Pause(self, ops):
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(200, 12, 'Image %s not active' % userid)
        pause = smcli.keywords(ops).get('PAUSE', 'YES')
        user['power'] = 'paused' if pause == 'YES' else 'on'
        return ''

    def do_Image_Performance_Query(self, ops):
        names = smcli.last(ops, '-T', '').upper().split()
        blocks = []
        for userid in names:
            user = self.zvm.get_user(userid)
            if user is None or user['power'] == 'off':
                continue
            blocks.append(self.perf_block(userid, user))
        return '\n\n'.join(blocks) + '\n' if blocks else '%d\n' % len(names)

    def perf_block(self, userid, user):
        mem_kb = user['memory_mb'] * 1024
        return '\n'.join([
            'Guest name: %s' % userid,
            'Record version: "1"',
            'Guest flags: "0"',
            'Used CPU time: "%d uS"' % (1000000 * user['vcpus']),
            'Elapsed time: "%d uS"' % 3600000000,
            'Minimum memory: "0 KB"',
            'Max memory: "%d KB"' % mem_kb,
            'Shared memory: "0 KB"',
            'Used memory: "%d KB"' % (mem_kb // 2),
            'Active CPUs in CEC: "%d"' % self.zvm.host['cpus_total'],
            'Logical CPUs in VM: "%d"' % self.zvm.host['cpus_total'],
            'Guest CPUs: "%d"' % user['vcpus'],
            'Minimum CPU count: "%d"' % user['vcpus'],
            'Max CPU limit: "10000"',
            'Processor share: "100"',
            'Samples CPU in use: "100"',
            'Samples CPU delay: "10"',
            'Samples page wait: "0"',
            'Samples idle: "1000"',
            'Samples other: "5"',
            'Samples total: "1115"',
            'Guest state: "00"',
        ])

    def do_System_Image_Performance_Query(self, ops):
        listname = smcli.last(ops, '-T', '').upper()
        members = self.zvm.namelists.get(listname, [])
        blocks = [self.perf_block(u, self.zvm.get_user(u)) for u in members
                  if self.zvm.get_user(u) is not None and
                  self.zvm.get_user(u)['power'] != 'off']
        return '\n\n'.join(blocks) + '\n' if blocks else ''

    # -- name lists (the monitor keeps managed guests in one) --------------
    def do_Name_List_Add(self, ops):
        name = smcli.one(ops, '-T', '').upper()
        member = smcli.one(ops, '-n', '').upper()
        members = self.zvm.namelists.setdefault(name, [])
        if member not in members:
            members.append(member)
        return ''

    def do_Name_List_Remove(self, ops):
        name = smcli.one(ops, '-T', '').upper()
        member = smcli.one(ops, '-n', '').upper()
        members = self.zvm.namelists.get(name, [])
        if member in members:
            members.remove(member)
        return ''

    def do_Name_List_Query(self, ops):
        name = smcli.one(ops, '-T', '').upper()
        if name not in self.zvm.namelists:
            raise SMAPIError(4, 4, 'Name list %s not found' % name)
        return ''.join('%s\n' % m for m in self.zvm.namelists[name])

    def do_Name_List_Destroy(self, ops):
        self.zvm.namelists.pop(smcli.one(ops, '-T', '').upper(), None)
        return ''

    # -- console and reader ------------------------------------------------
    def do_Image_Console_Get(self, ops):
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(8, 8, 'Image %s not logged on' % userid)
        # CP closes the console spool file and hands it to the caller;
        # output after that goes to a new file: each call gets only what
        # is new since the last one (zvmsdk appends it to its own log).
        new = user['console'][user.get('console_read', 0):]
        user['console_read'] = len(user['console'])
        path = os.path.join(self.zvm.spool_dir, 'console-%s-%d' % (
            userid, self.zvm.next_spoolid))
        with open(path, 'w') as f:
            f.write(new)
        self.zvm.spool_add(self.zvm.smt_userid, userid, 'CON', 'T',
                           '%s CONSOLE' % userid, path, len(new))
        return ''

    def do_System_RDR_File_Manage(self, ops):
        userid, user = self._user(ops)
        self.zvm.purge_reader(userid)
        return ''
