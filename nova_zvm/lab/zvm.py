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


"""The fake z/VM's state: directory, disk pools, vswitches, spool, power.

Everything the emulated SMAPI functions, CP commands and zthin scripts
change lives here, behind one lock, so the control API can take a
consistent snapshot while the Cloud Connector's worker threads run.
"""

import collections
import copy
import threading
import time


class CommandFailed(Exception):
    """A fake z/VM command ended with a non-zero return code.

    ``output`` is what the real command would print (smtLayer parses it);
    the boundary turns this into ``subprocess.CalledProcessError``.
    """

    def __init__(self, returncode, output):
        super().__init__(output)
        self.returncode = returncode
        self.output = output


class NotEmulated(CommandFailed):
    """The lab does not know this command: fail loudly, naming it."""

    def __init__(self, kind, name, output=None):
        msg = 'nova-zvm lab: %s %s is not emulated' % (kind, name)
        super().__init__(99, output or msg)
        self.message = msg


# How many calls the lab remembers (oldest dropped first).
MAX_CALLS = 100000

# 1 cylinder of 3390 = 737,280 bytes usable for the image formats here;
# one FBA block is 512 bytes.
CYL_BYTES = 737280
BLK_BYTES = 512


class Fault(object):
    """Fail the nth (and the following count-1) calls of one name."""

    def __init__(self, name, rc, rs, nth=1, count=1):
        self.name = name.upper()
        self.rc = int(rc)
        self.rs = int(rs)
        self.nth = int(nth)
        # count <= 0 means every call from the nth on.
        self.count = int(count)
        self.seen = 0
        self.fired = 0

    def check(self):
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.count > 0 and self.fired >= self.count:
            return False
        self.fired += 1
        return True

    def to_dict(self):
        return {'name': self.name, 'rc': self.rc, 'rs': self.rs,
                'nth': self.nth, 'count': self.count, 'seen': self.seen,
                'fired': self.fired}


def _matches(fault_name, kind, name):
    """A fault names a SMAPI function, a zthin script, or a CP command.

    For CP, a prefix of words matches: 'QUERY' or 'QUERY USER' both
    match 'QUERY USER ABC'. A 'kind:' prefix ('cp:', 'smapi:') is allowed.
    """
    if ':' in fault_name:
        fkind, _, fault_name = fault_name.partition(':')
        if fkind.lower() != kind:
            return False
    name = name.upper()
    if fault_name == name:
        return True
    return kind == 'cp' and (name + ' ').startswith(fault_name + ' ')


