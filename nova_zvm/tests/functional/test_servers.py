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

"""Server lifecycle through nova's REST API, checked on the fake z/VM.

Each test boots real servers: nova-api -> conductor -> scheduler ->
nova-compute -> ZVMDriver -> HTTP -> the Cloud Connector -> the fake z/VM,
and then reads the outcome from both ends: nova's API and placement, and
the fake z/VM's directory, disk pools, vswitches and power states.
"""

import os

from nova.compute import power_state

from nova_zvm.lab import zvm as lab_zvm
from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures

GIB = 1024 ** 3
# Bytes per unit of the fake z/VM's minidisk sizes (zvmsdk's own figures).
UNIT_BYTES = {'CYL': 737280, 'BLK': 512}
# The z/VM failure injected during a boot: starting the guest fails.
BOOT_FAULT = 'Image_Activate'
BOOT_FAULT_RC = 200
BOOT_FAULT_RS = 12


def minidisk_gib(minidisk):
    return minidisk['size'] * UNIT_BYTES[minidisk['unit']] / GIB


class ServerLifecycleTest(base.ZVMTestCase):

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(
            name='zvm.small', vcpu=2, memory_mb=1024, disk=2, ephemeral=1)

    def assert_guest_runs_flavor(self, server, flavor):
        guest = self.zvm_guest(server)
        self.assertIsNotNone(guest, 'no z/VM guest %s' % base.userid_of(
            server))
        self.assertEqual(flavor['vcpus'], guest['vcpus'])
        self.assertEqual(flavor['ram'], guest['memory_mb'])
        # The root disk and any ephemeral disk, in this order of virtual
        # device numbers, of the flavor's sizes, from the configured pool.
        expected_gib = [flavor['disk']] + (
            [flavor['ephemeral']] if flavor['ephemeral'] else [])
        disks = [disk for vdev, disk in sorted(guest['minidisks'].items())]
        self.assertEqual(len(expected_gib), len(disks), guest['minidisks'])
        for size, disk in zip(expected_gib, disks):
            self.assertEqual(base.DISK_POOL.split(':')[1], disk['pool'])
            self.assertAlmostEqual(size, minidisk_gib(disk), delta=0.01)
        return guest

    def assert_nic_coupled(self, server):
        userid = base.userid_of(server)
        state = self.lab.zvm.state()
        nics = state['users'][userid]['nics']
        self.assertEqual([zvm_fixtures.VSWITCH],
                         [nic['vswitch'] for nic in nics.values()])
        # Granted access to the vswitch, without a VLAN on a flat network.
        grants = state['vswitches'][zvm_fixtures.VSWITCH]['grants']
        self.assertEqual({'vlan': None}, grants[userid])

    def assert_power(self, server, power):
        self.assertEqual(power, self.zvm_guest(server)['power'])

    def assert_power_sync_keeps(self, server, expected_power_state):
        """Nova's power sync agrees with the server's state."""
        self.sync_power_states()
        synced = self._show_server(server)
        self.assertEqual(server['status'], synced['status'])
        self.assertEqual(expected_power_state,
                         synced['OS-EXT-STS:power_state'])

    def assert_nothing_left(self, server, state_before):
        """Neither z/VM nor placement keeps anything of ``server``."""
        state = self.lab.zvm.state()
        self.assertNotIn(base.userid_of(server), state['users'])
        self.assertEqual(state_before['pools'], state['pools'])
        for name, vswitch in state['vswitches'].items():
            self.assertNotIn(base.userid_of(server), vswitch['grants'],
                             'grant left on %s' % name)
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))
        # Nor the compute host: no config drive or instance directory.
        self.assertFalse(os.path.exists(
            os.path.join(base.CONF.instances_path, server['id'])))

    def test_boot_operate_and_delete(self):
        state_before = self.lab.zvm.state()
        server = self.boot_server(flavor_id=self.flavor_id)
        flavor = server['flavor']

        # Booted: the guest has the flavor's resources, its NIC is coupled
        # to the vswitch the port's physical network maps to, and it runs.
        self.assert_guest_runs_flavor(server, flavor)
        self.assert_nic_coupled(server)
        self.assert_power(server, 'on')
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        self.assert_usage_of(flavor)

        server = self._stop_server(server)
        self.assert_power(server, 'off')
        self.assert_power_sync_keeps(server, power_state.SHUTDOWN)
        server = self._start_server(server)
        self.assert_power(server, 'on')

        for hard in (False, True):
            console_before = self.zvm_guest(server)['console']
            server = self._reboot_server(server, hard=hard)
            self.assert_power(server, 'on')
            self.assert_guest_rebooted(server, console_before, hard)

        self.api.post_server_action(server['id'], {'pause': None})
        server = self.wait_for_status(server, 'PAUSED')
        self.assert_power(server, 'paused')
        # z/VM's power state is only on or off: the driver must remember
        # the pause, or the sync records a paused server as running.
        self.assert_power_sync_keeps(server, power_state.PAUSED)
        # Also after nova-compute restarts with a new driver instance.
        self.compute = self.restart_compute_service(
            self.compute, keep_hypervisor_state=False)
        self.assert_power_sync_keeps(server, power_state.PAUSED)
        self.api.post_server_action(server['id'], {'unpause': None})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_power(server, 'on')

        console = self.api.post_server_action(
            server['id'], {'os-getConsoleOutput': {}})['output']
        # Everything the guest wrote to its z/VM console so far.
        guest_console = self.zvm_guest(server)['console'].strip()
        self.assertIn('LOGON %s' % base.userid_of(server), guest_console)
        self.assertIn(guest_console, console)

        self.delete_server(server)
        self.assert_nothing_left(server, state_before)

    def test_guest_that_ignores_the_shutdown_signal(self):
        # A hung guest: CP waits signal_timeout before it forces it off,
        # and refuses another deactivate meanwhile (200/16).
        self.addCleanup(self.lab.zvm.set_settings,
                        **lab_zvm.DEFAULT_SETTINGS)
        self.lab.zvm.set_settings(signal_timeout=2.0, logoff_seconds=0.2)
        state_before = self.lab.zvm.state()
        server = self.boot_server(flavor_id=self.flavor_id)
        self.lab.zvm.set_shutdown(base.userid_of(server), 'ignore')

        console_before = self.zvm_guest(server)['console']
        server = self._reboot_server(server, hard=True)
        self.assert_power(server, 'on')
        self.assert_guest_rebooted(server, console_before, hard=True)

        server = self._stop_server(server)
        self.assert_power(server, 'off')
        self.assertFalse(self.zvm_guest(server)['logging_off'])
        server = self._start_server(server)
        self.assert_power(server, 'on')

        self.delete_server(server)
        self.assert_nothing_left(server, state_before)

    def assert_guest_rebooted(self, server, console_before, hard):
        # The guest's console tells: a soft reboot asks the guest's OS to
        # reboot itself; a hard one logs the guest off and IPLs it again.
        console = self.zvm_guest(server)['console']
        self.assertTrue(console.startswith(console_before))
        new_lines = console[len(console_before):].splitlines()
        if hard:
            self.assertNotIn('Rebooting.', new_lines)
            self.assertIn('LOGOFF %s' % base.userid_of(server), new_lines)
            self.assertTrue([line for line in new_lines
                             if line.startswith('IPL ')], new_lines)
        else:
            self.assertEqual(['Rebooting.'], new_lines)

    def test_snapshot_and_boot_from_it(self):
        state_before = self.lab.zvm.state()
        server = self.boot_server(flavor_id=self.flavor_id)

        image_id = self.api.post_server_action(
            server['id'], {'createImage': {'name': 'snap'}})['image_id']
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_power(server, 'on')
        image = self.glance.show(None, image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual('s390x', image['properties']['architecture'])
        # What reached Glance is the captured z/VM disk image.
        self.assertTrue(self.glance.image_data(image_id).startswith(
            b'xCAT CKD Disk Image:'))

        clone = self.boot_server(image_uuid=image_id,
                                 flavor_id=self.flavor_id)
        self.assertNotEqual(base.userid_of(server), base.userid_of(clone))
        self.assert_guest_runs_flavor(clone, clone['flavor'])
        self.assert_nic_coupled(clone)
        self.assert_power(clone, 'on')

        for each in (server, clone):
            self.delete_server(each)
        for each in (server, clone):
            self.assert_nothing_left(each, state_before)

    def test_zvm_failure_during_boot_leaves_nothing(self):
        state_before = self.lab.zvm.state()
        # The guest's definition, disks, NIC and config drive exist by the
        # time it is started: a failure there must undo all of them.
        self.lab.zvm.inject_fault(BOOT_FAULT, rc=BOOT_FAULT_RC,
                                  rs=BOOT_FAULT_RS)

        server = self.boot_server(flavor_id=self.flavor_id,
                                  expected_status='ERROR')

        self.assertEqual(1, self.lab.zvm.state()['faults'][0]['fired'])
        # Nova keeps 255 characters of a fault message: the failed call
        # and z/VM's return and reason codes come first.
        message = server['fault']['message']
        for expected in ('guest_start', 'rc %d' % BOOT_FAULT_RC,
                         'rs %d' % BOOT_FAULT_RS):
            self.assertIn(expected, message)
        self.assertIn(BOOT_FAULT, server['fault']['details'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assert_nothing_left(server, state_before)

    def test_periodic_update_reports_the_fake_host(self):
        self._run_periodics(raise_on_error=True)

        host = self.lab.zvm.state()['host']
        pool = self.lab.zvm.state()['pools'][base.DISK_POOL.split(':')[1]]
        inventory = self._get_provider_inventory(self.compute_node_uuid())
        self.assertEqual(host['cpus_total'], inventory['VCPU']['total'])
        self.assertEqual(host['memory_mb'], inventory['MEMORY_MB']['total'])
        pool_gib = pool['total'] * UNIT_BYTES[pool['unit']] / GIB
        self.assertAlmostEqual(pool_gib, inventory['DISK_GB']['total'],
                               delta=1)
        # DirMaint places a minidisk inside one volume: no instance disk
        # can be larger than the largest volume, however large the pool.
        self.assertEqual(
            pool['volume_size'] * UNIT_BYTES[pool['unit']] // GIB,
            inventory['DISK_GB']['max_unit'])

    def test_a_disk_larger_than_any_volume_is_never_scheduled(self):
        state_before = self.lab.zvm.state()
        pool = state_before['pools'][base.DISK_POOL.split(':')[1]]
        too_big = pool['volume_size'] * UNIT_BYTES[pool['unit']] // GIB + 1
        flavor_id = self._create_flavor(memory_mb=1024, vcpu=1, disk=too_big,
                                        ephemeral=0)

        server = self.boot_server(flavor_id=flavor_id,
                                  expected_status='ERROR')

        self.assertIn('No valid host', server['fault']['message'])
        self.assertEqual(state_before['users'],
                         self.lab.zvm.state()['users'])
