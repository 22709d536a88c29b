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


"""Fake SMAPI (with DirMaint behind it), answered the way ``smcli`` does.

``smcli <function> --addRCheader <operands>`` prints a header line
``"<overallRC> <rc> <rs> (details) <text>"`` and the response body; on
failure it exits non-zero and smtLayer parses that header, so an error
(real or injected) travels through smtLayer's and zvmsdk's own error
paths. Return/reason codes follow the SMAPI reference where the server
tests for them (e.g. 400/4 "image not found", 200/8 "already active",
200/12 "not active").
"""

import os

from nova_zvm.lab import zvm as fake_zvm


class SMAPIError(fake_zvm.CommandFailed):
    def __init__(self, rc, rs, text=''):
        super().__init__(8, '8 %d %d (details) %s\n%s\n' % (rc, rs, text,
                                                            text))


def parse_operands(args):
    """smcli operands as {flag: [values]}; '-f IMMED' may be one token."""
    tokens = []
    for a in args:
        if a.startswith('-') and ' ' in a:
            flag, _, value = a.partition(' ')
            tokens.extend([flag, value])
        else:
            tokens.append(a)
    ops = {}
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.startswith('-') and len(t) == 2:
            value = tokens[i + 1] if i + 1 < len(tokens) else ''
            ops.setdefault(t, []).append(value)
            i += 2
        else:
            ops.setdefault('', []).append(t)
            i += 1
    return ops


def _one(ops, flag, default=None):
    return ops.get(flag, [default])[0]


def _last(ops, flag, default=None):
    # "SMAPI <target> API <fn> --operands -T x": smtLayer passes its own
    # -T <target> first, the caller's operands after it.
    return ops.get(flag, [default])[-1]


def _keywords(ops):
    """-k KEY=VALUE operands as a dict (keys upper-cased)."""
    kw = {}
    for item in ops.get('-k', []):
        key, _, value = item.partition('=')
        kw[key.strip().upper()] = value.strip()
    return kw


def memory_mb(text):
    text = text.strip().upper()
    num, unit = float(text[:-1]), text[-1]
    return int(num * {'K': 1.0 / 1024, 'M': 1, 'G': 1024, 'T': 1024 * 1024}[
        unit])


