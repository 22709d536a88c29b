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

"""Just enough of nova around a driver to run it in this process.

A compute driver needs nova's configuration, instance and image objects, an
image service and a virtapi. nova-compute would give it a database, Glance
and neutron; here the few lookups that would reach them are answered in
memory, the same way for both drivers, so that what is measured is the
driver and the Cloud Connector, not a fake of nova.
"""

import copy
import os
import shutil
import tempfile
import threading
import time

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

import nova.conf
from nova import context as nova_context
from nova.network import model as network_model
from nova import objects
from nova.virt import fake as fake_virt

from nova_zvm.lab import images as lab_images

CONF = nova.conf.CONF

OS_DISTRO = 'rhel8.4'
PHYSNET = 'physnet1'
VSWITCH = 'VSW1'
DISK_POOL = 'ECKD:POOL1'

# A 3390 cylinder holds 849,960 bytes; 1000 cylinders is a small (~0.8 GB)
# root disk, enough for both drivers to size the guest from the image.
IMAGE_CYLINDERS = 1000
# The bytes moved per image. Real images are GBs; the lab copies files
# locally, so the size only has to be big enough to be streamed in chunks.
IMAGE_BYTES = 1024 * 1024


def zvm_image_bytes(cylinders=IMAGE_CYLINDERS, size=IMAGE_BYTES, seed=0):
    """Bytes of a z/VM disk image file as the Cloud Connector reads them.

    The lab's header, then filler up to exactly ``size`` bytes, so that
    every benchmark image streams the same amount of data.
    """
    # Level 0: the filler that follows is the disk, stored as it is.
    header = lab_images.image_header('CKD', cylinders, 'CYL', compression=0)
    body = bytes((seed + i) % 251 for i in range(4096))
    data = header + body * (size // len(body) + 1)
    return data[:max(size, len(header))]


class FakeImageService(object):
    """The part of nova's Glance image service that drivers use.

    ``download_seconds`` is what downloading one image from Glance takes
    (the lab's images are small; real ones are gigabytes): every driver
    pays it once per image it imports.
    """

    def __init__(self, download_seconds=0.0):
        self.download_seconds = download_seconds
        self._lock = threading.Lock()
        self.images = {}
        self.data = {}
        self.downloads = 0

    def add(self, data, os_distro=OS_DISTRO, image_id=None):
        image_id = image_id or uuidutils.generate_uuid()
        meta = {
            'id': image_id, 'name': 'bench-%s' % image_id[:8],
            'status': 'active', 'disk_format': 'raw',
            'container_format': 'bare', 'size': len(data),
            'min_ram': 0, 'min_disk': 0, 'visibility': 'public',
            'protected': False, 'checksum': None, 'owner': 'bench',
            'properties': {'os_distro': os_distro,
                           'architecture': 's390x',
                           'hypervisor_type': 'zvm'},
        }
        with self._lock:
            self.images[image_id] = meta
            self.data[image_id] = data
        return copy.deepcopy(meta)

    def show(self, context, image_id, include_locations=False,
             show_deleted=True):
        from nova import exception
        with self._lock:
            meta = self.images.get(str(image_id))
        if meta is None:
            raise exception.ImageNotFound(image_id=image_id)
        return copy.deepcopy(meta)

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        self.show(context, image_id)
        with self._lock:
            self.downloads += 1
            content = self.data.get(image_id, b'')
        if self.download_seconds:
            time.sleep(self.download_seconds)
        if data is not None:
            data.write(content)
            return None
        if dst_path is not None:
            with open(dst_path, 'wb') as f:
                f.write(content)
            return None
        chunk = 64 * 1024
        return iter([content[i:i + chunk]
                     for i in range(0, len(content), chunk)])

    def create(self, context, metadata, data=None):
        image_id = metadata.get('id') or uuidutils.generate_uuid()
        meta = copy.deepcopy(metadata)
        meta['id'] = image_id
        with self._lock:
            self.images[image_id] = meta
        return copy.deepcopy(meta)

    def update(self, context, image_id, metadata, data=None,
               purge_props=True):
        content = b''
        if data is not None:
            content = data.read() if hasattr(data, 'read') else b''.join(data)
        with self._lock:
            meta = self.images.setdefault(image_id, {'id': image_id})
            meta.update(copy.deepcopy(metadata))
            self.data[image_id] = content
            return copy.deepcopy(meta)

    def delete(self, context, image_id):
        with self._lock:
            self.images.pop(image_id, None)
            self.data.pop(image_id, None)

    def detail(self, context, **kwargs):
        with self._lock:
            return copy.deepcopy(list(self.images.values()))


def _ensure_parsed():
    # nova.version (config drives) looks for files through CONF, which
    # needs the command line parsed once, as a nova service does.
    try:
        CONF.find_file('release')
    except cfg.NotInitializedError:
        CONF([], project='nova', default_config_files=[])


class NovaEnvironment(fixtures.Fixture):
    """nova's configuration and in-memory stand-ins for its services.

    Each driver gets its own ``instances_path`` and ``image_tmp_path``
    (``use_driver_dirs``) so that neither finds the other's files.
    """

    def __init__(self, base_dir=None, download_seconds=0.0):
        super(NovaEnvironment, self).__init__()
        self._base_dir = base_dir
        self._download_seconds = download_seconds
        self._next_id = 0x100
        self._id_lock = threading.Lock()

    def _setUp(self):
        self.base_dir = self._base_dir or tempfile.mkdtemp(
            prefix='nova-zvm-bench-')
        if not self._base_dir:
            self.addCleanup(shutil.rmtree, self.base_dir, True)
        objects.register_all()
        _ensure_parsed()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(
            # z/VM userids are 1-8 characters: 'zvm' and 5 hex digits.
            instance_name_template='zvm%05x',
            # zvmsdk 1.6.3 refuses a deploy without transport files.
            force_config_drive=True,
            my_ip='127.0.0.1',
            host='bench-compute',
            vif_plugging_timeout=0,
            instances_path=os.path.join(self.base_dir, 'instances'))
        self.images = FakeImageService(self._download_seconds)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.image.glance.get_default_image_service',
            lambda: self.images))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.image.glance.get_remote_image_service',
            lambda context, href: (self.images, str(href).split('/')[-1])))
        # Building a config drive looks up block device mappings (database)
        # and security groups (neutron); there are none of either here.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.objects.BlockDeviceMappingList.get_by_instance_uuid',
            classmethod(lambda cls, ctxt, uuid, use_slave=False:
                        objects.BlockDeviceMappingList(objects=[]))))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.network.security_group_api.get_instance_security_groups',
            lambda *args, **kwargs: []))
        self.context = nova_context.get_admin_context()
        self.virtapi = fake_virt.FakeVirtAPI()

    def use_driver_dirs(self, name):
        """Point the per-driver paths of nova's config at ``name``'s."""
        root = os.path.join(self.base_dir, name)
        paths = {'instances': os.path.join(root, 'instances'),
                 'images': os.path.join(root, 'images')}
        for path in paths.values():
            os.makedirs(path, exist_ok=True)
        self.conf.config(instances_path=paths['instances'])
        self.conf.config(image_tmp_path=paths['images'], group='zvm')
        return paths

    def new_image(self, seed=0):
        """Register a new image (a distinct id: no driver has it yet)."""
        return self.images.add(zvm_image_bytes(seed=seed))

    def image_meta(self, image):
        return objects.ImageMeta.from_dict(copy.deepcopy(image))

    def next_ids(self, count):
        with self._id_lock:
            first = self._next_id
            self._next_id += count
        return range(first, first + count)

    def reserve_ids(self, count):
        """Ids for another process (the cost worker) to use."""
        return self.next_ids(count)[0]

    def instance(self, image, instance_id=None, vcpus=1, memory_mb=1024,
                 root_gb=0):
        """A nova Instance whose ``name`` is a fresh z/VM userid."""
        if instance_id is None:
            instance_id = self.next_ids(1)[0]
        return make_instance(self.context, instance_id, image['id'],
                             vcpus=vcpus, memory_mb=memory_mb,
                             root_gb=root_gb)


