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

from nova_zvm.lab import pools
from nova_zvm.lab import sysusers


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

# Behaviour switches, settable per lab (profile "settings", control API):
# dirmaint_serial: directory (*_DM) calls queue one at a time, latency
#   included, as in DirMaint's single service machine;
# signal_timeout: seconds CP waits for a guest to answer the shutdown
#   signal of a non-IMMED Image_Deactivate before it forces the logoff (SET
#   SIGNAL SHUTDOWNTIME; real systems use minutes, tests want fractions);
# logoff_seconds: how long a logoff takes once forced (CP frees the
#   guest's storage and devices); 0 = at once.
# boot_seconds: how long after logon a guest answers over IUCV.
# punch_held: the next n vmur punches find another vmur instance (an
#   operator's, another tool's) holding the punch: tests make a collision
#   happen on demand this way.
DEFAULT_SETTINGS = {'dirmaint_serial': True, 'signal_timeout': 5.0,
                    'logoff_seconds': 0.0, 'boot_seconds': 0.0,
                    'punch_held': 0}


class Fault(object):
    """Fail the nth (and the following count-1) calls of one name.

    ``member``: only calls run by that SSI member's connector (None: any).
    """

    def __init__(self, name, rc, rs, nth=1, count=1, member=None):
        self.name = name.upper()
        self.member = member.upper() if member else None
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
                'fired': self.fired, 'member': self.member}


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
                 latency=None, settings=None):
        self.lock = threading.RLock()
        # DirMaint is one service machine working through one request queue
        # (IBM: "z/VM Directory Maintenance Facility Tailoring and
        # Administration"): directory calls never overlap when serial.
        self.dirmaint_queue = threading.Lock()
        # Entries a directory call is changing right now (non-serial mode).
        self.dirmaint_busy = set()
        self.settings = dict(DEFAULT_SETTINGS)
        self.set_settings(settings or {})
        self.smt_userid = smt_userid
        self.user_profile = user_profile
        self.users = {}
        # A real directory is never empty: MAINT, DirMaint, SMAPI, TCP/IP.
        sysusers.add_system_users(self)
        self.pools = {}
        self._volids = set()
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
        # Per SSI member: {member: profile}, consulted before self.latency.
        self.member_latency = {}
        # Bounded: a lab under devstack runs for days.
        self._calls = collections.deque(maxlen=MAX_CALLS)
        # Spool files by id: {'id', 'owner', 'origin', 'class', 'type',
        # 'name', 'path', 'size'}; a user's reader is the files it owns.
        self.spool = {}
        self.next_spoolid = 1
        self.spool_dir = None
        self.namelists = {}
        # Unit record devices a vmur instance is using right now.
        self.vmur_busy = set()
        self.next_macid = 0x100000
        # Captured/imported image files are zvmsdk's; these are the disk
        # contents the fake DASD holds: {(userid, vdev): image path}.
        self.disk_contents = {}

    # -- configuration -----------------------------------------------------
    def add_pool(self, spec, total=None):
        """Add a disk pool: ``TYPE:NAME`` or ``TYPE:NAME:COUNTxSIZE``."""
        name, pool = pools.new_pool(spec, self._volids, total)
        self.pools[name] = pool

    # -- instrumentation ---------------------------------------------------
    def record(self, kind, name, member=None):
        """Log the call, apply latency, and raise an injected fault.

        ``member``: the SSI member whose connector runs the call (default:
        this system).
        """
        label = '%s:%s' % (kind, name)
        member = (member or self.host['system_name']).upper()
        self.settle()
        with self.lock:
            self._calls.append((label, member))
            delay = self._delay(kind, name, member)
            fault = None
            for f in self.faults:
                if (f.member in (None, member) and
                        _matches(f.name, kind, name) and f.check()):
                    fault = f
                    break
        if delay:
            time.sleep(float(delay))
        return fault

    def _delay(self, kind, name, member=None):
        """Latency for one call: the most specific name in the profile.

        Tried in order: the exact name ('Image_Create_DM', 'QUERY USER X'),
        'kind:name', for CP each shorter prefix of its words ('QUERY USER',
        'QUERY', with or without 'cp:'), then 'kind:*', then '*'. The
        member's own profile first (a slow member), then the cluster's.
        """
        keys = [name, '%s:%s' % (kind, name)]
        if kind == 'cp':
            words = name.split()
            for n in range(len(words) - 1, 0, -1):
                prefix = ' '.join(words[:n])
                keys += [prefix, 'cp:' + prefix]
        keys += ['%s:*' % kind, '*']
        for profile in (self.member_latency.get(member, {}), self.latency):
            for key in keys:
                if key in profile:
                    return float(profile[key])
        return 0

    def note(self, label, member=None):
        """Log an event in the call log (no latency, no faults)."""
        member = (member or self.host['system_name']).upper()
        with self.lock:
            self._calls.append((label, member))

    def calls(self, member=None):
        """The calls' labels, oldest first; ``member``: only its calls."""
        with self.lock:
            return [label for label, by in self._calls
                    if member is None or by == member.upper()]

    def reset_calls(self):
        with self.lock:
            self._calls.clear()

    def inject_fault(self, name, rc, rs=0, nth=1, count=1, member=None):
        with self.lock:
            self.faults.append(Fault(name, rc, rs, nth, count, member))

    def clear_faults(self, member=None):
        """Drop all faults, or only those injected for ``member``."""
        with self.lock:
            self.faults[:] = [f for f in self.faults if member is not None
                              and f.member != member.upper()]

    def set_latency(self, latency, member=None):
        """Replace the cluster's profile, or ``member``'s own."""
        with self.lock:
            if member is None:
                self.latency = dict(latency)
            elif latency:
                self.member_latency[member.upper()] = dict(latency)
            else:
                self.member_latency.pop(member.upper(), None)

    def set_settings(self, settings):
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError('unknown lab settings: %s' % sorted(unknown))
        with self.lock:
            self.settings.update(settings)

    # -- logoff in progress ------------------------------------------------
    def begin_logoff(self, userid, user, after):
        """Log the user off ``after`` seconds from now (0: at once).

        Meanwhile the user is still logged on (CP QUERY USER answers, SMAPI
        says 200/16 "Image being deactivated").
        """
        if after <= 0:
            self.logoff(userid, user)
        else:
            user['logoff_at'] = time.monotonic() + after

    def settle(self):
        """Finish the logoffs whose time has come; called on every access."""
        now = time.monotonic()
        with self.lock:
            for userid, user in list(self.users.items()):
                up = user.get('os_up_at')
                if up is not None and up <= now:
                    user.pop('os_up_at')
                    user['os_up'] = user['power'] != 'off'
                halt = user.get('os_halt_at')
                if halt is not None and halt <= now:
                    user.pop('os_halt_at')
                    user['os_up'] = False
                at = user.get('logoff_at')
                if at is not None and at <= now:
                    self.logoff(userid, user)

    def logoff(self, userid, user):
        user.pop('logoff_at', None)
        user.pop('os_halt_at', None)
        user.pop('os_up_at', None)
        user['power'] = 'off'
        user['os_up'] = False
        user['console'] += 'LOGOFF %s\n' % userid
        for vdev, nic in list(user['nics'].items()):
            # NICs defined only in the running guest go away at logoff.
            if not nic.get('defined'):
                del user['nics'][vdev]
            else:
                nic['active'] = False
                nic['active_vswitch'] = None
                # The next logon defines it from the directory's MACID.
                if nic.get('dir_mac'):
                    nic['mac'] = nic.pop('dir_mac')

    @staticmethod
    def logging_off(user):
        return user.get('logoff_at') is not None

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
        # CP numbers spool files 1-9999 and wraps, but never hands out the
        # id of a file that still exists (CP "Spool file ID numbers").
        for _ in range(9999):
            sid = self.next_spoolid
            self.next_spoolid = sid % 9999 + 1
            if sid not in self.spool:
                break
        else:
            raise CommandFailed(1, 'HCPSPP2402E Spool file limit reached; '
                                   'no spool ID available\n')
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
            self.release(disk)
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

    def nics_with_macid(self, macid):
        """(userid, vdev, nic) for active NICs whose MAC ends in ``macid``."""
        return [(uid, vdev, nic) for uid, user in sorted(self.users.items())
                for vdev, nic in sorted(user['nics'].items())
                if nic.get('active') and nic.get('mac') and
                nic['mac'].replace(':', '')[-6:].upper() == macid]

    def allocate(self, pool_name, size):
        """Place a minidisk in one volume: ``(volid, start)``, None, False."""
        pool = self.pools.get(pool_name.upper())
        return None if pool is None else pools.allocate(pool, size)

    def release(self, disk):
        pools.release(self.pools.get(disk['pool']), disk)

    pool_view = staticmethod(pools.view)

    # -- snapshot ----------------------------------------------------------
    @staticmethod
    def _nic_view(nic):
        vswitch = nic.get('active_vswitch') or nic.get('dir_vswitch')
        return {'vswitch': vswitch,
                'mac': nic.get('mac'),
                'directory_mac': nic.get('dir_mac') or (
                    nic.get('mac') if nic.get('dir_macid') else None),
                'vlan': nic.get('dir_vlan'),
                'defined': nic.get('defined', False),
                'active': nic.get('active', False),
                'coupled_active': bool(nic.get('active_vswitch')),
                'coupled_directory': bool(nic.get('dir_vswitch'))}

    def state(self):
        self.settle()
        with self.lock:
            users = {}
            for uid, u in self.users.items():
                users[uid] = {
                    'vcpus': u['vcpus'], 'max_vcpus': u['max_vcpus'],
                    'memory_mb': u['memory_mb'],
                    'max_memory_mb': u['max_memory_mb'],
                    'profile': u['profile'], 'ipl': u['ipl'],
                    'power': u['power'],
                    'logging_off': self.logging_off(u),
                    'shutdown': u.get('shutdown', 0),
                    'held_by': u.get('held_by'),
                    'active_vcpus': len(u.get('active_cpus') or []) if
                    u['power'] != 'off' else 0,
                    'active_memory_mb': u.get('active_memory_mb', 0) if
                    u['power'] != 'off' else 0,
                    'minidisks': copy.deepcopy(u['minidisks']),
                    'nics': {vdev: self._nic_view(nic)
                             for vdev, nic in u['nics'].items()},
                    'reader': self.reader(uid),
                    'console': u['console'],
                    'system': sysusers.is_system(u),
                }
            return {
                'users': users,
                # The entries nova's guests can be: all but the system's.
                'guests': {uid: u for uid, u in users.items()
                           if not u['system']},
                'pools': {name: self.pool_view(pool)
                          for name, pool in self.pools.items()},
                'vswitches': {
                    name: {'grants': copy.deepcopy(v['grants']),
                           'couplings': ['%s.%s' % (u, d) for u, d, _ in
                                         self.couplings(name)]}
                    for name, v in self.vswitches.items()},
                'host': dict(self.host),
                'faults': [f.to_dict() for f in self.faults],
                'latency': dict(self.latency),
                'member_latency': copy.deepcopy(self.member_latency),
                'settings': dict(self.settings),
            }
