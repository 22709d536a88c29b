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

"""handover: a guest's management moves between members' connectors."""

import os

from nova import objects
from oslo_config import fixture as config_fixture
from oslo_utils.fixture import uuidsentinel as uuids
import testtools

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import ssi_base
from nova_zvm.virt import handover
from nova_zvm.virt import ownership
from nova_zvm.virt import power as zvm_power

M1, M2 = ssi_base.M1, ssi_base.M2


class HandoverTestCase(ssi_base.SSITestCase):

    def move(self, instance, source, dest):
        self.clients[source].guest_live_migrate(
            self.userid(instance), None, dest, {}, 'move')

    def test_release_then_adopt_after_a_move_and_back(self):
        inst, nw_info = self.running_guest()
        power = zvm_power.PowerOps(self.clients[M1])
        power.paused.add(self.userid(inst))
        self.move(inst, M1, M2)

        handover.release(self.clients[M1], inst, power=power,
                         owners=self.owners[M1])
        handover.adopt(self.clients[M2], inst, 'rhel8.6', nw_info,
                       owners=self.owners[M2])

        self.assertEqual([M2], self.where(inst))
        self.assertEqual([M2], self.managed_at(inst))
        self.assertEqual([M2], self.owned_at(inst))
        self.assertNotIn(self.userid(inst), power.paused)
        # The destination's connector runs the guest's operations now.
        self.assertEqual('on', self.clients[M2].guest_get_power_state(
            self.userid(inst)))

        # And back: member 1's connector forgot the guest entirely, so it
        # registers it afresh from its NICs, now logged on there.
        self.move(inst, M2, M1)
        handover.release(self.clients[M2], inst, owners=self.owners[M2])
        handover.adopt(self.clients[M1], inst, 'rhel8.6', nw_info,
                       owners=self.owners[M1])
        self.assertEqual([M1], self.where(inst))
        self.assertEqual([M1], self.managed_at(inst))
        self.assertEqual([M1], self.owned_at(inst))
        self.clients[M1].guest_stop(self.userid(inst))
        self.assertEqual('off', self.lab.zvm.state()['users'][
            self.userid(inst)]['power'])

    def test_release_is_safe_to_repeat(self):
        inst, _ = self.running_guest()
        self.move(inst, M1, M2)
        for _ in range(2):
            handover.release(self.clients[M1], inst, owners=self.owners[M1])
        self.assertEqual([], self.managed_at(inst))
        self.assertEqual([], self.owned_at(inst))
        # The guest itself is untouched by a release.
        self.assertEqual([M2], self.where(inst))
        self.assertEqual('on', self.user(self.userid(inst))['power'])

    def test_release_keeps_another_instances_record(self):
        inst, _ = self.running_guest()
        other = self.instance(id=inst.id)
        handover.release(self.clients[M1], other, owners=self.owners[M1])
        self.assertEqual(inst.uuid,
                         self.owners[M1].get(self.userid(inst)))

    def test_adopt_refused_where_the_guest_is_not_logged_on(self):
        inst, nw_info = self.running_guest()
        # Still running at member 1: member 2 cannot read its NICs.
        self.assertRaises(zvm_exception.ZVMConnectorError, handover.adopt,
                          self.clients[M2], inst, 'rhel8.6', nw_info,
                          owners=self.owners[M2])
        self.assertEqual([M1], self.managed_at(inst))
        self.assertEqual([M1], self.owned_at(inst))
        self.assertEqual([M1], self.where(inst))

    def test_adopt_undone_when_its_record_cannot_be_written(self):
        inst, nw_info = self.running_guest()
        self.move(inst, M1, M2)
        handover.release(self.clients[M1], inst, owners=self.owners[M1])
        blocker = os.path.join(self.tmp, 'not-a-directory')
        with open(blocker, 'w'):
            pass
        broken = ownership.OwnerRegistry(os.path.join(blocker, 'owners'))
        self.assertRaises(OSError, handover.adopt, self.clients[M2], inst,
                          'rhel8.6', nw_info, owners=broken)
        # Nothing half-registered: no connector manages the guest.
        self.assertEqual([], self.managed_at(inst))
        self.assertEqual([M2], self.where(inst))
        # A retry adopts it.
        handover.adopt(self.clients[M2], inst, 'rhel8.6', nw_info,
                       owners=self.owners[M2])
        self.assertEqual([M2], self.managed_at(inst))

    def test_logged_off_guest_moves_without_a_relocation(self):
        # A cold move: stopped at member 1, adopted at member 2 although
        # register_vm cannot read the NICs of a guest that is not logged on.
        inst, nw_info = self.running_guest()
        self.clients[M1].guest_stop(self.userid(inst))
        handover.release(self.clients[M1], inst, owners=self.owners[M1],
                         network_info=[])
        handover.adopt(self.clients[M2], inst, 'rhel8.6', nw_info,
                       owners=self.owners[M2], logged_off=True)
        self.assertEqual([M2], self.managed_at(inst))
        self.assertEqual([M2], self.owned_at(inst))
        # Adopting again where it is managed already changes nothing.
        handover.adopt(self.clients[M2], inst, 'rhel8.6', nw_info,
                       owners=self.owners[M2], logged_off=True)
        self.assertEqual([M2], self.managed_at(inst))
        self.clients[M2].guest_start(self.userid(inst))
        self.assertEqual([M2], self.where(inst))

    def test_release_of_a_stopped_guest_revokes_its_grants(self):
        inst, _nw = self.running_guest()
        userid = self.userid(inst)
        self.clients[M1].guest_stop(userid)
        self.useFixture(config_fixture.Config(ssi_base.CONF)).config(
            vswitch_mappings={'physnet1': ssi_base.VSWITCH}, group='zvm')
        vif = {'id': uuids.port, 'address': 'fa:16:3e:00:00:01',
               'details': {}, 'network': {
                   'meta': {'physical_network': 'physnet1'}}}
        handover.release(self.clients[M1], inst, owners=self.owners[M1],
                         network_info=[vif])
        self.assertEqual([], self.managed_at(inst))
        grants = self.lab.zvm.member(M1)['vswitches'][ssi_base.VSWITCH][
            'grants']
        self.assertNotIn(userid, grants)
        # The other member's grant is not this release's business.
        self.assertIn(userid, self.lab.zvm.member(M2)['vswitches'][
            ssi_base.VSWITCH]['grants'])


class PortMacsTestCase(testtools.TestCase):

    def test_port_macs(self):
        self.assertEqual(
            {'ABCDEF': 'port-1'},
            handover.port_macs([{'id': 'port-1',
                                 'address': 'fa:16:3e:ab:cd:ef'},
                                {'id': 'port-2', 'address': None}]))
        self.assertIsNone(handover.port_macs(None))

    def test_os_version_of(self):
        def instance(**sysmeta):
            return objects.Instance(uuid=uuids.instance, image_ref='img',
                                    system_metadata=sysmeta)
        self.assertEqual('rhel8.6', handover.os_version_of(
            instance(image_os_distro='rhel8.6')))
        # Without os_distro (a guest not made by this driver): plain linux.
        self.assertEqual('linux', handover.os_version_of(instance()))
