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

"""Rebuild through nova's REST API: nova's own path, destroy then spawn.

The guest keeps its userid (the instance's name) and is deployed again
from the same or a new image; its ownership record follows, so the
server can still be deleted afterwards.
"""

from nova.compute import power_state
from oslo_utils.fixture import uuidsentinel as uuids

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures


class RebuildTest(base.ZVMTestCase):

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(
            name='zvm.rebuild', vcpu=1, memory_mb=1024, disk=1, ephemeral=0)

    def _rebuild(self, server, image_id):
        self.api.post_server_action(
            server['id'], {'rebuild': {'imageRef': image_id}})
        return self.wait_for_status(server, 'ACTIVE')

    def _root_image(self, server):
        [disk] = self.zvm_guest(server)['minidisks'].values()
        return disk['image']

    def test_rebuild_same_and_new_image(self):
        pools_before = self.lab.zvm.state()['pools']
        server = self.boot_server(flavor_id=self.flavor_id)
        userid = base.userid_of(server)
        first_image = self._root_image(server)
        self.assertIn(base.IMAGE_ID.replace('-', ''),
                      first_image.replace('-', ''))

        # Same image: the guest is deployed again, running, same userid.
        self.lab.zvm.reset_calls()
        server = self._rebuild(server, base.IMAGE_ID)
        calls = self.lab.zvm.calls()
        self.assertIn('smapi:Image_Create_DM', calls)
        self.assertIn('smapi:Image_Delete_DM', calls)
        guest = self.zvm_guest(server)
        self.assertEqual('on', guest['power'])
        self.assertEqual(userid, base.userid_of(server))
        self.assertEqual(first_image, self._root_image(server))
        self.assertEqual([zvm_fixtures.VSWITCH],
                         [nic['vswitch'] for nic in guest['nics'].values()])
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])

        # A new image: the root disk now holds it.
        self.glance.create_s390x_image(uuids.other_image)
        server = self._rebuild(server, uuids.other_image)
        self.assertEqual(uuids.other_image, server['image']['id'])
        self.assertNotEqual(first_image, self._root_image(server))
        self.assertIn(uuids.other_image.replace('-', ''),
                      self._root_image(server).replace('-', ''))
        self.assertEqual('on', self.zvm_guest(server)['power'])
        self.assert_usage_of(server['flavor'])

        # The rebuilt guest is still the instance's: delete removes it.
        self.delete_server(server)
        state = self.lab.zvm.state()
        self.assertNotIn(userid, state['users'])
        self.assertEqual(pools_before, state['pools'])

    def test_rebuild_stopped_server_stays_stopped(self):
        # nova's rebuild response for a stopped server has no 'progress',
        # which its own response schema requires.
        self.flags(response_validation='warn', group='api')
        server = self.boot_server(flavor_id=self.flavor_id)
        self.api.post_server_action(server['id'], {'os-stop': None})
        server = self.wait_for_status(server, 'SHUTOFF')
        self.api.post_server_action(
            server['id'], {'rebuild': {'imageRef': base.IMAGE_ID}})
        server = self.wait_for_status(server, 'SHUTOFF')
        self.assertEqual('off', self.zvm_guest(server)['power'])
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))
