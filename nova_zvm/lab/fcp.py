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


"""FCP devices of one z/VM system, and dedicating them to guests.

Each system (each SSI member) has its own FCP subchannels, two paths by
default (1A00-1A07 on CHPID 27, 1B00-1B07 on CHPID 28), each device with
its own NPIV WWPN, and per CHPID a physical WWPN. ``System_WWPN_Query``
lists them in the six-line blocks zvmsdk's volumeop parses.
``Image_Device_Dedicate_DM`` / ``Undedicate_DM`` add and remove the
directory's ``DEDICATE vdev rdev`` lines; ``Image_Device_Dedicate`` /
``Undedicate`` attach a device to, or detach it from, the running guest
(``user['attached']``, which a logon fills from the DEDICATE lines).

Return codes: 404/8 for an undedicate of a vdev the entry does not have
(the connector's rollback ignores it, as for real); a device that does
not exist or belongs to another running guest gives 204/8 with CP's
reason; a vdev already in the entry 404/4. The last two pairs are
modelled, not taken from the SMAPI reference.
"""

from nova_zvm.lab import smcli
from nova_zvm.lab import zvm as fake_zvm

SMAPIError = smcli.SMAPIError

FIRST_MEMBER = 'ZVMLAB01'
DEFAULT_PATHS = (('1A00', 8, '27'), ('1B00', 8, '28'))


def default_devices(slot=1):
    """One system's FCP devices, with WWPNs unique to its slot.

    ``{rdev: {'chpid', 'npiv_wwpn', 'phy_wwpn', 'offline'}}``
    """
    devices = {}
    for start, count, chpid in DEFAULT_PATHS:
        for i in range(count):
            rdev = '%04X' % (int(start, 16) + i)
            devices[rdev] = {
                'chpid': chpid,
                'npiv_wwpn': 'c05076de33%02x%s' % (slot, rdev.lower()),
                'phy_wwpn': 'c05076de3f%02x%s00' % (slot, chpid),
                'offline': False}
    return devices


def dedicated(user):
    """(vdev, rdev) pairs from the entry's DEDICATE statements."""
    out = []
    for line in user.get('directory_extra') or []:
        words = line.upper().split()
        if len(words) >= 3 and words[0] == 'DEDICATE':
            out.append((words[1], words[2]))
    return out


def owner(zvm, rdev):
    """The running guest this system's rdev is attached to, or None."""
    for uid, user in zvm.users.items():
        if user['power'] == 'off' or rdev not in (
                user.get('attached') or {}).values():
            continue
        here = getattr(zvm, 'member', None)
        # In an SSI lab a guest without a member is at the first one.
        if here is None or (user.get('member') or FIRST_MEMBER) == here.name:
            return uid
    return None


