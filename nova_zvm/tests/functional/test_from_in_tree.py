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

"""Servers built by nova's in-tree z/VM driver keep working on nova-zvm."""

import os

import fixtures
from nova.compute import power_state

from nova_zvm.tests.functional import base


class FromInTreeTest(base.ZVMTestCase):
    # nova's in-tree driver cannot send tokens (zvmconnector's client).
    LAB_OPTIONS = {'auth': 'none'}
    compute_driver = 'zvm.ZVMDriver'

    def _configure_driver(self):
        super()._configure_driver()
        self.flags(token_file=None, group='zvm')
        # The in-tree driver downloads images there without creating it.
        os.makedirs(base.CONF.zvm.image_tmp_path)
        # nova 34's in-tree driver inherits list_instance_uuids, which
        # raises NotImplementedError, and nova's new-host check does not
        # catch it: the in-tree driver cannot start as a new service.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.zvm.driver.ZVMDriver.list_instance_uuids',
            return_value=[]))

    def switch_to_nova_zvm(self):
        """Change compute_driver and restart nova-compute, as the guide."""
        self.flags(compute_driver='nova_zvm.ZVMDriver')
        self.compute = self.restart_compute_service(
            self.compute, keep_hypervisor_state=False)
        self.assertEqual('ZVMDriver',
                         type(self.compute.manager.driver).__name__)
        self.assertEqual('nova_zvm.virt.driver',
                         type(self.compute.manager.driver).__module__)

    def test_servers_keep_working_after_the_switch(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        cfgdrive = os.path.join(self.flags_instances_path(), server['id'],
                                'cfgdrive.iso')
        # The in-tree driver leaves its config drive there.
        self.assertTrue(os.path.exists(cfgdrive))

        self.switch_to_nova_zvm()

        # listed, power state right
        self.sync_power_states()
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        self.assertIn(server['id'],
                      self.compute.manager.driver.list_instance_uuids())

        # reboot, stop/start, pause/unpause
        self._reboot_server(server, hard=True)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        server = self._stop_server(server)
        self.assertEqual('off', self.zvm_guest(server)['power'])
        server = self._start_server(server)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        self.api.post_server_action(server['id'], {'pause': None})
        server = self.wait_for_status(server, 'PAUSED')
        self.assertEqual('paused', self.zvm_guest(server)['power'])
        self.api.post_server_action(server['id'], {'unpause': None})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assertEqual('on', self.zvm_guest(server)['power'])

        # snapshot and console
        snapshot_id = self.api.post_server_action(
            server['id'], {'createImage': {'name': 'switched'}})['image_id']
        server = self.wait_for_status(server, 'ACTIVE')
        self.assertEqual('active',
                         self.glance.show(None, snapshot_id)['status'])
        self.assertTrue(self.glance.image_data(snapshot_id).startswith(
            b'xCAT CKD Disk Image:'))
        self.lab.zvm.add_console_output(userid, 'after the switch\n')
        output = self.api.post_server_action(
            server['id'], {'os-getConsoleOutput': {}})['output']
        self.assertIn('after the switch', output)

        # delete: the guest and the in-tree driver's config drive go
        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))
        self.assertFalse(os.path.exists(cfgdrive))

    def flags_instances_path(self):
        return base.CONF.instances_path
