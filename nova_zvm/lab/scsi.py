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


"""The guest side of FCP volumes: zvmguestconfigure running the scripts.

The connector renders an attach or detach script from its own templates
(``zvmsdk/volumeops/templates``), punches it to the guest's reader and
runs ``systemctl start zvmguestconfigure.service`` over IUCV. Here that
service reads the scripts in the reader, takes their parameters (FCP
list, target WWPNs, LUN, the udev link named after the mount point) and
does what they do to the fake guest: through each FCP device attached to
the guest, the LUN is seen when the storage array maps it to that
device's NPIV WWPN. The exit codes are the scripts' own: 2 when an FCP
device is not there, 3 when no target WWPN is reachable from any FCP,
4 when the LUN is not found ("device file not found"). ``systemctl
status`` reports the last exit code in the ``Main PID`` line the connector
parses.
"""

import os
import re

from nova_zvm.lab import guestnet
from nova_zvm.lab import zvm as fake_zvm

START = 'systemctl start zvmguestconfigure.service'
STATUS = 'systemctl status zvmguestconfigure.service'
_VAR = re.compile(r'^(fcp_list|input_wwpns|lun|target_filename|'
                  r'is_last_volume)="([^"]*)"', re.M)


def _script_vars(path):
    try:
        with open(path, errors='replace') as f:
            text = f.read(65536)
    except OSError:
        return None
    if not text.startswith('#!/bin/bash'):
        return None
    found = dict(_VAR.findall(text))
    if 'fcp_list' not in found or 'lun' not in found:
        return None
    found['detach'] = 'is_last_volume' in found or 'detach' in text[:400]
    return found


def _attach(zvm, array, user, v):
    fcps = [f.upper().zfill(4) for f in v['fcp_list'].split()]
    wwpns = [w.lower().replace('0x', '') for w in v['input_wwpns'].split()]
    if not fcps or not wwpns:
        return 2
    attached = user.get('attached') or {}
    paths, reachable = [], False
    for vdev in fcps:
        rdev = attached.get(vdev)
        dev = zvm.fcps.get(rdev) if rdev else None
        if dev is None:
            return 2
        for target in wwpns:
            mappings = array.mappings.get(dev['npiv_wwpn'], set())
            if any(t == target for t, _n in mappings):
                reachable = True
            lun = array.visible(dev['npiv_wwpn'], target, v['lun'])
            if lun is not None:
                paths.append({'fcp': vdev, 'target_wwpn': target,
                              'lun': v['lun']})
    if not reachable:
        return 3
    if not paths:
        return 4
    user.setdefault('scsi_disks', {})[v['target_filename']] = {
        'lun': v['lun'], 'paths': paths,
        'multipath': len(paths) > 1}
    return 0


def run_config(zvm, array, userid, user):
    """zvmguestconfigure: run the volume scripts in the reader."""
    code = 0
    for f in zvm.reader(userid):
        if f.get('path') and f['name'].endswith('.doscript') and (
                guestnet.apply(user, f['path'])):
            zvm.spool.pop(f['id'], None)
            continue
        v = _script_vars(f['path']) if f.get('path') else None
        if v is None:
            continue
        # The service consumes what it processes.
        zvm.spool.pop(f['id'], None)
        if v['detach']:
            (user.get('scsi_disks') or {}).pop(v['target_filename'], None)
            continue
        code = _attach(zvm, array, user, v) or code
    user['zvmguestconfigure_exit'] = code
    if code:
        raise fake_zvm.CommandFailed(
            1, 'Job for zvmguestconfigure.service failed because the control'
            ' process exited with error code.\n')
    return ''


def status(user):
    code = user.get('zvmguestconfigure_exit', 0)
    return ('zvmguestconfigure.service - zvmguestconfigure\n'
            '   Loaded: loaded\n'
            '   Active: %s\n'
            ' Main PID: %d (code=exited, status=%d/%s)\n'
            % ('failed' if code else 'inactive (dead)', os.getpid() % 30000,
               code, 'FAILURE' if code else 'SUCCESS'))


def install(dispatcher, array):
    """Answer the two commands in the guest before the generic guest OS."""
    zthin = dispatcher.zthin
    iucv = zthin.do_iucvclnt

    def do_iucvclnt(args):
        command = ' '.join(args[1:]).strip()
        if command in (START, STATUS):
            userid = args[0].upper()
            # The IUCV checks (logged on, OS up) first.
            iucv([args[0], 'pwd'])
            with zthin.zvm.lock:
                user = zthin.zvm.get_user(userid)
                if command == STATUS:
                    return status(user)
                return run_config(zthin.zvm, array, userid, user)
        return iucv(args)

    zthin.do_iucvclnt = do_iucvclnt
