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

"""Resize on one host through nova's REST API.

The guest's directory entry takes the new flavor's vCPUs and memory while
it is stopped; it runs with them after the resize, and with the old ones
after a revert. A flavor with another root disk size is refused before
the guest is touched.
"""

import time

from nova.compute import power_state

from nova_zvm.tests.functional import base


class ResizeTest(base.ZVMTestCase):

    # nova's API answers a resize before the compute works on it: a
    # refused resize is seen in the server and migration, as in real life.
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        self.flags(allow_resize_to_same_host=True)
        self.small = self._create_flavor(
            name='zvm.small', vcpu=1, memory_mb=1024, disk=1, ephemeral=0)
        self.large = self._create_flavor(
            name='zvm.large', vcpu=2, memory_mb=2048, disk=1, ephemeral=0)

    def _action(self, server, action, status, body=None):
        self.api.post_server_action(server['id'], {action: body})
        return self.wait_for_status(server, status)

    def _resize(self, server, flavor_id):
        return self._action(server, 'resize', 'VERIFY_RESIZE',
                            {'flavorRef': flavor_id})

    def _failed_event_details(self, server, action_name):
        [action] = [a for a in self.api.get_instance_actions(server['id'])
                    if a['action'] == action_name]
        path = '/servers/%s/os-instance-actions/%s' % (
            server['id'], action['request_id'])
        deadline = time.monotonic() + self.WAIT_TIMEOUT
        while True:
            events = self.api.api_get(path).body['instanceAction']['events']
            failed = [e for e in events if e['result'] == 'Error']
            if failed:
                return ' '.join(e.get('details') or '' for e in failed)
            if time.monotonic() > deadline:
                self.fail('no failed event in %s' % events)
            time.sleep(0.2)

    def assert_shape(self, server, vcpus, memory_mb, running=True):
        guest = self.zvm_guest(server)
        self.assertEqual((vcpus, memory_mb),
                         (guest['vcpus'], guest['memory_mb']))
        self.assertEqual('on' if running else 'off', guest['power'])
        if running:
            # The running guest has the directory's shape.
            self.assertEqual((vcpus, memory_mb), (guest['active_vcpus'],
                                                  guest['active_memory_mb']))
        self.assertEqual(
            power_state.RUNNING if running else power_state.SHUTDOWN,
            server['OS-EXT-STS:power_state'])

    def test_resize_up_and_confirm(self):
        server = self.boot_server(flavor_id=self.small)
        self.assert_shape(server, 1, 1024)

        server = self._resize(server, self.large)
        self.assertEqual('zvm.large', server['flavor']['original_name'])
        self.assert_shape(server, 2, 2048)

        server = self._action(server, 'confirmResize', 'ACTIVE')
        self.assert_shape(server, 2, 2048)
        self.assert_usage_of(server['flavor'])

        # Still this instance's guest: a reboot and a delete work on it.
        server = self._action(server, 'reboot', 'ACTIVE', {'type': 'HARD'})
        self.assert_shape(server, 2, 2048)
        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))

    def test_resize_and_revert(self):
        server = self.boot_server(flavor_id=self.small)
        server = self._resize(server, self.large)
        self.assert_shape(server, 2, 2048)

        server = self._action(server, 'revertResize', 'ACTIVE')
        self._wait_for_migration_status(server, ['reverted'])
        self.assertEqual('zvm.small', server['flavor']['original_name'])
        self.assert_shape(server, 1, 1024)
        self.assert_usage_of(server['flavor'])

        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))

    def test_resize_stopped_server_stays_stopped(self):
        server = self.boot_server(flavor_id=self.small)
        server = self._action(server, 'os-stop', 'SHUTOFF')
        server = self._resize(server, self.large)
        self.assert_shape(server, 2, 2048, running=False)
        server = self._action(server, 'confirmResize', 'SHUTOFF')
        self.assert_shape(server, 2, 2048, running=False)
        server = self._action(server, 'os-start', 'ACTIVE')
        self.assert_shape(server, 2, 2048)
        self.delete_server(server)

    def test_root_disk_change_refused(self):
        bigger_disk = self._create_flavor(
            name='zvm.bigdisk', vcpu=2, memory_mb=2048, disk=2, ephemeral=0)
        server = self.boot_server(flavor_id=self.small)
        guest_before = self.zvm_guest(server)
        self.lab.zvm.reset_calls()

        self.api.post_server_action(server['id'],
                                    {'resize': {'flavorRef': bigger_disk}})
        self._wait_for_migration_status(server, ['error'])
        server = self.wait_for_status(server, 'ACTIVE')

        # Nothing changed: flavor, guest (running, same shape and disks).
        self.assertEqual('zvm.small', server['flavor']['original_name'])
        self.assertEqual(guest_before, self.zvm_guest(server))
        changes = [c for c in self.lab.zvm.calls()
                   if c.startswith('smapi:Image_') and
                   'Query' not in c]
        self.assertEqual([], changes)
        # The refusal says why, in the failed event of the resize action.
        self.assertIn('minidisks cannot be resized',
                      self._failed_event_details(server, 'resize'))

        self.delete_server(server)
