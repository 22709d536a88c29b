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


"""An SSI cluster: members that share one directory and disk pools.

The lab process owns the one fake z/VM (directory, pools, spool) and runs
the first member's Cloud Connector; every other member runs its own
connector in its own process (zvmsdk keeps its config and database in
module globals) whose boundary sends each command here over the control
channel (``member.py``). Each command runs through that member's
dispatcher, which sees the shared state through a ``MemberZVM``: the
member's own system name, memory, vswitches (with their grants) and
dedicatable devices, and only the guests logged on at this member.

A guest belongs to the member it logged on at (``user['member']``; a
guest logged on without one belongs to the first member). What real CP
does for a guest logged on at another member, as modelled here:

* ``QUERY userid`` / ``QUERY USER userid`` answer ``userid - SSI`` (the
  form zvmsdk's ``check_userid_on_others`` looks for);
* SMAPI calls on the running guest (not directory calls) get 200/12
  "image not active" from this member; ``Image_Activate`` gets 200/8;
* IUCV to it fails (IUCV does not cross members).
"""

import re

from nova_zvm.lab import boundary
from nova_zvm.lab import fcp
from nova_zvm.lab import scsi
from nova_zvm.lab import smcli
from nova_zvm.lab import stats
from nova_zvm.lab import zvm as fake_zvm

SMAPIError = smcli.SMAPIError

SSI_NAME = 'LABSSI'

# Member system names: ZVMLAB01 (the single-system default), ZVMLAB02...
NAME_FORMAT = 'ZVMLAB%02d'

# SMAPI VMRELOCATE reports a CP refusal as rc 8 rs 3000 with the CP
# messages on a "Details:" line (smtLayer/migrateVM.py reads that line,
# and looks for "0045" when the guest is not logged on). The message ids
# below follow CP's HCPRLx pattern; their exact numbers and text could not
# be verified against IBM's message book and are modelled.
RELOCATE_RC, RELOCATE_RS = 8, 3000


class Member(object):
    """One SSI member: its own system, vswitches, devices and connector."""

    def __init__(self, name, slot, host, vswitches):
        self.name = name
        self.slot = slot
        self.host = dict(host, system_name=name, ssi_name=SSI_NAME)
        self.vswitches = vswitches
        # This member's FCP subchannels (fcp.py), unique NPIV WWPNs.
        self.fcps = fcp.default_devices(slot)
        self.failed = False
        # The member's connector: {'url', 'token_file', ...} once started.
        self.info = None

    def view(self):
        return {'name': self.name, 'slot': self.slot,
                'memory_mb': self.host['memory_mb'],
                'fcps_offline': sorted(r for r, d in self.fcps.items()
                                       if d['offline']),
                'failed': self.failed,
                'vswitches': {n: {'grants': sorted(v['grants'])}
                              for n, v in self.vswitches.items()},
                'connector': self.info}


class MemberZVM(object):
    """The shared fake z/VM as one member sees it.

    Everything is shared except the host figures and the vswitches.
    """

    def __init__(self, shared, member):
        self.__dict__.update(_shared=shared, member=member,
                             host=member.host, vswitches=member.vswitches,
                             fcps=member.fcps)

    def __getattr__(self, name):
        return getattr(self._shared, name)

    def __setattr__(self, name, value):
        setattr(self._shared, name, value)

    def record(self, kind, name):
        # Faults and latency can target this member's calls only.
        return self._shared.record(kind, name, member=self.member.name)


def _elsewhere_error(userid, member):
    return SMAPIError(200, 12, 'Image %s not active on %s (logged on at '
                      'another SSI member)' % (userid, member))


