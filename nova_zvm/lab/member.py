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


"""The processes of an SSI lab, and the channel between them.

The lab process (owner) holds the cluster's one fake z/VM and the first
member's connector. It starts one process per further member
(``python -m nova_zvm.lab --member-of <control url> --member-name N``);
there zvmsdk's boundary is a ``RemoteDispatcher`` that runs each command
in the owner, as that member, through ``POST /_lab/members/<N>/exec``.
Member state dirs live under the owner's, so the file paths in commands
(punch files, images) are valid in both processes.
"""

import json
import logging
import os
import shlex
import subprocess
import sys
import types
import urllib.request

from nova_zvm.lab import readiness
from nova_zvm.lab import zvm as fake_zvm

LOG = logging.getLogger('nova_zvm.lab')

START_TIMEOUT = 60.0
# A command can wait for DirMaint's queue and injected latency.
EXEC_TIMEOUT = 900.0

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(url, method='GET', body=None, timeout=30.0):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        'Content-Type': 'application/json'})
    with _OPENER.open(req, timeout=timeout) as r:
        return json.loads(r.read())


class RemoteDispatcher(object):
    """zvmsdk's boundary in a member process: commands run in the owner."""

    def __init__(self, control_url, name):
        self.base = '%s/_lab/members/%s/' % (control_url, name)
        # boundary.install sets path_map: zvmsdk's hard-coded paths are
        # mapped here, where they belong to this member's state dir.
        self.zthin = types.SimpleNamespace(path_map=None)

    def run(self, cmd):
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        pmap = self.zthin.path_map
        cmd = [pmap(str(c)) if pmap else str(c) for c in cmd]
        d = _request(self.base + 'exec', 'POST', {'cmd': cmd},
                     timeout=EXEC_TIMEOUT)
        output = d['output']
        if d.get('bytes'):
            output = output.encode('latin-1')
        if d['rc']:
            if d.get('not_emulated'):
                e = fake_zvm.NotEmulated('command', cmd[0], output)
                e.message = d['not_emulated']
                raise e
            raise fake_zvm.CommandFailed(d['rc'], output)
        return output


class RemoteHost(object):
    """The member's host figures (for /proc/sysinfo), read from the owner."""

    def __init__(self, control_url, name):
        self.url = '%s/_lab/members/%s' % (control_url, name)

    @property
    def host(self):
        return _request(self.url)['host']


def execute(dispatcher, cmd):
    """Run one member's command in the owner; the exec endpoint's answer."""
    try:
        out, rc, extra = dispatcher.run(cmd), 0, {}
    except fake_zvm.NotEmulated as e:
        LOG.error('%s (command: %s)', e.message, ' '.join(cmd))
        out, rc, extra = e.output, e.returncode, {
            'not_emulated': e.message}
    except fake_zvm.CommandFailed as e:
        out, rc, extra = e.output, e.returncode, {}
    if isinstance(out, bytes):
        extra['bytes'] = True
        out = out.decode('latin-1')
    return dict(extra, rc=rc, output=out or '')


def control_route(lab, method, parts, data):
    """``/_lab/members...``: the cluster's part of the control API."""
    cluster = lab.cluster
    if not parts or parts[0] != 'members':
        return None
    if method == 'GET' and len(parts) == 1:
        return '200 OK', cluster.state()
    member = cluster.member(parts[1])
    action = parts[2] if len(parts) > 2 else ''
    if method == 'GET' and not action:
        return '200 OK', dict(cluster.view(member.name), host=member.host)
    if method == 'POST' and action == 'exec':
        dispatcher = cluster.dispatcher(member.name, lab.paths)
        return '200 OK', execute(dispatcher, data['cmd'])
    if method == 'POST' and action == 'logon':
        # XAUTOLOG at this member, outside any connector (an operator).
        dispatcher = cluster.dispatcher(member.name, lab.paths)
        return '200 OK', execute(dispatcher, [
            'smcli', 'Image_Activate', '-T', data['userid'].upper()])
    if method == 'POST' and action == 'fail':
        cluster.fail(member.name)
        lab.stop_member_connector(member)
        return '200 OK', member.view()
    if method == 'PUT' and not action:
        with cluster.zvm.lock:
            if 'memory_mb' in data:
                member.host['memory_mb'] = int(data['memory_mb'])
            for rdev, dev in member.fcps.items():
                if 'fcps_offline' in data:
                    dev['offline'] = rdev in {
                        d.upper() for d in data['fcps_offline']}
            for name in data.get('vswitches', []):
                member.vswitches.setdefault(name.upper(), {'grants': {}})
            # Grants made outside this member's connector (SYSTEM CONFIG,
            # an administrator): {vswitch: [userid, ...]}.
            for name, userids in data.get('grants', {}).items():
                vsw = member.vswitches[name.upper()]
                for userid in userids:
                    vsw['grants'].setdefault(userid.upper(), {'vlan': None})
            for name in data.get('remove_vswitches', []):
                member.vswitches.pop(name.upper(), None)
        return '200 OK', member.view()
    return None


def member_name(lab, name):
    """A member's system name; a lab of one system is its only member."""
    if lab.cluster is not None:
        return lab.cluster.member(name).name
    if name.upper() != lab.zvm.host['system_name'].upper():
        raise KeyError('no system %s in this lab (it is %s; start it with '
                       'members > 1 for an SSI cluster)'
                       % (name, lab.zvm.host['system_name']))
    return name.upper()


