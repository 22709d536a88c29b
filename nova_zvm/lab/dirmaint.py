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


"""DirMaint behind SMAPI: user directory entries, minidisks, CPUs.

The statements the lab models (USER, INCLUDE, MACHINE, CPU, IPL, NICDEF,
MDISK) are kept as state; the rest of an entry is kept as text and
printed back as it came.
"""

from nova_zvm.lab import smcli
from nova_zvm.lab import vnet
from nova_zvm.lab import zvm as fake_zvm

SMAPIError = smcli.SMAPIError


class DirectoryFunctions(object):
    """SMAPI functions that read or change the user directory."""

    def do_Image_Name_Query_DM(self, ops):
        return ''.join('%s\n' % u for u in sorted(self.zvm.users))

    def do_Image_Query_DM(self, ops):
        userid, user = self._user(ops)
        return '\n'.join(self.directory(userid, user)) + '\n'

    def directory(self, userid, user):
        """The user's directory entry as DirMaint prints it."""
        lines = ['USER %s %s %s %s G' % (
            userid, user.get('password') or 'LBYONLY',
            smcli.mem_text(user['memory_mb']),
            smcli.mem_text(user['max_memory_mb']))]
        if user['profile']:
            lines.append('INCLUDE %s' % user['profile'])
        lines.append('MACHINE ESA %d' % user['max_vcpus'])
        lines.extend(user['directory_extra'])
        for addr in user_cpu_addrs(user):
            lines.append('CPU %s' % addr)
        if user['ipl']:
            lines.append('IPL %s' % user['ipl'])
        for vdev, nic in sorted(user['nics'].items()):
            if not nic.get('defined', True):
                continue
            line = 'NICDEF %s TYPE QDIO DEVICES 3' % vdev
            if nic.get('dir_vswitch'):
                line += ' LAN SYSTEM %s' % nic['dir_vswitch']
                if nic.get('dir_vlan') is not None:
                    line += ' VLAN %s PORTTYPE %s' % (
                        nic['dir_vlan'], nic.get('porttype') or 'ACCESS')
            dir_mac = nic.get('dir_mac') or nic.get('mac')
            if dir_mac and nic.get('dir_macid'):
                line += ' MACID %s' % dir_mac.replace(':', '')[-6:]
            lines.append(line)
        for vdev, disk in sorted(user['minidisks'].items()):
            dev = '3390' if disk['type'] == 'ECKD' else '9336'
            lines.append('MDISK %s %s %04d %d %s %s' % (
                vdev, dev, disk.get('start', 1), disk['size'],
                disk.get('volume', 'LAB001'), disk.get('mode', 'MR')))
        return lines

    def do_Image_Create_DM(self, ops):
        userid = smcli.one(ops, '-T', '').upper()
        if self.zvm.get_user(userid) is not None:
            raise SMAPIError(400, 8, 'Image %s already defined' % userid)
        path = smcli.one(ops, '-f')
        with open(path) as f:
            entry = [line.strip() for line in f if line.strip()]
        # USER <id> <pw> <mem> <maxmem> <classes>, then statements.
        user = {'vcpus': 1, 'max_vcpus': 1, 'minidisks': {}, 'nics': {}}
        apply_directory(user, entry)
        if user['profile'] and user['profile'] not in self.zvm.profiles:
            # DirMaint: the profile to INCLUDE does not exist
            raise SMAPIError(436, 4, 'Profile %s not found' % user['profile'])
        new = self.zvm.new_user(
            userid, vcpus=user['vcpus'], memory_mb=user['memory_mb'],
            max_vcpus=user['max_vcpus'],
            max_memory_mb=user['max_memory_mb'], profile=user['profile'],
            ipl=user['ipl'], extra=user['directory_extra'])
        new['password'] = user['password']
        new['cpu_addrs'] = user.get('cpu_addrs') or ['00']
        new['nics'] = user['nics']
        return ''

    def do_Image_Delete_DM(self, ops):
        userid, user = self._user(ops)
        if user['power'] != 'off':
            # A user that is logged on or still logging off cannot be
            # purged yet: zvmsdk knows this as 596/6831 "delete VM not
            # finished" (smtclient.delete_userid). Whether DirMaint also
            # refuses a user that is plainly logged on is not in the
            # public sources; the lab refuses both (the stricter case).
            raise SMAPIError(596, 6831, 'DVHPUR6831E User %s is still '
                             'logged on; the purge is not finished'
                             % userid)
        self.zvm.delete_user(userid)
        return ''

    def do_Image_Disk_Create_DM(self, ops):
        userid, user = self._user(ops)
        vdev = smcli.one(ops, '-v').upper()
        if vdev in user['minidisks']:
            raise SMAPIError(596, 3588, 'Device %s already defined' % vdev)
        pool_name = smcli.one(ops, '-r', '').upper()
        size = int(smcli.one(ops, '-z', '0'))
        pool = self.zvm.pools.get(pool_name)
        if pool is None:
            raise SMAPIError(596, 3603, 'Disk pool %s not found' % pool_name)
        dev_type = smcli.one(ops, '-t')
        want = 'ECKD' if dev_type == '3390' else 'FBA'
        if pool['type'] != want:
            raise SMAPIError(596, 3604, 'Disk pool %s holds %s, not %s'
                             % (pool_name, pool['type'], dev_type))
        place = self.zvm.allocate(pool_name, size)
        if not place:
            # rcdescriptions.c, 408/24: "Not enough free disk available. If
            # it's ECKD disk, also might be the maximum free space among
            # all DASDs in the storage pool is less than required space".
            raise SMAPIError(408, 24, 'Not enough free disk available in '
                             'group %s for %d %s in one volume'
                             % (pool_name, size, pool['unit']))
        user['minidisks'][vdev] = {'pool': pool_name, 'size': size,
                                   'unit': pool['unit'], 'type': pool['type'],
                                   'volume': place[0], 'start': place[1],
                                   'mode': smcli.one(ops, '-m', 'W'),
                                   'format': None}
        return ''

    def do_Image_Disk_Create(self, ops):
        # Links the new minidisk into a running guest: nothing to track.
        self._user(ops)
        return ''

    def do_Image_Disk_Delete_DM(self, ops):
        userid, user = self._user(ops)
        vdev = smcli.one(ops, '-v').upper()
        disk = user['minidisks'].pop(vdev, None)
        if disk is None:
            raise SMAPIError(208, 36, 'Device %s not found' % vdev)
        self.zvm.release(disk)
        self.zvm.disk_contents.pop((userid, vdev), None)
        return ''

    def do_Image_Disk_Delete(self, ops):
        self._user(ops)
        return ''

    def do_Image_IPL_Set_DM(self, ops):
        userid, user = self._user(ops)
        user['ipl'] = smcli.one(ops, '-s').upper()
        return ''

    def do_Image_IPL_Delete_DM(self, ops):
        userid, user = self._user(ops)
        user['ipl'] = None
        return ''

    # -- directory statements ----------------------------------------------
    def _definition_items(self, ops):
        """-k NAME=KEY=VALUE operands as [(NAME, KEY, VALUE)]."""
        items = []
        for item in ops.get('-k', []):
            parts = item.split('=', 2)
            items.append((parts[0].upper(), parts[1].upper() if len(
                parts) > 1 else '', parts[2] if len(parts) > 2 else ''))
        return items

    def do_Image_Definition_Create_DM(self, ops):
        userid, user = self._user(ops)
        addrs = user_cpu_addrs(user)
        for name, key, value in self._definition_items(ops):
            if name == 'CPU' and key == 'CPUADDR':
                addr = value.upper().zfill(2)
                if addr in addrs:
                    raise SMAPIError(400, 8, 'CPU %s already defined' % addr)
                if int(addr, 16) >= user['max_vcpus']:
                    raise SMAPIError(400, 24, 'CPU %s beyond MACHINE ESA %d'
                                     % (addr, user['max_vcpus']))
                addrs.append(addr)
            else:
                raise fake_zvm.NotEmulated(
                    'SMAPI function', 'Image_Definition_Create_DM %s' % name)
        user['cpu_addrs'] = sorted(addrs)
        user['vcpus'] = len(user['cpu_addrs'])
        return ''

    def do_Image_Definition_Delete_DM(self, ops):
        userid, user = self._user(ops)
        addrs = user_cpu_addrs(user)
        for name, key, value in self._definition_items(ops):
            if name == 'CPU' and key == 'CPUADDR':
                addr = value.upper().zfill(2)
                if addr in addrs:
                    addrs.remove(addr)
            else:
                raise fake_zvm.NotEmulated(
                    'SMAPI function', 'Image_Definition_Delete_DM %s' % name)
        user['cpu_addrs'] = sorted(addrs)
        user['vcpus'] = len(user['cpu_addrs'])
        return ''

    def do_Image_Definition_Update_DM(self, ops):
        userid, user = self._user(ops)
        cpus_seen = False
        for name, key, value in self._definition_items(ops):
            if name == 'CPU' and key == 'CPUADDR':
                # Defines the CPU if it is not yet in the directory.
                user_cpu_addrs(user).append(value.upper().zfill(2))
                cpus_seen = True
            elif name == 'SHARE':
                extra = [line for line in user['directory_extra']
                         if not line.upper().startswith('SHARE ')]
                extra.append('SHARE %s %s' % (key, value))
                user['directory_extra'] = extra
            else:
                raise fake_zvm.NotEmulated(
                    'SMAPI function', 'Image_Definition_Update_DM %s' % name)
        if cpus_seen:
            user['cpu_addrs'] = sorted(set(user['cpu_addrs']))
            user['vcpus'] = len(user['cpu_addrs'])
        return ''

    # -- directory locking and replacement ---------------------------------
    def do_Image_Lock_DM(self, ops):
        userid, user = self._user(ops)
        if user.get('locked'):
            raise SMAPIError(400, 12, 'Image %s already locked' % userid)
        user['locked'] = True
        return ''

    def do_Image_Unlock_DM(self, ops):
        userid, user = self._user(ops)
        if not user.get('locked'):
            raise SMAPIError(400, 24, 'Image %s not locked' % userid)
        user['locked'] = False
        return ''

    def do_Image_Replace_DM(self, ops):
        """Replace the directory entry (and unlock it), as DirMaint does.

        The statements the lab models (USER, INCLUDE, MACHINE, CPU, IPL,
        NICDEF, MDISK) update the state; others are kept as text. Minidisks
        are not reallocated by a replace: MDISK lines must match.
        """
        userid, user = self._user(ops)
        if not user.get('locked'):
            raise SMAPIError(400, 24, 'Image %s not locked' % userid)
        with open(smcli.last(ops, '-f')) as f:
            entry = [line.strip() for line in f if line.strip()]
        apply_directory(user, entry)
        user['locked'] = False
        return ''


