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


"""The guest applying the network configuration the connector punched.

``POST /guests/{userid}/interface`` with ``active`` punches a
``network.doscript`` (a tar of ifcfg files and the scripts that install
and start them) and starts zvmguestconfigure over IUCV. The fake guest
reads the ifcfg files and records each interface it configured (device,
address, netmask, subchannels), and whether its NIC was there to bring
up.
"""

import re
import tarfile

_KV = re.compile(r'^([A-Z_]+)="?([^"\n]*)"?$', re.M)
_DELETE = re.compile(r'^DEL([0-9A-Fa-f]{1,4})\.sh$')


def boot(zvm, userid, user):
    """zvmguestconfigure at boot: apply (and consume) network scripts."""
    for f in zvm.reader(userid):
        name = f.get('name') or ''
        if not f.get('path'):
            continue
        deleted = _DELETE.match(name)
        if deleted:
            remove(user, deleted.group(1))
        elif not (name == 'network.doscript' and apply(user, f['path'])):
            # Volume scripts and config drives are not the network's.
            continue
        zvm.spool.pop(f['id'], None)


def remove(user, vdev):
    """Drop the guest's configuration of the NIC at ``vdev``."""
    network = user.setdefault('guest_network', {})
    for device, conf in list(network.items()):
        if conf['vdev'].zfill(4) == vdev.upper().zfill(4):
            del network[device]


def apply(user, path):
    """Configure the guest from a network doscript; False if it is not one."""
    try:
        if not tarfile.is_tarfile(path):
            return False
        with tarfile.open(path) as tar:
            files = [tar.extractfile(m).read().decode(errors='replace')
                     for m in tar.getmembers() if m.isfile()]
    except (OSError, tarfile.TarError):
        return False
    network = user.setdefault('guest_network', {})
    for text in files:
        conf = dict(_KV.findall(text))
        if 'DEVICE' not in conf:
            continue
        channels = conf.get('SUBCHANNELS', '').split(',')
        vdev = channels[0].rsplit('.', 1)[-1].upper() if channels[0] else ''
        nic = user['nics'].get(vdev.zfill(4)) if vdev else None
        network[conf['DEVICE']] = {
            'vdev': vdev, 'ip_addr': conf.get('IPADDR'),
            'netmask': conf.get('NETMASK'),
            'bootproto': conf.get('BOOTPROTO'),
            'up': bool(nic and nic.get('active'))}
    return True
