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

"""Nova's glance and neutron fixtures, adjusted to a z/VM host."""

import io

from nova.tests import fixtures as nova_fixtures

# The neutron physical network the test ports live on, and the lab vswitch
# the driver is told (``[zvm] vswitch_mappings``) to couple them to.
PHYSNET = 'physnet1'
VSWITCH = 'VSW1'
VLAN_ID = 101

# A z/VM disk image as the Cloud Connector expects it: a 64-byte header
# whose fixed columns hold the root disk's size and unit (zvmsdk parses
# bytes 20-31 as the size and 33-35 as the unit), then the disk's contents.
IMAGE_CYLINDERS = 10


def zvm_disk_image(cylinders=IMAGE_CYLINDERS, payload=b'\0' * 4096):
    header = 'z/VM CKD Disk Image:%12d CYL HLen: 0055 GZIP: 0' % cylinders
    return header.encode('ascii').ljust(64, b' ') + payload


def s390x_image(image_id, name='rhel-s390x', **properties):
    """Glance metadata of a raw s390x image a z/VM host can boot."""
    props = {'architecture': 's390x',
             'os_distro': 'rhel',
             'os_version': '8.6',
             'hypervisor_type': 'zvm'}
    props.update(properties)
    return {
        'id': image_id,
        'name': name,
        'status': 'active',
        'visibility': 'public',
        'container_format': 'bare',
        'disk_format': 'raw',
        'min_ram': 0,
        'min_disk': 0,
        'protected': False,
        'properties': props,
    }


class GlanceFixture(nova_fixtures.GlanceFixture):
    """Nova's fake glance, keeping the data a snapshot uploads.

    Nova's fixture drops the data passed to ``update``, which is how nova
    uploads a snapshot; booting from a snapshot then needs that data back.
    """

    def create_s390x_image(self, image_id, data=None, **properties):
        image = s390x_image(image_id, **properties)
        data = zvm_disk_image() if data is None else data
        return self.create(None, image, data=io.BytesIO(data))

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        image = super().update(context, image_id, metadata,
                               purge_props=purge_props)
        if data is not None:
            self._imagedata[image_id] = _read_all(data)
            image['size'] = len(self._imagedata[image_id])
        return image

    def image_data(self, image_id):
        return self._imagedata.get(image_id)


def _read_all(data):
    # Nova passes an open file, or an iterator of chunks.
    if hasattr(data, 'read'):
        return data.read()
    return b''.join(data)


class NeutronFixture(nova_fixtures.NeutronFixture):
    """Nova's fake neutron with its network on a VLAN of a physical network.

    The driver couples each port to the vswitch its network's physical
    network maps to, so the ports must carry one.
    """

    network_1 = dict(nova_fixtures.NeutronFixture.network_1, **{
        'provider:network_type': 'vlan',
        'provider:physical_network': PHYSNET,
        'provider:segmentation_id': VLAN_ID,
    })