def make_instance(context, instance_id, image_id, vcpus=1, memory_mb=1024,
                  root_gb=0):
    """A nova Instance with every field a driver's spawn reads loaded.

    ``root_gb=0`` asks the driver to size the root disk from the image, as
    nova's z/VM documentation suggests for z/VM flavors.
    """
    flavor = objects.Flavor(
        id=1, name='bench.small', memory_mb=memory_mb, vcpus=vcpus,
        root_gb=root_gb, ephemeral_gb=0, flavorid='bench.small', swap=0,
        rxtx_factor=1.0, vcpu_weight=1, disabled=False, is_public=True,
        extra_specs={}, projects=[], description=None)
    uuid = uuidutils.generate_uuid()
    name = 'bench-%d' % instance_id
    return objects.Instance(
        context=context, id=instance_id, uuid=uuid, flavor=flavor,
        old_flavor=None, new_flavor=None,
        vcpus=vcpus, memory_mb=memory_mb, root_gb=root_gb, ephemeral_gb=0,
        image_ref=image_id, hostname=name, display_name=name,
        display_description=None, launch_index=0, key_name=None,
        key_data=None, user_data=None, reservation_id='r-bench',
        availability_zone=None, config_drive='', task_state=None,
        vm_state='building', power_state=0, kernel_id='', ramdisk_id='',
        project_id='bench-project', user_id='bench-user',
        host=CONF.host, node=CONF.host, system_metadata={}, metadata={},
        ec2_ids=objects.EC2Ids(instance_id='i-%08x' % instance_id,
                               ami_id='ami-00000001', kernel_id=None,
                               ramdisk_id=None),
        device_metadata=None, numa_topology=None, pci_requests=None,
        keypairs=objects.KeyPairList(objects=[]),
        tags=objects.TagList(objects=[]),
        info_cache=objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo([])),
        security_groups=objects.SecurityGroupList(objects=[]),
        pci_devices=objects.PciDeviceList(objects=[]),
        trusted_certs=None, vcpu_model=None, resources=None,
        launched_at=None, terminated_at=None, deleted=False,
        root_device_name=None, default_ephemeral_device=None,
        default_swap_device=None, access_ip_v4=None, access_ip_v6=None,
        os_type=None, auto_disk_config=False, locked=False, cleaned=False,
        hidden=False, shutdown_terminate=False, progress=0)


def network_info(instance_id):
    """One active VIF on a flat network of the physnet mapped to VSW1."""
    # Ids start at 0x100, so addresses start at 10.0.1.0, clear of the
    # gateway and DNS server.
    subnet = network_model.Subnet(
        cidr='10.0.0.0/16',
        gateway=network_model.IP(address='10.0.0.1', type='gateway'),
        ips=[network_model.FixedIP(address='10.0.%d.%d' % (
            (instance_id >> 8) & 0xff, instance_id & 0xff))],
        dns=[network_model.IP(address='10.0.0.2', type='dns')], routes=[])
    network = network_model.Network(
        id='bench-net', bridge=None, label='bench', subnets=[subnet],
        meta={'physical_network': PHYSNET, 'tenant_id': 'bench-project'})
    vif = network_model.VIF(
        id=uuidutils.generate_uuid(),
        address='02:00:%02x:%02x:%02x:%02x' % (
            (instance_id >> 24) & 0xff, (instance_id >> 16) & 0xff,
            (instance_id >> 8) & 0xff, instance_id & 0xff),
        network=network, type=network_model.VIF_TYPE_OVS, active=True,
        details={}, vnic_type=network_model.VNIC_TYPE_NORMAL)
    return network_model.NetworkInfo([vif])