class FCPFunctions(object):
    """The SMAPI functions, bound to one system's view of the fake z/VM."""

    def __init__(self, smapi):
        self.smapi = smapi
        self.zvm = smapi.zvm

    def install(self):
        s = self.smapi
        for name in ('System_WWPN_Query', 'Image_Device_Dedicate_DM',
                     'Image_Device_Undedicate_DM', 'Image_Device_Dedicate',
                     'Image_Device_Undedicate'):
            setattr(s, 'do_' + name, getattr(self, name))
        activate = s.do_Image_Activate

        def do_Image_Activate(ops):
            out = activate(ops)
            userid, user = s._user(ops)
            # CP attaches the entry's dedicated devices at logon (those
            # that exist and are free).
            user['attached'] = {}
            for vdev, rdev in dedicated(user):
                if rdev in self.zvm.fcps and owner(self.zvm, rdev) is None:
                    user['attached'][vdev] = rdev
            self.ipl_from_lun(userid, user)
            return out

        s.do_Image_Activate = do_Image_Activate

    def _lun_through(self, rdev, target, lun):
        dev = self.zvm.fcps.get(rdev)
        if dev is None or dev['offline']:
            return None
        return self.zvm.storage.visible(dev['npiv_wwpn'], target, lun)

    def ipl_from_lun(self, userid, user):
        """IPL an FCP device: boot from the LOADDEV LUN if it has a bootmap.

        ``user['booted_from']`` records the LUN; without a bootable LUN the
        guest stays in CP (logged on, no OS: IUCV does not answer).
        """
        user.pop('booted_from', None)
        rdev = user['attached'].get((user.get('ipl') or '').upper())
        if rdev is None:
            return
        loaddev = {}
        for line in user.get('directory_extra') or []:
            words = line.upper().split()
            if len(words) >= 3 and words[0] == 'LOADDEV':
                loaddev[words[1]] = words[2].lower()
        lun = self._lun_through(rdev, loaddev.get('PORTNAME', ''),
                                loaddev.get('LUN', '0'))
        if lun is None or not lun.get('bootmap'):
            user['os_up'] = False
            user['console'] += ('nova-zvm lab: IPL %s: no bootable LUN %s '
                                'at %s\n' % (user['ipl'], loaddev.get('LUN'),
                                             loaddev.get('PORTNAME')))
            return
        user['booted_from'] = {'fcp': user['ipl'].upper(), 'rdev': rdev,
                               'target_wwpn': loaddev['PORTNAME'],
                               'lun': loaddev['LUN'], 'image': lun['image']}
        user['console'] += 'IPL from FCP %s LUN %s\n' % (user['ipl'],
                                                         loaddev['LUN'])

    def refresh_bootmap(self, args):
        """zthin refresh_bootmap: write the bootmap on a LUN with an image.

        Prints ``RESULT PATHS: FCP:WWPN WWPN,...`` (the paths that reach
        the LUN), which the connector parses; fails with an ``Exit MSG``
        line when no path reaches it or it holds no image.
        """
        opts = dict(a[2:].split('=', 1) for a in args
                    if a.startswith('--') and '=' in a)
        fcps = [f.upper().zfill(4) for f in opts.get('fcpchannel', '').split(
            ',') if f]
        wwpns = [w.lower().replace('0x', '') for w in opts.get(
            'wwpn', '').split(',') if w]
        lun_id = opts.get('lun', '')
        paths, found = [], None
        with self.zvm.lock:
            for rdev in fcps:
                seen = [w for w in wwpns if self._lun_through(rdev, w, lun_id)]
                if seen:
                    paths.append('%s:%s' % (rdev.lower(), ' '.join(seen)))
                    found = self._lun_through(rdev, seen[0], lun_id)
            if found is None:
                raise fake_zvm.CommandFailed(
                    1, 'Exit MSG: no path to LUN %s through FCP %s and WWPN '
                    '%s\n' % (lun_id, ','.join(fcps), ','.join(wwpns)))
            if not found.get('image'):
                raise fake_zvm.CommandFailed(
                    2, 'Exit MSG: LUN %s holds no bootable image\n' % lun_id)
            found['bootmap'] = True
        return 'RESULT PATHS: %s\n' % ','.join(paths)

    def System_WWPN_Query(self, ops):
        lines = []
        for rdev, dev in sorted(self.zvm.fcps.items()):
            uid = owner(self.zvm, rdev)
            status = 'Offline' if dev['offline'] else (
                'Active' if uid else 'Free')
            lines += ['FCP device number: %s' % rdev,
                      'Status: %s' % status,
                      'NPIV world wide port number: %s'
                      % dev['npiv_wwpn'].upper(),
                      'Channel path ID: %s' % dev['chpid'],
                      'Physical world wide port number: %s'
                      % dev['phy_wwpn'].upper(),
                      'Owner: %s' % (uid or 'NONE')]
        return '\n'.join(lines) + '\n'

    def _vdev_rdev(self, ops):
        vdev = smcli.last(ops, '-v', '').upper().zfill(4)
        rdev = smcli.last(ops, '-r', '').upper().zfill(4)
        return vdev, rdev

    def Image_Device_Dedicate_DM(self, ops):
        userid, user = self.smapi._user(ops)
        vdev, rdev = self._vdev_rdev(ops)
        if vdev in user['minidisks'] or vdev in user['nics'] or vdev in [
                v for v, _r in dedicated(user)]:
            raise SMAPIError(404, 4, 'Device %s already defined for %s'
                             % (vdev, userid))
        mode = smcli.last(ops, '-R', '0')
        user['directory_extra'].append('DEDICATE %s %s%s' % (
            vdev, rdev, ' R/O' if mode == '1' else ''))
        return ''

    def Image_Device_Undedicate_DM(self, ops):
        userid, user = self.smapi._user(ops)
        vdev = smcli.last(ops, '-v', '').upper().zfill(4)
        keep = [line for line in user['directory_extra']
                if line.upper().split()[:2] != ['DEDICATE', vdev]]
        if len(keep) == len(user['directory_extra']):
            raise SMAPIError(404, 8, 'Device %s not found in %s'
                             % (vdev, userid))
        user['directory_extra'] = keep
        return ''

    def Image_Device_Dedicate(self, ops):
        userid, user = self.smapi._user(ops)
        if user['power'] == 'off':
            raise SMAPIError(200, 12, 'Image %s not active' % userid)
        vdev, rdev = self._vdev_rdev(ops)
        dev = self.zvm.fcps.get(rdev)
        if dev is None or dev['offline']:
            raise SMAPIError(204, 8, 'HCPATR040E Device %s does not exist'
                             % rdev)
        uid = owner(self.zvm, rdev)
        if uid not in (None, userid):
            raise SMAPIError(204, 8, 'HCPATR121E Device %s is attached to '
                             '%s' % (rdev, uid))
        user.setdefault('attached', {})[vdev] = rdev
        return ''

    def Image_Device_Undedicate(self, ops):
        userid, user = self.smapi._user(ops)
        vdev = smcli.last(ops, '-v', '').upper().zfill(4)
        if (user.get('attached') or {}).pop(vdev, None) is None:
            raise SMAPIError(204, 8, 'HCPDTV040E Device %s does not exist'
                             % vdev)
        return ''


def install(dispatcher):
    functions = FCPFunctions(dispatcher.smapi)
    functions.install()
    dispatcher.zthin.do_refresh_bootmap = functions.refresh_bootmap
