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

"""Unit tests on a two-member SSI lab: a client and records per member."""

import os
import shutil
import tempfile

from nova import context as nova_context
from nova import objects
from oslo_config import fixture as config_fixture
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova_zvm.client import ZVMClient
from nova_zvm import conf
from nova_zvm.tests.unit import base as unit_base
from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.virt import ownership

CONF = conf.CONF
M1, M2 = 'ZVMLAB01', 'ZVMLAB02'
VSWITCH = 'VSW1'
MAC = 'fa:16:3e:00:%02x:%02x'


class SSITestCase(unit_base.ClassLabTestCase):
    """One lab, two members; per member a ZVMClient and ownership records."""

    lab_kwargs = {'members': 2}

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='nova-zvm-ssi-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        cfg = self.useFixture(config_fixture.Config(CONF))
        cfg.config(instances_path=os.path.join(self.tmp, 'instances'),
                   instance_name_template=driver_base.NAME_TEMPLATE)
        self.context = nova_context.get_admin_context()
        self.clients = {m: self.member_client(m) for m in (M1, M2)}
        self.owners = {m: ownership.OwnerRegistry(
            os.path.join(self.tmp, m, 'owners')) for m in (M1, M2)}

    def member_client(self, member):
        info = next(m for m in self.lab.member_connectors
                    if m['name'] == member)
        client = ZVMClient(info['url'], token_file=info['token_file'],
                           ca_file=info['ca_file'], max_retries=0)
        self.addCleanup(client.close)
        return client

    def instance(self, **fields):
        instance_id = driver_base.next_instance_id()
        values = dict(id=instance_id, uuid=uuidutils.generate_uuid(),
                      host='compute1', node=M1, vm_state='active',
                      task_state=None, launched_at=timeutils.utcnow(),
                      memory_mb=512, vcpus=1, image_ref='image',
                      system_metadata={'image_os_distro': 'rhel8.6'})
        values.update(fields)
        return objects.Instance(self.context, **values)

    @staticmethod
    def userid(instance):
        return instance.name.upper()

    def running_guest(self, member=M1, grant_on=(M1, M2)):
        """An instance whose guest runs at ``member``, managed there.

        NIC 1000 coupled to VSW1, the guest granted on the members named.
        Returns (instance, network_info).
        """
        inst = self.instance(node=member)
        userid = self.userid(inst)
        client = self.clients[member]
        mac = MAC % (inst.id // 256, inst.id % 256)
        client.guest_create(userid, 1, 512, disk_list=[])
        client.guest_create_nic(userid, vdev='1000', mac_addr=mac)
        for m in grant_on:
            self.lab.zvm.set_member(m, grants={VSWITCH: [userid]})
        client.guest_nic_couple_to_vswitch(userid, '1000', VSWITCH,
                                           active=False)
        client.guest_start(userid)
        self.owners[member].set(userid, inst.uuid)
        self.addCleanup(self._delete, userid)
        network_info = [{'id': uuidutils.generate_uuid(), 'address': mac}]
        return inst, network_info

    def _delete(self, userid):
        for client in self.clients.values():
            if userid in client.guest_list():
                client.guest_delete(userid)
                return

    def where(self, instance):
        """The members the guest is logged on at."""
        members = self.lab.zvm.members()['members']
        return sorted(n for n, m in members.items()
                      if self.userid(instance) in m['guests'])

    def managed_at(self, instance):
        """The members whose connector lists the guest."""
        return sorted(m for m, c in self.clients.items()
                      if self.userid(instance) in c.guest_list())

    def owned_at(self, instance):
        return sorted(m for m, o in self.owners.items()
                      if o.get(self.userid(instance)) == instance.uuid)
