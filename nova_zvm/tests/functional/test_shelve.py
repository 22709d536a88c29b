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

"""Shelve, shelve-offload and unshelve through nova's REST API.

Nova builds them from driver calls nova-zvm has: shelve is a power off
and a snapshot, shelve-offload a destroy, unshelve a spawn from the
snapshot. Each step is checked in nova's server state and on the fake
z/VM.
"""

from nova.compute import power_state

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures


class ShelveTest(base.ZVMTestCase):

    def setUp(self):
        super().setUp()
        # Keep a shelved server on its host until it is offloaded
        # explicitly (nova's default, 0, offloads at once).
        self.flags(shelved_offload_time=-1)
        self.flavor_id = self._create_flavor(
            name='zvm.shelve', vcpu=1, memory_mb=1024, disk=1, ephemeral=0)

    def _action(self, server, action, status):
        self.api.post_server_action(server['id'], {action: None})
        return self.wait_for_status(server, status)

    def test_shelve_offload_and_unshelve(self):
        state_before = self.lab.zvm.state()
        server = self.boot_server(flavor_id=self.flavor_id)
        userid = base.userid_of(server)
        self.assertEqual('on', self.zvm_guest(server)['power'])

        # Shelve: the guest is stopped and its root disk captured into a
        # Glance image; it stays on z/VM and keeps its resources.
        server = self._action(server, 'shelve', 'SHELVED')
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertEqual('off', self.zvm_guest(server)['power'])
        [image] = [i for i in self.glance.detail(None)
                   if i['name'] == server['name'] + '-shelved']
        self.assertEqual('active', image['status'])
        self.assertEqual('s390x', image['properties']['architecture'])
        self.assertTrue(self.glance.image_data(image['id']).startswith(
            b'xCAT CKD Disk Image:'))
        self.assert_usage_of(server['flavor'])

        # Shelve-offload: the guest leaves z/VM, its disks go back to the
        # pool, its grant is revoked and placement frees the host.
        server = self._action(server, 'shelveOffload', 'SHELVED_OFFLOADED')
        state = self.lab.zvm.state()
        self.assertNotIn(userid, state['users'])
        self.assertEqual(state_before['pools'], state['pools'])
        self.assertNotIn(
            userid, state['vswitches'][zvm_fixtures.VSWITCH]['grants'])
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))

        # Unshelve: a guest of the same name is spawned from the shelved
        # image, with its disk, its coupled NIC, and running.
        server = self._action(server, 'unshelve', 'ACTIVE')
        self.assertEqual(base.COMPUTE_HOST,
                         server['OS-EXT-SRV-ATTR:host'])
        guest = self.zvm_guest(server)
        self.assertIsNotNone(guest, 'no z/VM guest %s after unshelve'
                             % userid)
        self.assertEqual('on', guest['power'])
        self.assertEqual(1, guest['vcpus'])
        self.assertEqual(1, len(guest['minidisks']))
        self.assertEqual([zvm_fixtures.VSWITCH],
                         [nic['vswitch'] for nic in guest['nics'].values()])
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        self.assert_usage_of(server['flavor'])
        # Nova deletes the shelved image once the server is back.
        self.assertNotIn(image['id'],
                         [i['id'] for i in self.glance.detail(None)])

        self.delete_server(server)
        state = self.lab.zvm.state()
        self.assertNotIn(userid, state['users'])
        self.assertEqual(state_before['pools'], state['pools'])