class MemberDispatcher(boundary.Dispatcher):
    """Route one member's commands, with the SSI rules above."""

    CP_QUERY = re.compile(r'(?:QUERY|Q)(?: USER)? (\S+)$')

    def __init__(self, cluster, member, paths):
        super().__init__(MemberZVM(cluster.zvm, member), paths)
        self.cluster = cluster
        self.member = member
        smapi = self.smapi
        smapi.do_SSI_Query = lambda ops: cluster.ssi_query()
        smapi.do_VMRELOCATE = lambda ops: cluster.vmrelocate(member, ops)
        activate = smapi.do_Image_Activate

        def do_Image_Activate(ops):
            userid = smcli.last(ops, '-T', '').upper()
            where = cluster.where(userid)
            if where not in (None, member.name):
                raise SMAPIError(200, 8, 'Image %s already active on %s'
                                 % (userid, where))
            user = cluster.zvm.get_user(userid)
            if user is None:
                return activate(ops)
            # The guest is this member's from the moment it is logged on:
            # never (even between two statements of the logon) a guest
            # "logged on at another member", which zvmsdk's
            # check_guests_exist_in_db would mark migrated in this
            # member's connector.
            previous = user.get('member')
            user['member'] = member.name
            try:
                return activate(ops)
            except Exception:
                if user['power'] == 'off':
                    user['member'] = previous
                raise

        smapi.do_Image_Activate = do_Image_Activate
        fcp.install(self)
        scsi.install(self, cluster.zvm.storage)
        stats.install(self)

    def elsewhere(self, userid):
        where = self.cluster.where(userid)
        return where is not None and where != self.member.name

    def run(self, cmd):
        cmd = boundary.argv(cmd)
        if self.member.failed:
            raise fake_zvm.CommandFailed(
                1, 'nova-zvm lab: SSI member %s has failed\n'
                % self.member.name)
        prog = cmd[0].rsplit('/', 1)[-1] if cmd else ''
        if prog == 'smcli' and len(cmd) > 1:
            fn = cmd[1]
            ops = smcli.parse_operands(cmd[2:])
            userid = (smcli.last(ops, '-T', '') or '').upper()
            if (not fn.endswith('_DM') and fn not in (
                    'Image_Activate', 'VMRELOCATE') and userid and
                    self.elsewhere(userid)):
                self.zvm.record('smapi', fn)
                raise _elsewhere_error(userid, self.member.name)
        elif prog == 'vmcp':
            text = ' '.join(' '.join(cmd[1:]).split()).upper()
            m = self.CP_QUERY.match(text)
            if m and self.elsewhere(m.group(1)):
                if self.zvm.record('cp', text) is None:
                    return '%s - SSI\n' % m.group(1)
        elif prog == 'iucvclnt' and len(cmd) > 1 and self.elsewhere(cmd[1]):
            self.zvm.record('zthin', prog)
            raise fake_zvm.CommandFailed(
                4, 'ERROR: Failed to connect to %s over IUCV: '
                'Return code 4, Reason code 0.\n' % cmd[1].upper())
        return super().run(cmd)