def mem_text(mb):
    return '%dG' % (mb // 1024) if mb % 1024 == 0 and mb else '%dM' % mb


class SMAPI(object):
    def __init__(self, zvm):
        self.zvm = zvm

    def call(self, function, args):
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
        ops = parse_operands(args)
        with self.zvm.lock:
            body = handler(ops)
        return '0 0 0 (details) None\n' + (body or '')

    def _user(self, ops, flag='-T'):
        userid = _one(ops, flag, '').upper()
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
        mem = mem_text(self.zvm.host['memory_mb'])
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
        query = _one(ops, '-q', '1')
        names = (_one(ops, '-n', '*') or '*').upper().split()
        pools = [n for n in sorted(self.zvm.pools)
                 if '*' in names or n in names]
        lines = []
        for i, name in enumerate(pools):
            pool = self.zvm.pools[name]
            dev = '3390-54' if pool['type'] == 'ECKD' else '9336-00'
            vol = 'LAB%03d' % (i + 1)
            if query == '1':
                lines.append('%s %s' % (name, vol) if _one(ops, '-e') != '1'
                             else '%s %s %d' % (vol, dev[:4],
                                                pool['total']))
            elif query == '2':
                lines.append('%s %s 1 %d %s' % (vol, dev, pool['free'], name))
            elif query == '3':
                used = pool['total'] - pool['free']
                lines.append('%s %s 1 %d %s' % (vol, dev, used, name))
        return '\n'.join(lines) + ('\n' if lines else '')

    # -- directory ---------------------------------------------------------
    def do_Image_Name_Query_DM(self, ops):
        return ''.join('%s\n' % u for u in sorted(self.zvm.users))

    def do_Image_Query_DM(self, ops):
        userid, user = self._user(ops)
        return '\n'.join(self.directory(userid, user)) + '\n'

    def directory(self, userid, user):
        """The user's directory entry as DirMaint prints it."""
        lines = ['USER %s %s %s %s G' % (
            userid, user.get('password') or 'LBYONLY',
            mem_text(user['memory_mb']), mem_text(user['max_memory_mb']))]
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
            if nic.get('mac'):
                line += ' MACID %s' % nic['mac'].replace(':', '')[-6:]
            lines.append(line)
        for vdev, disk in sorted(user['minidisks'].items()):
            dev = '3390' if disk['type'] == 'ECKD' else '9336'
            lines.append('MDISK %s %s 0001 %d LAB001 %s' % (
                vdev, dev, disk['size'], disk.get('mode', 'MR')))
        return lines

    def do_Image_Create_DM(self, ops):
        userid = _one(ops, '-T', '').upper()
        if self.zvm.get_user(userid) is not None:
            raise SMAPIError(400, 8, 'Image %s already defined' % userid)
        path = _one(ops, '-f')
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
        self.zvm.delete_user(userid)
        return ''

    def do_Image_Disk_Create_DM(self, ops):
        userid, user = self._user(ops)
        vdev = _one(ops, '-v').upper()
        if vdev in user['minidisks']:
            raise SMAPIError(596, 3588, 'Device %s already defined' % vdev)
        pool_name = _one(ops, '-r', '').upper()
        size = int(_one(ops, '-z', '0'))
        pool = self.zvm.pools.get(pool_name)
        if pool is None:
            raise SMAPIError(596, 3603, 'Disk pool %s not found' % pool_name)
        dev_type = _one(ops, '-t')
        want = 'ECKD' if dev_type == '3390' else 'FBA'
        if pool['type'] != want:
            raise SMAPIError(596, 3604, 'Disk pool %s holds %s, not %s'
                             % (pool_name, pool['type'], dev_type))
        if not self.zvm.allocate(pool_name, size):
            raise SMAPIError(596, 3602, 'Not enough free space in disk pool '
                             '%s' % pool_name)
        user['minidisks'][vdev] = {'pool': pool_name, 'size': size,
                                   'unit': pool['unit'], 'type': pool['type'],
                                   'mode': _one(ops, '-m', 'W'),
                                   'format': None}
        return ''

    def do_Image_Disk_Create(self, ops):
        # Links the new minidisk into a running guest: nothing to track.
        self._user(ops)
        return ''

    def do_Image_Disk_Delete_DM(self, ops):
        userid, user = self._user(ops)
        vdev = _one(ops, '-v').upper()
        disk = user['minidisks'].pop(vdev, None)
        if disk is None:
            raise SMAPIError(208, 36, 'Device %s not found' % vdev)
        self.zvm.pools[disk['pool']]['free'] += disk['size']
        self.zvm.disk_contents.pop((userid, vdev), None)
        return ''

    def do_Image_Disk_Delete(self, ops):
        self._user(ops)
        return ''

    def do_Image_IPL_Set_DM(self, ops):
        userid, user = self._user(ops)
        user['ipl'] = _one(ops, '-s').upper()
        return ''

    def do_Image_IPL_Delete_DM(self, ops):
        userid, user = self._user(ops)
        user['ipl'] = None
        return ''

    # -- power -------------------------------------------------------------
    def do_Image_Activate(self, ops):
        userid, user = self._user(ops)
        if user['power'] != 'off':
            raise SMAPIError(200, 8, 'Image %s already active' % userid)
        user['power'] = 'on'
        user['os_up'] = True
        # What the running guest has: its directory at logon.
        user['active_cpus'] = list(user_cpu_addrs(user))
        user['active_memory_mb'] = user['memory_mb']
        for nic in user['nics'].values():
            # CP defines the directory's NICs at logon and couples them
            # where the directory says, if the user is authorized.
            nic['active'] = True
            vsw = self.zvm.vswitches.get(nic.get('dir_vswitch') or '')
            nic['active_vswitch'] = (nic['dir_vswitch'] if vsw is not None
                                     and userid in vsw['grants'] else None)
        user['console'] += ('z/VM V7.3.0 LOGON %s\nIPL %s\nLinux version '
                            '6.1.0 (nova-zvm lab) booting\n'
                            % (userid, user['ipl'] or '0100'))
        return ''

    def do_Image_Deactivate(self, ops):
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(200, 12, 'Image %s not active' % userid)
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
        return ''

    def do_Image_Pause(self, ops):
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(200, 12, 'Image %s not active' % userid)
        pause = _keywords(ops).get('PAUSE', 'YES')
        user['power'] = 'paused' if pause == 'YES' else 'on'
        return ''

    def do_Image_Performance_Query(self, ops):
        names = _last(ops, '-T', '').upper().split()
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
        listname = _last(ops, '-T', '').upper()
        members = self.zvm.namelists.get(listname, [])
        blocks = [self.perf_block(u, self.zvm.get_user(u)) for u in members
                  if self.zvm.get_user(u) is not None and
                  self.zvm.get_user(u)['power'] != 'off']
        return '\n\n'.join(blocks) + '\n' if blocks else ''

    # -- name lists (the monitor keeps managed guests in one) --------------
    def do_Name_List_Add(self, ops):
        name = _one(ops, '-T', '').upper()
        member = _one(ops, '-n', '').upper()
        members = self.zvm.namelists.setdefault(name, [])
        if member not in members:
            members.append(member)
        return ''

    def do_Name_List_Remove(self, ops):
        name = _one(ops, '-T', '').upper()
        member = _one(ops, '-n', '').upper()
        members = self.zvm.namelists.get(name, [])
        if member in members:
            members.remove(member)
        return ''

    def do_Name_List_Query(self, ops):
        name = _one(ops, '-T', '').upper()
        if name not in self.zvm.namelists:
            raise SMAPIError(4, 4, 'Name list %s not found' % name)
        return ''.join('%s\n' % m for m in self.zvm.namelists[name])

    def do_Name_List_Destroy(self, ops):
        self.zvm.namelists.pop(_one(ops, '-T', '').upper(), None)
        return ''

    # -- console and reader ------------------------------------------------
    def do_Image_Console_Get(self, ops):
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(8, 8, 'Image %s not logged on' % userid)
        # CP closes the console spool file and hands it to the caller.
        path = os.path.join(self.zvm.spool_dir, 'console-%s-%d' % (
            userid, self.zvm.next_spoolid))
        with open(path, 'w') as f:
            f.write(user['console'])
        self.zvm.spool_add(self.zvm.smt_userid, userid, 'CON', 'T',
                           '%s CONSOLE' % userid, path,
                           len(user['console']))
        return ''

    def do_System_RDR_File_Manage(self, ops):
        userid, user = self._user(ops)
        self.zvm.purge_reader(userid)
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
        with open(_last(ops, '-f')) as f:
            entry = [line.strip() for line in f if line.strip()]
        apply_directory(user, entry)
        user['locked'] = False
        return ''

    # -- NICs --------------------------------------------------------------
    def _nic(self, user, vdev, create=False):
        vdev = vdev.upper().zfill(4)
        nic = user['nics'].get(vdev)
        if nic is None and create:
            nic = user['nics'][vdev] = {
                'vswitch': None, 'mac': None, 'defined': False,
                'active': False, 'dir_vswitch': None, 'dir_vlan': None,
                'active_vswitch': None}
        return vdev, nic

    def do_Virtual_Network_Adapter_Create_Extended_DM(self, ops):
        userid, user = self._user(ops)
        kw = _keywords(ops)
        vdev, nic = self._nic(user, kw['IMAGE_DEVICE_NUMBER'], create=True)
        if nic['defined']:
            raise SMAPIError(400, 12, 'NIC %s already defined' % vdev)
        nic['defined'] = True
        if kw.get('MAC_ID'):
            nic['mac'] = _mac(kw['MAC_ID'])
        elif not nic['mac']:
            nic['mac'] = self._new_mac()
        return ''

    def _new_mac(self):
        # CP assigns a MACID from the system's VMLAN range.
        self.zvm.next_macid += 1
        return _mac('%06X' % self.zvm.next_macid)

    def do_Virtual_Network_Adapter_Create_Extended(self, ops):
        userid, user = self._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(200, 12, 'Image %s not active' % userid)
        vdev, nic = self._nic(user, _keywords(ops)['IMAGE_DEVICE_NUMBER'],
                              create=True)
        nic['active'] = True
        if not nic['mac']:
            nic['mac'] = self._new_mac()
        return ''

    def do_Virtual_Network_Adapter_Delete_DM(self, ops):
        userid, user = self._user(ops)
        vdev, nic = self._nic(user, _last(ops, '-v'))
        if nic is None or not nic['defined']:
            raise SMAPIError(404, 8, 'NIC %s not defined' % vdev)
        if nic['active']:
            nic['defined'] = False
            nic['dir_vswitch'] = nic['dir_vlan'] = None
        else:
            del user['nics'][vdev]
        return ''

    def do_Virtual_Network_Adapter_Delete(self, ops):
        userid, user = self._user(ops)
        vdev, nic = self._nic(user, _last(ops, '-v'))
        if nic is None or not nic['active']:
            raise SMAPIError(204, 8, 'NIC %s not active' % vdev)
        nic['active'] = False
        nic['active_vswitch'] = None
        if not nic['defined']:
            del user['nics'][vdev]
        return ''

    def do_Virtual_Network_Adapter_Connect_Vswitch(self, ops):
        userid, user = self._user(ops)
        vdev, nic = self._nic(user, _last(ops, '-v'))
        name = _last(ops, '-n', '').upper()
        if nic is None or not nic['active']:
            raise SMAPIError(204, 8, 'NIC %s not active' % vdev)
        self._vswitch(name)
        if userid not in self.zvm.vswitches[name]['grants']:
            # CP: not authorized to couple to this vswitch
            raise SMAPIError(204, 28, '%s not authorized for vswitch %s'
                             % (userid, name))
        if nic['active_vswitch'] == name:
            raise SMAPIError(204, 20, 'NIC %s already coupled' % vdev)
        nic['active_vswitch'] = name
        return ''

    def do_Virtual_Network_Adapter_Disconnect(self, ops):
        userid, user = self._user(ops)
        vdev, nic = self._nic(user, _last(ops, '-v'))
        if nic is None or not nic['active_vswitch']:
            raise SMAPIError(204, 48, 'NIC %s not coupled' % vdev)
        nic['active_vswitch'] = None
        return ''

    def do_Virtual_Network_Adapter_Disconnect_DM(self, ops):
        userid, user = self._user(ops)
        vdev, nic = self._nic(user, _last(ops, '-v'))
        if nic is None or not nic['dir_vswitch']:
            raise SMAPIError(212, 32, 'NIC %s not connected' % vdev)
        nic['dir_vswitch'] = nic['dir_vlan'] = None
        return ''

    # -- vswitches ---------------------------------------------------------
    def _vswitch(self, name):
        vsw = self.zvm.vswitches.get(name.upper())
        if vsw is None:
            raise SMAPIError(212, 40, 'Vswitch %s does not exist' % name)
        return vsw

    def do_Virtual_Network_Vswitch_Query(self, ops):
        name = _last(ops, '-s', '*').strip("'").upper()
        names = sorted(self.zvm.vswitches) if name == '*' else [name]
        lines = []
        for n in names:
            self._vswitch(n)
            lines += ['VSWITCH:  Name: %s' % n,
                      '  Type: QDIO      Connected: 0    Maxconn: INFINITE',
                      '  PERSISTENT  RESTRICTED    ETHERNET   Accounting: OFF',
                      '  USERBASED   VLAN Aware']
        return '\n'.join(lines) + '\n'

    def do_Virtual_Network_Vswitch_Set_Extended(self, ops):
        kw = _keywords(ops)
        vsw = self._vswitch(kw.get('SWITCH_NAME', ''))
        if 'REVOKE_USERID' in kw:
            vsw['grants'].pop(kw['REVOKE_USERID'].upper(), None)
            return ''
        if 'GRANT_USERID' in kw:
            grant = vsw['grants'].setdefault(kw['GRANT_USERID'].upper(),
                                             {'vlan': None})
            if kw.get('USER_VLAN_ID'):
                grant['vlan'] = int(kw['USER_VLAN_ID'])
            return ''
        raise fake_zvm.NotEmulated(
            'SMAPI function', 'Virtual_Network_Vswitch_Set_Extended %s'
            % ' '.join(sorted(kw)))

    def do_Virtual_Network_Vswitch_Query_Extended(self, ops):
        name = _keywords(ops).get('SWITCH_NAME', '').upper()
        vsw = self._vswitch(name)
        basic = [('switch_name', name), ('switch_type', 'QDIO'),
                 ('port_type', 'ACCESS'), ('queue_memory_limit', '8'),
                 ('routing_value', 'NONROUTER'), ('vlan_awareness', 'AWARE'),
                 ('vlan_id', '1'), ('native_vlan_id', '1'),
                 ('mac_address', '02-00-00-00-00-01'),
                 ('gvrp_request_attribute', 'NOGVRP'),
                 ('gvrp_enabled_attribute', 'NOGVRP'),
                 ('switch_status', '3'), ('link_ag', 'NO'),
                 ('lag_interval', '0'), ('lag_group', '(NONE)'),
                 ('IP_timeout', '5'), ('switch_type', 'QDIO'),
                 ('isolation_status', 'OFF'), ('MAC_protect', 'UNSPECIFIED'),
                 ('user_port_based', 'USERBASED'), ('vlan_counters', 'OFF')]
        lines = ['%s: %s' % kv for kv in basic]
        lines += ['vepa_status: OFF',
                  'real_device_address: 1000',
                  'virtual_device_address: 0600',
                  'controller_name: DTCVSW1',
                  'port_name: (NONE)',
                  'device_status: 3',
                  'device_error_status 1']
        for port, (userid, grant) in enumerate(sorted(
                vsw['grants'].items()), 1):
            vlans = [] if grant['vlan'] is None else [grant['vlan']]
            lines += ['port_num: %04d' % port,
                      'grant_userid: %s' % userid,
                      'promiscuous_mode: NOPROM',
                      'osd_sim: NOOSDSIM',
                      'vlan_count: %d' % len(vlans)]
            lines += ['user_vlan_id: %04d' % v for v in vlans]
        for userid, vdev, nic in self.zvm.couplings(name, active_only=True):
            lines += ['adapter_owner: %s' % userid,
                      'adapter_vdev: %s' % vdev,
                      'adapter_macaddr: %s' % (nic['mac'] or '').replace(
                          ':', '-').upper(),
                      'adapter_type: QDIO']
        return '\n'.join(lines) + '\n'

    def do_Virtual_Network_Adapter_Query_Extended(self, ops):
        """Active NICs of a running guest, in SMAPI's key=value form."""
        userid, user = self._user(ops)
        nics = [(vdev, nic) for vdev, nic in sorted(user['nics'].items())
                if nic['active'] and user['power'] != 'off']
        lines = ['adapter_count=%d' % len(nics)]
        for vdev, nic in nics:
            lines += ['adapter_address=%s' % vdev,
                      'port_type=ACCESS',
                      'extended_port_status=0',
                      'adapter_type=QDIO',
                      'adapter_status=%s' % (
                          '02' if nic['active_vswitch'] else '01'),
                      'lan_owner=SYSTEM',
                      'lan_name=%s' % (nic['active_vswitch'] or ''),
                      'mac_address=%s' % (nic['mac'] or '').replace(
                          ':', '').upper(),
                      'mac_address_type=PRIME',
                      'adapter_info_end']
        return '\n'.join(lines) + '\n'


def _mac(mac_id):
    """A full MAC address from DirMaint's 6-digit MACID (prefix 02:00:00)."""
    m = mac_id.replace(':', '').replace('-', '').upper().zfill(6)[-6:]
    return '02:00:00:%s:%s:%s' % (m[0:2], m[2:4], m[4:6])


def apply_directory(user, entry):
    """Update a user's state from a full directory entry (list of lines)."""
    fields = entry[0].split()
    user['password'] = fields[2]
    user['memory_mb'] = memory_mb(fields[3])
    user['max_memory_mb'] = memory_mb(fields[4])
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
                nic['mac'] = _mac(opts['MACID'])
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