def apply_directory(user, entry):
    """Update a user's state from a full directory entry (list of lines)."""
    fields = entry[0].split()
    user['password'] = fields[2]
    user['memory_mb'] = smcli.memory_mb(fields[3])
    user['max_memory_mb'] = smcli.memory_mb(fields[4])
    user['profile'] = None
    user['ipl'] = None
    cpu_addrs = []
    extra = []
    seen_nics = set()
    for line in entry[1:]:
        words = line.upper().split()
        if words[:1] == ['INCLUDE']:
            user['profile'] = words[1]
        elif words[:2] == ['MACHINE', 'ESA']:
            user['max_vcpus'] = int(words[2])
        elif words[:1] == ['CPU']:
            cpu_addrs.append(words[1].zfill(2))
        elif words[:3] == ['COMMAND', 'DEFINE', 'CPU']:
            # makevm defines CPUs this way; DirMaint keeps them as CPU
            # statements.
            cpu_addrs.append(words[3].zfill(2))
        elif words[:1] == ['IPL']:
            user['ipl'] = words[1]
        elif words[:1] == ['NICDEF']:
            vdev = words[1].zfill(4)
            nic = user['nics'].setdefault(vdev, {
                'vswitch': None, 'mac': None, 'defined': True,
                'active': False, 'dir_vswitch': None, 'dir_vlan': None,
                'active_vswitch': None})
            nic['defined'] = True
            if vdev not in seen_nics:
                # The first NICDEF line of a device resets its options.
                nic['dir_vswitch'] = nic['dir_vlan'] = None
                seen_nics.add(vdev)
            opts = _nicdef_options(words[2:])
            if 'SYSTEM' in opts:
                nic['dir_vswitch'] = opts['SYSTEM']
            if 'VLAN' in opts:
                nic['dir_vlan'] = int(opts['VLAN'])
            if 'PORTTYPE' in opts:
                nic['porttype'] = opts['PORTTYPE']
            if 'MACID' in opts:
                mac = vnet.mac_from_id(opts['MACID'])
                if nic['active'] and nic.get('mac') not in (None, mac):
                    # The running NIC keeps the MAC CP gave it.
                    nic['dir_mac'] = mac
                else:
                    nic['mac'] = mac
                nic['dir_macid'] = True
        elif words[:1] == ['MDISK']:
            continue
        else:
            extra.append(line)
    for vdev in list(user['nics']):
        if vdev not in seen_nics:
            nic = user['nics'][vdev]
            nic['defined'] = False
            if not nic['active']:
                del user['nics'][vdev]
    if cpu_addrs:
        user['cpu_addrs'] = sorted(set(cpu_addrs))
        user['vcpus'] = len(user['cpu_addrs'])
    user['directory_extra'] = extra


def user_cpu_addrs(user):
    addrs = user.get('cpu_addrs')
    if not addrs:
        addrs = user['cpu_addrs'] = ['%02X' % i
                                     for i in range(user['vcpus'])]
    return addrs


def _nicdef_options(words):
    """NICDEF options as a dict; ``LAN owner name`` gives ``{owner: name}``.

    zvmsdk writes ``NICDEF 1000 TYPE QDIO ... LAN SYSTEM VSW1 [VLAN n]``
    or, when coupling, a second ``NICDEF 1000 LAN SYSTEM VSW1`` line.
    """
    opts = {}
    i = 0
    while i + 1 < len(words):
        if words[i] == 'LAN' and i + 2 < len(words):
            opts[words[i + 1]] = words[i + 2]
            i += 3
        else:
            opts[words[i]] = words[i + 1]
            i += 2
    return opts
