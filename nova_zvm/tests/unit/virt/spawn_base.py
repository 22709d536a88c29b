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

"""Plumbing for the spawn/destroy tests: a lab, a client, nova objects.

One lab per test class (it takes a second or two to start); every test
uses its own userids and image ids, so tests do not see each other's
guests.
"""

import contextlib
import itertools
import os
import shutil
import tempfile
import threading

import fixtures
from nova import context as nova_context
from nova import exception as nova_exception
from nova.network import model as network_model
from nova import objects
from nova.tests.unit import fake_instance
from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

from nova_zvm import conf
from nova_zvm.lab import images
from nova_zvm.tests.unit import base as unit_base

CONF = conf.CONF

_ids = itertools.count(1)

# Calls that change nothing on z/VM: a validation failure may make these.
READ_ONLY_PREFIXES = ('GET ', 'POST /token', 'HEAD ')


def disk_image(cylinders=3338):
    """Bytes the connector accepts as a z/VM ECKD disk image."""
    # Random data: no two images are alike.
    return images.build_image('CKD', cylinders, payload=os.urandom(256))


def _parse_conf():
    # nova's builders (config drive, version string) need a parsed CONF
    # (no files, no arguments); the Config fixture's cleanup un-parses it.
    CONF([], project='nova', default_config_files=[])


class FakeImageAPI(object):
    """The little of nova.image.glance.API an import uses, in memory."""

    def __init__(self):
        self.images = {}
        self.downloads = []
        self._lock = threading.Lock()

    def add(self, data=None, **meta):
        image_id = meta.pop('id', None) or uuidutils.generate_uuid()
        props = meta.pop('properties', {})
        record = {'id': image_id, 'name': 'img-' + image_id[:8],
                  'disk_format': 'raw', 'container_format': 'bare',
                  'status': 'active', 'min_disk': 0, 'min_ram': 0,
                  'properties': {k: v for k, v in
                                 dict({'os_distro': 'rhel8.6'},
                                      **props).items() if v is not None}}
        data = disk_image() if data is None else data
        record['size'] = len(data)
        record.update(meta)
        self.images[image_id] = (record, data)
        return objects.ImageMeta.from_dict(dict(record))

    def get(self, context, image_id):
        return dict(self.images[image_id][0])

    def download(self, context, image_id, data=None, dest_path=None,
                 trusted_certs=None):
        with self._lock:
            self.downloads.append(image_id)
        with open(dest_path, 'wb') as f:
            f.write(self.images[image_id][1])


class FakeVirtAPI(object):
    """wait_for_instance_event as nova's compute manager shapes it.

    ``outcome``: None (events arrive), 'timeout' or 'failed' (neutron
    reported a failure for the first event).
    """

    def __init__(self):
        self.waited = []
        self.outcome = None

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, event_names, deadline=300,
                                error_callback=None):
        self.waited.append((list(event_names), deadline))
        yield
        if not event_names:
            return
        if self.outcome == 'timeout':
            raise nova_exception.InstanceEventTimeout()
        if self.outcome == 'failed':
            error_callback(event_names[0][0], instance)