class FakeZVM(object):
    """A z/VM system small enough to reason about in a test."""

    def __init__(self, disk_pools=None, vswitches=None, user_profile='OSDFLT',
                 smt_userid='OPNCLOUD', system_name='ZVMLAB01',
                 latency=None):
        self.lock = threading.RLock()
        self.smt_userid = smt_userid
        self.user_profile = user_profile
        self.users = {}
        self.pools = {}
        for spec in disk_pools or ['ECKD:POOL1']:
            self.add_pool(spec)
        self.vswitches = {}
        for name in vswitches or ['VSW1']:
            self.vswitches[name.upper()] = {'grants': {}}
        self.profiles = {user_profile.upper(): 'PROFILE %s\nCOMMAND SET RUN ON'
                                               % user_profile.upper()}
        self.host = {
            'system_name': system_name,
            'lpar': 'LPAR01',
            'cec_model': '8561',
            'cpus_total': 32,
            'cpus_used': 0,
            'memory_mb': 262144,
            'ipl_time': 'IPL at 11/01/26 08:00:00 UTC',
            'zvm_version': '7.3.0',
            'ssi_name': None,
        }
        self.faults = []
        self.latency = dict(latency or {})
        # Bounded: a lab under devstack runs for days.
        self._calls = collections.deque(maxlen=MAX_CALLS)
        # Spool files by id: {'id', 'owner', 'origin', 'class', 'type',
        # 'name', 'path', 'size'}; a user's reader is the files it owns.
        self.spool = {}
        self.next_spoolid = 1
        self.spool_dir = None
        self.namelists = {}
        self.next_macid = 0x100000
        # Captured/imported image files are zvmsdk's; these are the disk
        # contents the fake DASD holds: {(userid, vdev): image path}.
        self.disk_contents = {}

    # -- configuration -----------------------------------------------------
    def add_pool(self, spec, total=None):
        kind, _, name = spec.partition(':')
        kind = kind.upper()
        if kind not in ('ECKD', 'FBA') or not name:
            raise ValueError('disk pool must be ECKD:NAME or FBA:NAME, '
                             'not %r' % spec)
        unit = 'CYL' if kind == 'ECKD' else 'BLK'
        if total is None:
            # Large: 10,000 x 3390-54 volumes worth of cylinders, or the
            # same number of bytes in blocks.
            total = 65520 * 1000 if kind == 'ECKD' else (
                65520 * 1000 * CYL_BYTES // BLK_BYTES)
        self.pools[name.upper()] = {'type': kind, 'total': total,
                                    'free': total, 'unit': unit}

    # -- instrumentation ---------------------------------------------------
    def record(self, kind, name):
        """Log the call, apply latency, and raise an injected fault."""
        label = '%s:%s' % (kind, name)
        with self.lock:
            self._calls.append(label)
            delay = self._delay(kind, name)
            fault = None
            for f in self.faults:
                if _matches(f.name, kind, name) and f.check():
                    fault = f
                    break
        if delay:
            time.sleep(float(delay))
        return fault

    def _delay(self, kind, name):
        """Latency for one call: the most specific name in the profile.

        Tried in order: the exact name ('Image_Create_DM', 'QUERY USER X'),
        'kind:name', for CP each shorter prefix of its words ('QUERY USER',
        'QUERY', with or without 'cp:'), then 'kind:*', then '*'.
        """
        keys = [name, '%s:%s' % (kind, name)]
        if kind == 'cp':
            words = name.split()
            for n in range(len(words) - 1, 0, -1):
                prefix = ' '.join(words[:n])
                keys += [prefix, 'cp:' + prefix]
        keys += ['%s:*' % kind, '*']
        for key in keys:
            if key in self.latency:
                return float(self.latency[key])
        return 0

    def calls(self):
        with self.lock:
            return list(self._calls)

    def reset_calls(self):
        with self.lock:
            self._calls.clear()

    def inject_fault(self, name, rc, rs=0, nth=1, count=1):
        with self.lock:
            self.faults.append(Fault(name, rc, rs, nth, count))

    def clear_faults(self):
        with self.lock:
            del self.faults[:]

    def set_latency(self, latency):
        with self.lock:
            self.latency = dict(latency)

    # -- users -------------------------------------------------------------
    def get_user(self, userid):
        return self.users.get(userid.upper())

    def new_user(self, userid, vcpus, memory_mb, max_vcpus, max_memory_mb,
                 profile, password='', ipl=None, extra=None):
        user = {
            'vcpus': vcpus, 'max_vcpus': max_vcpus,
            'memory_mb': memory_mb, 'max_memory_mb': max_memory_mb,
            'profile': profile, 'ipl': ipl, 'power': 'off',
            'minidisks': {}, 'nics': {}, 'console': '',
            'directory_extra': list(extra or []),
            'logon_time': None,
        }
        self.users[userid.upper()] = user
        return user

    def spool_add(self, owner, origin, spool_type, spool_class, name, path,
                  size):
        sid = self.next_spoolid
        self.next_spoolid = sid % 9999 + 1
        self.spool[sid] = {'id': sid, 'owner': owner.upper(),
                           'origin': origin.upper(), 'type': spool_type,
                           'class': spool_class, 'name': name,
                           'path': path, 'size': size}
        return self.spool[sid]

    def reader(self, userid):
        return [{'id': f['id'], 'name': f['name'], 'size': f['size'],
                 'class': f['class'], 'type': f['type'], 'path': f['path']}
                for f in sorted(self.spool.values(), key=lambda f: f['id'])
                if f['owner'] == userid.upper()]

    def purge_reader(self, userid):
        for sid in [s for s, f in self.spool.items()
                    if f['owner'] == userid.upper()]:
            del self.spool[sid]

    def delete_user(self, userid):
        self.purge_reader(userid)
        user = self.users.pop(userid.upper())
        for disk in user['minidisks'].values():
            pool = self.pools.get(disk['pool'])
            if pool:
                pool['free'] += disk['size']
        # Vswitch grants are CP's and outlive the user: the connector must
        # revoke them itself (as zvmsdk's delete does).
        return user

    def couplings(self, vswitch=None, active_only=False):
        """(userid, vdev, nic) for NICs coupled to a vswitch."""
        out = []
        for userid, user in sorted(self.users.items()):
            for vdev, nic in sorted(user['nics'].items()):
                name = nic.get('active_vswitch')
                if not name and not active_only:
                    name = nic.get('dir_vswitch')
                if name and (vswitch is None or name == vswitch.upper()):
                    out.append((userid, vdev, nic))
        return out

    def allocate(self, pool_name, size):
        pool = self.pools.get(pool_name.upper())
        if pool is None:
            return None
        if pool['free'] < size:
            return False
        pool['free'] -= size
        return True

    # -- snapshot ----------------------------------------------------------
    @staticmethod
    def _nic_view(nic):
        vswitch = nic.get('active_vswitch') or nic.get('dir_vswitch')
        return {'vswitch': vswitch,
                'mac': nic.get('mac'),
                'vlan': nic.get('dir_vlan'),
                'defined': nic.get('defined', False),
                'active': nic.get('active', False),
                'coupled_active': bool(nic.get('active_vswitch')),
                'coupled_directory': bool(nic.get('dir_vswitch'))}

    def state(self):
        with self.lock:
            users = {}
            for uid, u in self.users.items():
                users[uid] = {
                    'vcpus': u['vcpus'], 'max_vcpus': u['max_vcpus'],
                    'memory_mb': u['memory_mb'],
                    'max_memory_mb': u['max_memory_mb'],
                    'profile': u['profile'], 'ipl': u['ipl'],
                    'power': u['power'],
                    'active_vcpus': len(u.get('active_cpus') or []) if
                    u['power'] != 'off' else 0,
                    'active_memory_mb': u.get('active_memory_mb', 0) if
                    u['power'] != 'off' else 0,
                    'minidisks': copy.deepcopy(u['minidisks']),
                    'nics': {vdev: self._nic_view(nic)
                             for vdev, nic in u['nics'].items()},
                    'reader': self.reader(uid),
                    'console': u['console'],
                }
            return {
                'users': users,
                'pools': copy.deepcopy(self.pools),
                'vswitches': {
                    name: {'grants': copy.deepcopy(v['grants']),
                           'couplings': ['%s.%s' % (u, d) for u, d, _ in
                                         self.couplings(name)]}
                    for name, v in self.vswitches.items()},
                'host': dict(self.host),
                'faults': [f.to_dict() for f in self.faults],
                'latency': dict(self.latency),
            }
