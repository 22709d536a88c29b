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


"""Fake zthin scripts, IUCV client, vmur, disk tools and local tools.

Everything zvmsdk runs besides ``smcli`` and ``vmcp`` lands here: the
zthin scripts that move images onto and off minidisks, the IUCV client
that runs commands inside a guest, ``vmur`` for the spool, the Linux disk
tools smtLayer runs on a linked minidisk, and the few local tools
(``hexdump``, ``cp``, ``mv``, ``du``, ``scp``) it runs on image files.
Local tools act on files inside the lab's state dir only.
"""

import json
import os
import shutil

from nova_zvm.lab import guestos
from nova_zvm.lab import images
from nova_zvm.lab import zvm as fake_zvm


def hexdump_c(data):
    """``hexdump -C`` output, byte for byte (zvmsdk slices it)."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        hexes = ['%02x' % b for b in chunk]
        left = ' '.join(hexes[:8])
        right = ' '.join(hexes[8:])
        hexpart = ('%-23s  %-23s' % (left, right))
        text = ''.join(chr(b) if 32 <= b < 127 else '.' for b in chunk)
        lines.append('%08x  %s  |%s|' % (off, hexpart, text))
    lines.append('%08x' % len(data))
    return '\n'.join(lines) + '\n'


# Local tools zvmsdk runs on the connector host itself (logged as 'cmd:').
LOCAL_TOOLS = frozenset(['hexdump', 'cp', 'mv', 'du', 'scp', 'which',
                         'udevadm'])


def _dasd_suffix(n):
    # a..z, aa..zz, ... like Linux names DASDs; unique per lab.
    letters = ''
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord('a') + r) + letters
    return letters


class ZThin(object):
    def __init__(self, zvm, paths, cp):
        self.zvm = zvm
        self.paths = paths
        self.cp = cp
        # Minidisks linked to the connector's own machine: device -> disk.
        self.linked = {}
        self.next_dev = 0
        # Set by hostpaths.install: maps zvmsdk's hard-coded paths.
        self.path_map = None

    def call(self, prog, args):
        if prog == 'vmur':
            return self._vmur(args)
        return self._call(prog, args)

    def _vmur(self, args):
        """vmur holds a lock per unit record device while it works.

        s390-tools vmur.c (acquire_lock): a second instance on the same
        device does not wait; it prints "A concurrent instance of vmur is
        already active. No file punched." and exits with EBUSY (16).
        smtLayer's punch2reader retries that message (vmUtils). The punch
        (000D) is busy for its whole latency.
        """
        if not args or args[0] not in ('punch', 'pu'):
            # The reader's lock (vmur re, used by zvmsdk's console and
            # reader reads, which it does not retry) is not modelled.
            return self._call('vmur', args)
        dev = '000D'
        with self.zvm.lock:
            held = self.zvm.settings['punch_held'] > 0
            if held:
                self.zvm.settings['punch_held'] -= 1
            if held or dev in self.zvm.vmur_busy:
                self.zvm.note('zthin:vmur EBUSY')
                raise fake_zvm.CommandFailed(
                    16, 'vmur: A concurrent instance of vmur is already '
                    'active. No file punched.\n')
            self.zvm.vmur_busy.add(dev)
        try:
            return self._call('vmur', args)
        finally:
            with self.zvm.lock:
                self.zvm.vmur_busy.discard(dev)

    def _call(self, prog, args):
        handler = getattr(self, 'do_' + prog.replace('.', '_').replace(
            '-', '_'), None)
        kind = 'cmd' if handler is None or prog in LOCAL_TOOLS else 'zthin'
        fault = self.zvm.record(kind, prog)
        if handler is None:
            raise fake_zvm.NotEmulated('command', ' '.join([prog] + args))
        if fault is not None:
            raise fake_zvm.CommandFailed(
                fault.rc, 'ERROR: nova-zvm lab: injected fault on %s '
                '(rc %d rs %d)\n' % (prog, fault.rc, fault.rs))
        return handler(args)

    def _local(self, path):
        """Refuse local file operations outside the lab's state dir."""
        if self.path_map is not None:
            path = self.path_map(path)
        real = os.path.realpath(path)
        if not real.startswith(os.path.realpath(self.paths['state']) + '/'):
            raise fake_zvm.CommandFailed(
                1, 'nova-zvm lab: refusing to touch %s outside the lab '
                'state dir\n' % path)
        return real

    # -- local tools -------------------------------------------------------
    def do_hexdump(self, args):
        length = None
        files = []
        i = 0
        while i < len(args):
            if args[i] == '-n':
                length = int(args[i + 1])
                i += 2
            elif args[i].startswith('-'):
                i += 1
            else:
                files.append(args[i])
                i += 1
        path = self._local(files[0])
        if not os.path.exists(path):
            raise fake_zvm.CommandFailed(
                1, 'hexdump: %s: No such file or directory\n' % files[0])
        with open(path, 'rb') as f:
            data = f.read(length) if length else f.read()
        return hexdump_c(data)

    def do_cp(self, args):
        src, dst = [a for a in args if not a.startswith('-')][-2:]
        shutil.copy(self._local(src), self._local(dst))
        return ''

    def do_mv(self, args):
        src, dst = [a for a in args if not a.startswith('-')][-2:]
        shutil.move(self._local(src), self._local(dst))
        return ''

    def do_du(self, args):
        path = self._local(args[-1])
        return '%d\t%s\n' % (os.path.getsize(path), args[-1])

    def do_scp(self, args):
        """scp to/from ``remote_host``, done as a local copy.

        zvmsdk moves images and config drives with scp when a caller
        passes ``remote_host=user@host`` (nova's in-tree driver does). In
        the lab the "remote" host is this one, so the copy is local: the
        ``host:path`` side may be any path, the connector's side must be
        inside the lab's state dir. No network connection is made.
        """
        plain = []
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ('-P', '-o', '-i'):
                skip = True
                continue
            if a.startswith('-') or not a.strip():
                continue
            plain.append(a)
        src, dst = plain[-2:]
        if ':' in src:
            src, dst = src.split(':', 1)[1], self._local(dst)
        elif ':' in dst:
            src, dst = self._local(src), dst.split(':', 1)[1]
        else:
            src, dst = self._local(src), self._local(dst)
        if not os.path.isfile(src):
            raise fake_zvm.CommandFailed(
                1, 'scp: %s: No such file or directory\n' % src)
        try:
            shutil.copy(src, dst)
        except OSError as e:
            raise fake_zvm.CommandFailed(1, 'scp: %s: %s\n' % (dst, e))
        return ''

    def do_which(self, args):
        # Only ever used as "which udevadm && udevadm settle".
        return '/usr/bin/udevadm\n'

    def do_udevadm(self, args):
        return ''

    # -- guest commands through IUCV ---------------------------------------
    def do_iucvclnt(self, args):
        userid, command = args[0].upper(), ' '.join(args[1:])
        with self.zvm.lock:
            user = self.zvm.get_user(userid)
            if user is None or user['power'] != 'on' or not user.get(
                    'os_up', True) or user.get('reboot_pending'):
                if user is not None and user.get('reboot_pending'):
                    # The first probe after "shutdown -r" finds it down.
                    user['reboot_pending'] = False
                raise fake_zvm.CommandFailed(
                    4, 'ERROR: Failed to connect to %s over IUCV: '
                    'Return code 4, Reason code 0.\n' % userid)
            return guestos.run(userid, user, command)

    # -- spool (vmur) ------------------------------------------------------
    def do_vmur(self, args):
        sub = args[0]
        with self.zvm.lock:
            if sub in ('punch', 'pu'):
                path = self._local(args[-1])
                spool_copy = os.path.join(self.paths['spool'], '%04d-%s' % (
                    self.zvm.next_spoolid, os.path.basename(path)))
                shutil.copy(path, spool_copy)
                f = self.zvm.spool_add(self.zvm.smt_userid,
                                       self.zvm.smt_userid, 'PUN', 'A',
                                       os.path.basename(path), spool_copy,
                                       os.path.getsize(path))
                return 'Reader file %04d created.\n' % f['id']
            if sub in ('list', 'li'):
                lines = ['ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME'
                         '     NAME      TYPE     DIST']
                for f in sorted(self.zvm.spool.values(),
                                key=lambda f: f['id']):
                    if f['owner'] != self.zvm.smt_userid:
                        continue
                    lines.append('%-8s %04d %s %s 00000001 001 NONE '
                                 '11/24 08:00:00 %-8s %-8s %s' % (
                                     f['origin'], f['id'], f['class'],
                                     f['type'], f['name'][:8], 'FILE',
                                     f['origin']))
                return '\n'.join(lines) + '\n'
            if sub in ('re', 'receive'):
                spoolid = int([a for a in args[1:]
                               if not a.startswith('-')][0])
                f = self.zvm.spool.get(spoolid)
                if f is None:
                    raise fake_zvm.CommandFailed(
                        1, 'vmur: Spool file %d does not exist\n' % spoolid)
                with open(f['path']) as fh:
                    text = fh.read()
                if '-H' not in args and '--hold' not in args:
                    # Receiving a reader file removes it, as vmur does.
                    del self.zvm.spool[spoolid]
                    os.remove(f['path'])
                return text
        raise fake_zvm.NotEmulated('command', 'vmur ' + ' '.join(args))

    # -- minidisks linked to the connector ---------------------------------
    def _disk(self, userid, vdev):
        user = self.zvm.get_user(userid)
        if user is None:
            return None, None
        return user, user['minidisks'].get(vdev.upper().zfill(4))

    def _defined_disk(self, userid, vdev):
        # What the image scripts answer when they cannot link the disk.
        user, disk = self._disk(userid, vdev)
        if disk is None:
            raise fake_zvm.CommandFailed(
                3, 'ERROR: Unable to link %s disk %s: it is not '
                'defined.\n' % (userid, vdev))
        return user, disk

    def do_linkdiskandbringonline(self, args):
        userid, vdev = args[0].upper(), args[1].upper()
        with self.zvm.lock:
            user, disk = self._disk(userid, vdev)
            if disk is None:
                raise fake_zvm.CommandFailed(
                    1, 'ERROR: Failed to link %s %s: HCPLNM053E %s not in '
                    'CP directory\n' % (userid, vdev, userid))
            dev = 'dasd' + _dasd_suffix(self.next_dev)
            self.next_dev += 1
            self.linked[dev] = (userid, vdev.zfill(4))
        return ('linkdiskandbringonline start time: now\n'
                'Success: Userid %s vdev %s linked at 0%s device name %s\n'
                'linkdiskandbringonline exit time: now\n'
                % (userid, vdev, vdev[-3:], dev))

    def _linked_disk(self, device):
        dev = os.path.basename(device).rstrip('0123456789')
        userid, vdev = self.linked.get(dev, (None, None))
        if userid is None:
            raise fake_zvm.CommandFailed(
                1, 'nova-zvm lab: %s is not a linked disk\n' % device)
        return self._disk(userid, vdev)[1]

    def do_offlinediskanddetach(self, args):
        userid, vdev = args[0].upper(), args[1].upper().zfill(4)
        with self.zvm.lock:
            for dev, target in list(self.linked.items()):
                if target == (userid, vdev):
                    del self.linked[dev]
        return 'Success: %s %s detached\n' % (userid, vdev)

    def do_dasdfmt(self, args):
        with self.zvm.lock:
            self._linked_disk(args[-1])['format'] = None
        return ''

    def do_fdasd(self, args):
        self._linked_disk(args[-1])
        return ''

    def do_fdisk(self, args):
        self._linked_disk(args[0])
        return ''

    def _mkfs(self, device, fs):
        with self.zvm.lock:
            self._linked_disk(device)['format'] = fs
        return ''

    def do_mkfs(self, args):
        fs = args[args.index('-t') + 1] if '-t' in args else 'ext2'
        return self._mkfs(args[-1], fs)

    def do_mkfs_xfs(self, args):
        return self._mkfs(args[-1], 'xfs')

    def do_mkswap(self, args):
        return self._mkfs(args[-1], 'swap')

    def do_blockdev(self, args):
        return ''

    # -- images ------------------------------------------------------------
    # Both scripts exit 3 with "ERROR: <text>" on every failure they check
    # for (printError in zthinshellutils; unpackdiskimage and
    # creatediskimage in feilong's zthin-parts/zthin/bin).
    @staticmethod
    def _zthin_error(text):
        return fake_zvm.CommandFailed(3, 'ERROR: %s\n' % text)

    def _running(self, user):
        # isSystemActive: "vmcp query user" succeeds, i.e. not logged off
        # (a guest still logging off counts as running).
        return user['power'] != 'off'

    def do_unpackdiskimage(self, args):
        """Write an image onto a minidisk, with unpackdiskimage's checks.

        In its order: the file exists, its tag is one of the real ones,
        the target is not running (checkSanity), then the disk type and
        size against the linked disk (deployCKDImage/deployFBAImage).
        """
        userid, vdev, image = args[0].upper(), args[1].upper(), args[2]
        path = self._local(image)
        if not os.path.isfile(path):
            raise self._zthin_error('The specified image file was not '
                                    'found: %s.' % image)
        with open(path, 'rb') as f:
            header = images.parse_header(f.read(images.HEADER_LEN))
        if header is None:
            raise self._zthin_error('Disk image type not recognized')
        kind, size, unit, _level = header
        with self.zvm.lock:
            user, disk = self._defined_disk(userid, vdev)
            if self._running(user):
                raise self._zthin_error('The specified target system is '
                                        'currently running.')
            if kind != disk['type']:
                raise self._zthin_error(
                    'Specified image is of a %s volume, but specified disk '
                    'is not a %s volume.' % (
                        'Count-Key-Data' if kind == 'ECKD' else 'fixed-block',
                        'Count-Key-Data' if kind == 'ECKD' else
                        'fixed-block'))
            if size == 0:
                raise self._zthin_error(
                    '%s does not contain cylinder/record information.  This '
                    'appears to be a dummy image file.' % image)
            if size > disk['size']:
                raise self._zthin_error(
                    'Target disk is too small for specified image, deploy '
                    'to target disk:%d %s, image need minimum:%d %s'
                    % (disk['size'], 'cylinders' if unit == 'CYL' else
                       'blocks', size, 'cylinders' if unit == 'CYL' else
                       'blocks'))
            # The image path is <repo>/netboot/<os_version>/<name>/<vdev>.
            parts = path.split(os.sep)
            disk['image'] = parts[-2]
            disk['format'] = 'image'
            user['os_version'] = parts[-3]
            self.zvm.disk_contents[(userid, vdev.zfill(4))] = {
                'image': parts[-2], 'os_version': parts[-3],
                'header': [kind, size, unit]}
        return 'Image %s unpacked to %s %s.\n' % (image, userid, vdev)

    def do_creatediskimage(self, args):
        """Copy a minidisk into an image file, as creatediskimage does.

        It refuses a target file that exists and a source that is running
        (checkSanity), and writes the real header (captureCKD/captureFBA).
        """
        userid, vdev, target = args[0].upper(), args[1].upper(), args[2]
        level = 6
        if '--compression' in args:
            level = int(args[args.index('--compression') + 1])
        target = self._local(target) if os.path.exists(
            os.path.dirname(target)) else target
        with self.zvm.lock:
            if os.path.exists(self._local(target)):
                raise self._zthin_error('The specified image file already '
                                        'exists.')
            user, disk = self._defined_disk(userid, vdev)
            if self._running(user):
                raise self._zthin_error('The specified source system is '
                                        'currently running.')
            source = self.zvm.disk_contents.get((userid, vdev.zfill(4)), {})
            payload = json.dumps({'userid': userid, 'vdev': vdev,
                                  'source_image': source.get('image')})
            with open(self._local(target), 'wb') as f:
                f.write(images.build_image(disk['type'], disk['size'],
                                           disk['unit'], payload.encode(),
                                           level))
        return 'Image file %s created.\n' % target