def fcp_view(lab, name=None):
    """A member's FCP devices (default: the first) with their owners."""
    from nova_zvm.lab import fcp
    from nova_zvm.lab import ssi
    zvm = lab.zvm
    view, devices = zvm, zvm.fcps
    if lab.cluster is not None:
        member = lab.cluster.member(name) if name else lab.cluster.first
        view, devices = ssi.MemberZVM(zvm, member), member.fcps
    elif name:
        member_name(lab, name)
    with zvm.lock:
        return {r: dict(d, owner=fcp.owner(view, r))
                for r, d in devices.items()}


def instrument_route(lab, method, parts, data):
    """``/_lab/members/<N>/{faults,latency,calls,fcps}``: one member's.

    Faults and latency set here apply only to the commands that member's
    connector runs; the same calls without ``members/<N>/`` apply to all.
    """
    if len(parts) != 3 or parts[0] != 'members':
        return None
    zvm = lab.zvm
    name, what = member_name(lab, parts[1]), (method, parts[2])
    if what == ('POST', 'faults'):
        zvm.inject_fault(data['name'], data['rc'], data.get('rs', 0),
                         data.get('nth', 1), data.get('count', 1),
                         member=name)
        with zvm.lock:
            return '200 OK', [f.to_dict() for f in zvm.faults
                              if f.member == name]
    if what == ('DELETE', 'faults'):
        zvm.clear_faults(member=name)
        return '200 OK', []
    if what == ('PUT', 'latency'):
        zvm.set_latency(data, member=name)
        return '200 OK', data
    if what == ('GET', 'calls'):
        return '200 OK', zvm.calls(member=name)
    if what == ('GET', 'fcps'):
        return '200 OK', fcp_view(lab, name)
    return None


def volume_route(lab, method, parts, data):
    """``/_lab/storage...``, ``/_lab/fcps``, ``/_lab/users/<id>/volumes``."""
    zvm = lab.zvm
    array = getattr(zvm, 'storage', None)
    if array is None or not parts:
        return None
    if parts == ['storage'] and method == 'GET':
        return '200 OK', array.state()
    if parts == ['storage', 'luns'] and method == 'POST':
        array.create_lun(data['target_wwpn'], data['lun'],
                         data.get('size_gb', 1), data.get('image'))
        return '200 OK', array.state()
    if parts == ['storage', 'mappings'] and method in ('POST', 'DELETE'):
        change = array.map if method == 'POST' else array.unmap
        change(data['initiators'], data['target_wwpn'], data['lun'])
        return '200 OK', array.state()
    if parts == ['fcps'] and method == 'GET':
        # This (first) system's FCP devices with their owners.
        return '200 OK', fcp_view(lab)
    if (len(parts) == 3 and parts[0] == 'users' and parts[2] == 'volumes'
            and method == 'GET'):
        from nova_zvm.lab import fcp
        with zvm.lock:
            user = zvm.get_user(parts[1])
            if user is None:
                return '404 Not Found', {'error': 'no user %s' % parts[1]}
            return '200 OK', {
                'dedicate': [list(p) for p in fcp.dedicated(user)],
                'attached': dict(user.get('attached') or {}),
                'scsi_disks': dict(user.get('scsi_disks') or {}),
                'zvmguestconfigure_exit': user.get(
                    'zvmguestconfigure_exit'),
                'booted_from': user.get('booted_from'),
                'network': dict(user.get('guest_network') or {})}
    return None


class MemberProcesses(object):
    """Start, and stop, one lab process per member after the first."""

    def __init__(self, lab):
        self.lab = lab
        self.procs = {}

    def spawn(self, members, control_url):
        """Start the member processes (``wait`` collects their info)."""
        logs = []
        for member in members:
            state_dir = os.path.join(self.lab.paths['state'], 'members',
                                     member.name)
            os.makedirs(state_dir, exist_ok=True)
            cmd = [sys.executable, '-m', 'nova_zvm.lab', '--ready-json',
                   '--exit-with-parent', '--host', self.lab.host,
                   '--port', '0', '--auth', self.lab.auth,
                   '--state-dir', state_dir,
                   '--user-profile', self.lab.opts['user_profile'],
                   '--log-level', self.lab.opts['log_level'],
                   '--member-of', control_url, '--member-name', member.name]
            for pool in self.lab.disk_pools:
                cmd += ['--disk-pool', pool]
            if self.lab.tls:
                cmd.append('--tls')
            log = open(os.path.join(state_dir, 'lab.log'), 'ab')
            logs.append(log)
            self.procs[member.name] = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=log,
                stdin=subprocess.DEVNULL, cwd=state_dir)
        # Each child has its own copy of its log's descriptor.
        for log in logs:
            log.close()

    def wait(self, members):
        for member in members:
            member.info = self._wait_ready(member.name)

    def _wait_ready(self, name):
        proc = self.procs[name]
        line = readiness.ready_line(proc, 'NOVA_ZVM_LAB_READY ',
                                    START_TIMEOUT)
        if line is not None:
            info = json.loads(line)
            return {k: info[k] for k in (
                'url', 'token_file', 'ca_file', 'state_dir', 'pid')}
        raise RuntimeError('SSI member %s did not start (exit code %s); '
                           'see its lab.log' % (name, proc.poll()))

    def stop(self, name=None):
        names = [name] if name else list(self.procs)
        for n in names:
            readiness.stop(self.procs.pop(n, None))
