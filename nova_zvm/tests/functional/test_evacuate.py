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

"""Evacuate from a failed SSI member to the surviving one.

The surviving member adopts the guest from the shared directory and
starts it: nothing is deployed. When the failed member's nova-compute
comes back, nova removes the evacuated instance there with
destroy_disks=False: that member forgets the guest and the guest keeps
running on the other member.
"""

from nova.compute import power_state

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import ssi_base

DEPLOY_CALLS = ('smapi:Image_Create_DM', 'smapi:Image_Delete_DM')


class EvacuateTestBase(ssi_base.SSITestCase):

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(
            name='zvm.evac', vcpu=1, memory_mb=1024, disk=1, ephemeral=0)

    def boot_at(self, host):
        server = self._build_server(image_uuid=base.IMAGE_ID,
                                    flavor_id=self.flavor_id,
                                    networks='auto', host=host)
        server = self.api.post_server({'server': server})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, host)
        return server

    def fail_compute(self, host):
        """nova-compute of ``host`` stops and is forced down."""
        self.computes[host].stop()
        [service] = self.api.get_services(binary='nova-compute', host=host)
        self.api.put_service(service['id'], {'forced_down': True})
        return service

    def evacuate(self, server, host):
        """Evacuate, then start: since API 2.95 nova stops the server."""
        self.api.post_server_action(server['id'],
                                    {'evacuate': {'host': host}})
        self._wait_for_migration_status(server, ['done'])
        server = self.wait_for_status(server, 'SHUTOFF')
        self.assertEqual('off', self.zvm_guest(server)['power'])
        self.api.post_server_action(server['id'], {'os-start': None})
        return self.wait_for_status(server, 'ACTIVE')


class EvacuateTest(EvacuateTestBase):

    def test_evacuate_then_the_old_compute_comes_back(self):
        server = self.boot_at(ssi_base.HOST1)
        userid = base.userid_of(server)
        disks = self.zvm_guest(server)['minidisks']
        service = self.fail_compute(ssi_base.HOST1)
        # The member went down with its guests (it is back, IPLed, when
        # its nova-compute starts again).
        self.lab.zvm.set_power(userid, 'off')
        self.lab.zvm.reset_calls()

        server = self.evacuate(server, ssi_base.HOST2)
        self.assertEqual(ssi_base.HOST2, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([ssi_base.M2], self.logged_on_at(server))
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        # Adopted, not deployed again: same disks, no new entry.
        self.assertEqual(disks, self.zvm_guest(server)['minidisks'])
        calls = self.lab.zvm.calls()
        for call in DEPLOY_CALLS:
            self.assertNotIn(call, calls)
        # Until the old host is back, its connector and records still
        # know the guest.
        self.assertEqual([ssi_base.M1, ssi_base.M2],
                         self.registered_at(server))
        self.assertEqual([ssi_base.HOST1, ssi_base.HOST2],
                         self.owners_of(server))

        # The old nova-compute starts: nova destroys the evacuated
        # instance there with destroy_disks=False; the guest survives.
        self.computes[ssi_base.HOST1] = self.restart_compute_service(
            self.computes[ssi_base.HOST1], keep_hypervisor_state=False)
        self.api.put_service(service['id'], {'forced_down': False})
        server = self.api.get_server(server['id'])
        self.assert_managed_by(server, ssi_base.HOST2)
        guest = self.zvm_guest(server)
        self.assertEqual('on', guest['power'])
        self.assertEqual(disks, guest['minidisks'])
        self.assertEqual({}, self.owner_records_at(ssi_base.HOST1))

        # The evacuated server is fully usable on its new host.
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'HARD'}})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, ssi_base.HOST2)
        self.delete_server(server)
        self.assertNotIn(userid, self.lab.zvm.state()['users'])


class EvacuateFailedMemberTest(EvacuateTestBase):
    """The lab's member itself fails: its connector is gone for good."""

    def test_evacuate_from_a_failed_member(self):
        server = self.boot_at(ssi_base.HOST1)
        disks = self.zvm_guest(server)['minidisks']
        self.fail_compute(ssi_base.HOST1)
        self.lab.zvm.fail_member(ssi_base.M1)
        self.assertEqual([], self.logged_on_at(server))

        server = self.evacuate(server, ssi_base.HOST2)
        self.assertEqual([ssi_base.M2], self.logged_on_at(server))
        self.assertIn(ssi_base.HOST2, self.owners_of(server))
        self.assertIn(base.userid_of(server),
                      self.member_client(ssi_base.M2).guest_list())
        self.assertEqual(disks, self.zvm_guest(server)['minidisks'])
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