class Cluster(object):
    """The members of one SSI cluster around one shared fake z/VM."""

    def __init__(self, zvm, count):
        self.zvm = zvm
        self.members = {}
        for slot in range(1, count + 1):
            name = NAME_FORMAT % slot
            # The first member keeps the single system's vswitches, so
            # the lab's existing state view shows them; the others start
            # with the same vswitch names and no grants.
            vswitches = zvm.vswitches if slot == 1 else {
                n: {'grants': {}} for n in zvm.vswitches}
            self.members[name] = Member(name, slot, zvm.host, vswitches)
        first = self.members[NAME_FORMAT % 1]
        zvm.host.update(first.host)
        first.host = zvm.host
        zvm.fcps = first.fcps
        self.dispatchers = {}

    @property
    def first(self):
        return self.members[NAME_FORMAT % 1]

    def member(self, name):
        member = self.members.get(name.upper())
        if member is None:
            raise KeyError('no SSI member %s (members: %s)'
                           % (name, ', '.join(sorted(self.members))))
        return member

    def dispatcher(self, name, paths):
        member = self.member(name)
        if name not in self.dispatchers:
            self.dispatchers[name] = MemberDispatcher(self, member, paths)
        return self.dispatchers[name]

    def where(self, userid):
        """The member a guest is logged on at, or None when logged off."""
        # Locked: a logon in progress (power and member set one after the
        # other) is seen whole or not at all.
        with self.zvm.lock:
            user = self.zvm.get_user(userid)
            if user is None or user['power'] == 'off':
                return None
            return user.get('member') or self.first.name

    def guests_at(self, name):
        return sorted(uid for uid in self.zvm.users
                      if self.where(uid) == name)

    def view(self, name):
        """A member's view, its guests and their active NIC couplings."""
        member = self.member(name)
        with self.zvm.lock:
            guests = self.guests_at(member.name)
            view = dict(member.view(), guests=guests)
            for vsw in view['vswitches']:
                view['vswitches'][vsw]['couplings'] = [
                    '%s.%s' % (u, d) for u, d, _ in self.zvm.couplings(
                        vsw, active_only=True) if u in guests]
        return view

    # -- SMAPI -------------------------------------------------------------
    def ssi_query(self):
        lines = ['ssi_name = %s' % SSI_NAME, 'ssi_mode = Stable',
                 'ssi_pdr = LABPDR_on_0100',
                 'cross_system_timeouts = Enabled',
                 'output.ssiInfoCount = %d' % len(self.members)]
        for m in sorted(self.members.values(), key=lambda m: m.slot):
            lines += ['member_slot = %d' % m.slot,
                      'member_system_id = %s' % m.name,
                      'member_state = %s' % ('Down' if m.failed
                                             else 'Joined'),
                      'member_pdr_heartbeat = 12/01/2026_12:00:00',
                      'member_received_heartbeat = 12/01/2026_12:00:00']
        return '\n'.join(lines) + '\n'

    def vmrelocate(self, source, ops):
        kw = smcli.keywords(ops)
        userid = smcli.last(ops, '-T', '').upper()
        action = kw.get('ACTION', '').upper()
        if action not in ('TEST', 'MOVE'):
            raise SMAPIError(24, 13, 'VMRELOCATE action must be TEST or '
                             'MOVE, not %r' % action)
        dest_name = kw.get('DESTINATION', '').upper()
        reasons = self.relocation_refusals(userid, source, dest_name)
        if reasons:
            raise SMAPIError(RELOCATE_RC, RELOCATE_RS, (
                'VMRELOCATE %s failed\nDetails: %s' % (action,
                                                       '; '.join(reasons))))
        if action == 'MOVE':
            user = self.zvm.get_user(userid)
            user['member'] = dest_name
            user['console'] += ('HCPRLH1939I %s has been relocated from %s '
                                'to %s\n' % (userid, source.name,
                                             dest_name))
        return ''

    def relocation_refusals(self, userid, source, dest_name):
        """What stops CP from relocating the guest (empty: nothing)."""
        if self.where(userid) != source.name:
            return ['HCPRLH0045E %s not logged on' % userid]
        head = 'HCPRLH1940E %s is not relocated from %s to %s' % (
            userid, source.name, dest_name)
        dest = self.members.get(dest_name)
        if dest is None:
            return [head, 'HCPRLH1941I %s is not a member of SSI cluster %s'
                    % (dest_name, SSI_NAME)]
        if dest is source:
            return [head, 'HCPRLH1942I the destination is the source '
                    'system']
        if dest.failed:
            return [head, 'HCPRLH1943I %s is not available' % dest_name]
        user = self.zvm.get_user(userid)
        reasons = []
        for vdev, nic in sorted(user['nics'].items()):
            vsw = nic.get('active_vswitch')
            if not vsw:
                continue
            if vsw not in dest.vswitches:
                reasons.append('HCPRLL1945I NIC %s is coupled to VSWITCH %s,'
                               ' which is not defined on %s'
                               % (vdev, vsw, dest_name))
            elif userid not in dest.vswitches[vsw]['grants']:
                reasons.append('HCPRLL1946I %s is not authorized to VSWITCH '
                               '%s on %s' % (userid, vsw, dest_name))
        memory = user.get('active_memory_mb') or user['memory_mb']
        free = dest.host['memory_mb'] - sum(
            (self.zvm.users[u].get('active_memory_mb') or
             self.zvm.users[u]['memory_mb']) for u in self.guests_at(
                dest_name))
        if memory > free:
            reasons.append('HCPRLI1947I %s has too little storage available '
                           '(%d MB needed, %d MB free)'
                           % (dest_name, memory, free))
        dest_view = MemberZVM(self.zvm, dest)
        for vdev, rdev in sorted((user.get('attached') or {}).items()):
            dev = dest.fcps.get(rdev)
            if dev is None or dev['offline'] or fcp.owner(
                    dest_view, rdev) not in (None, userid):
                reasons.append('HCPRLE1948I dedicated device %s (virtual '
                               '%s) is not available on %s'
                               % (rdev, vdev, dest_name))
        return [head] + reasons if reasons else []

    # -- failures ----------------------------------------------------------
    def fail(self, name):
        """The member goes down: its guests vanish, its connector stops."""
        member = self.member(name)
        with self.zvm.lock:
            member.failed = True
            for uid in self.guests_at(member.name):
                user = self.zvm.users[uid]
                self.zvm.logoff(uid, user)
                user.pop('member', None)
        return member

    def state(self):
        with self.zvm.lock:
            return {'ssi_name': SSI_NAME,
                    'members': {n: self.view(n) for n in self.members}}