class SpawnTestCase(unit_base.ClassLabTestCase):
    """A lab for the class; CONF, a client and builders per test."""

    lab_kwargs = {'vswitches': ['VSW2']}
    mappings = {'physnet1': 'VSW1', 'physnet2': 'VSW2'}

    def setUp(self):
        super().setUp()
        from nova_zvm.client import ZVMClient  # lands with the client
        self.tmp = tempfile.mkdtemp(prefix='nova-zvm-spawn-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        _parse_conf()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(instances_path=os.path.join(self.tmp, 'instances'),
                         instance_name_template='s%07d',
                         vif_plugging_timeout=300,
                         vif_plugging_is_fatal=True)
        self.conf.config(group='zvm',
                         image_tmp_path=os.path.join(self.tmp, 'images'),
                         vswitch_mappings=self.mappings)
        self.client = ZVMClient(self.lab.url, token_file=self.lab.token_file,
                                ca_file=self.lab.ca_file, read_timeout=60,
                                max_retries=0)
        self.context = nova_context.RequestContext('user', 'project',
                                                   is_admin=True)
        self.glance = FakeImageAPI()
        self.virtapi = FakeVirtAPI()
        # InstanceMetadata (the config drive) reads a few things from the
        # database and neutron; the tests have neither.
        self.useFixture(fixtures.MockPatch(
            'nova.network.security_group_api.get_instance_security_groups',
            return_value=[]))
        self.useFixture(fixtures.MockPatch(
            'nova.objects.BlockDeviceMappingList.get_by_instance_uuid',
            return_value=objects.BlockDeviceMappingList(objects=[])))

    # Builders --------------------------------------------------------------

    def instance(self, vcpus=2, memory_mb=2048, root_gb=5, ephemeral_gb=0,
                 swap=0, image_ref=None):
        """An instance whose name (userid) is ``s`` + 7 digits of its id."""
        instance_id = next(_ids)
        flavor = objects.Flavor(name='zf%d' % vcpus, flavorid='f1',
                                vcpus=vcpus, memory_mb=memory_mb,
                                root_gb=root_gb, ephemeral_gb=ephemeral_gb,
                                swap=swap, extra_specs={})
        inst = fake_instance.fake_instance_obj(
            self.context, id=instance_id,
            uuid=uuidutils.generate_uuid(), vcpus=vcpus,
            memory_mb=memory_mb, root_gb=root_gb, ephemeral_gb=ephemeral_gb,
            image_ref=image_ref or '', hostname='vm%d' % instance_id,
            flavor=flavor)
        inst.ec2_ids = objects.EC2Ids(instance_id='i-1', ami_id='ami-1',
                                      kernel_id=None, ramdisk_id=None)
        inst.keypairs = objects.KeyPairList(objects=[])
        inst.device_metadata = None
        inst.numa_topology = None
        inst.metadata = {}
        inst.system_metadata = {}
        inst.services = objects.ServiceList(objects=[])
        inst.tags = objects.TagList(objects=[])
        inst.info_cache = objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo([]))
        return inst

    @staticmethod
    def vif(index=0, physnet='physnet1', vlan=None, active=False,
            ipv6=False):
        subnets = [network_model.Subnet(
            cidr='10.%d.0.0/24' % index, version=4,
            ips=[network_model.FixedIP(address='10.%d.0.5' % index)],
            gateway=network_model.IP(address='10.%d.0.1' % index),
            dns=[network_model.IP(address='10.%d.0.2' % index)])]
        if ipv6:
            subnets.append(network_model.Subnet(
                cidr='fd00:%d::/64' % index, version=6,
                ips=[network_model.FixedIP(address='fd00:%d::5' % index)],
                gateway=network_model.IP(address='fd00:%d::1' % index)))
        meta = {'physical_network': physnet} if physnet else {}
        details = {'vlan': str(vlan)} if vlan is not None else {}
        return network_model.VIF(
            id=uuidutils.generate_uuid(),
            address='02:00:00:00:%02x:%02x' % (next(_ids) % 256, index),
            network=network_model.Network(
                id=uuidutils.generate_uuid(), label='net%d' % index,
                subnets=subnets, meta=meta),
            type='ovs', details=details, active=active)

    # Lab views -------------------------------------------------------------

    def grants(self, userid):
        """{vswitch: vlan} of every vswitch ``userid`` is granted on."""
        found = {}
        for name, vsw in self.lab.zvm.state()['vswitches'].items():
            grant = vsw.get('grants', {}).get(userid.upper())
            if grant is not None:
                found[name] = grant.get('vlan')
        return found

    def changing_rest_calls(self):
        return [c for c in self.lab.zvm.rest_calls()
                if not c.startswith(READ_ONLY_PREFIXES)]

    def local_files(self):
        """Every file under instances_path and image_tmp_path.

        Except the records of the images nova-zvm imported, which last as
        long as the connector's copy.
        """
        records = os.path.join(CONF.instances_path, 'nova-zvm', 'images')
        found = []
        for root in (CONF.instances_path, CONF.zvm.image_tmp_path):
            for dirpath, _dirs, files in os.walk(root):
                if dirpath == records:
                    continue
                found += [os.path.join(dirpath, f) for f in files]
        return found
