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

"""The facade: capabilities, error translation, start-up and outages."""

from nova.compute import power_state
from nova import exception as nova_exception
from nova import objects
from nova.virt import driver as nova_driver
import testtools

from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.virt import driver as zvm_driver
from nova_zvm.virt import translate


class CapabilitiesTestCase(testtools.TestCase):

    def test_raw_images_only(self):
        caps = zvm_driver.ZVMDriver.capabilities
        image_types = {k: v for k, v in caps.items()
                       if k.startswith('supports_image_type_')}
        self.assertEqual({'supports_image_type_raw'},
                         {k for k, v in image_types.items() if v})
        # Every key of the base class is still there.
        self.assertEqual(set(nova_driver.ComputeDriver.capabilities),
                         set(caps))

    def test_image_cache_and_nothing_unsupported(self):
        caps = zvm_driver.ZVMDriver.capabilities
        self.assertTrue(caps['has_imagecache'])
        # Recreated from the shared directory in an SSI, else rebuilt.
        self.assertTrue(caps['supports_evacuate'])
        for key in ('supports_multiattach', 'supports_pcpus'):
            self.assertFalse(caps[key], key)

    def test_interfaces_attach_untagged(self):
        caps = zvm_driver.ZVMDriver.capabilities
        self.assertTrue(caps['supports_attach_interface'])
        self.assertFalse(caps['supports_tagged_attach_interface'])


class FacadeTestCase(driver_base.DriverTestCase):

    def test_connector_failure_names_codes_and_guest(self):
        inst = self.guest('off')
        self.lab.zvm.inject_fault('Image_Activate', rc=200, rs=12)
        err = self.assertRaises(translate.ZVMConnectorCallFailed,
                                self.driver.power_on, self.context, inst, [])
        msg = str(err)
        self.assertIn('guest_start', msg)
        self.assertIn(self.userid(inst), msg)
        self.assertIn('overallRC', msg)
        self.assertIn('rs ', msg)
        self.assertIsInstance(err, nova_exception.NovaException)
        self.assertEqual('off', self.zvm_power(inst))

    def test_not_found_becomes_instance_not_found(self):
        missing = self.instance()
        err = self.assertRaises(nova_exception.InstanceNotFound,
                                self.driver.reboot, self.context, missing,
                                [], 'HARD')
        self.assertIn(missing.uuid, str(err))

    def test_destroy_removes_the_guest_and_refreshes_the_cache(self):
        self.cfg.config(group='zvm', power_state_cache_ttl=600)
        inst = self.guest('on')
        count = self.driver.get_num_instances()
        self.driver.destroy(self.context, inst, [])
        self.assertNotIn(self.userid(inst), self.lab.zvm.state()['users'])
        self.assertEqual(count - 1, self.driver.get_num_instances())
        self.assertRaises(nova_exception.InstanceNotFound,
                          self.driver.get_info, inst)
        # Idempotent.
        self.driver.destroy(self.context, inst, [])

    def test_destroy_forgets_a_pause(self):
        inst = self.guest('on')
        self.driver.pause(inst)
        self.driver.destroy(self.context, inst, [])
        self.create_guest(self.userid(inst), 'on')
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_list_instance_uuids_names_recorded_guests(self):
        # Before: NotImplementedError, which nova's new-host check does not
        # catch. Now: the uuids of guests this host recorded, cheaply.
        inst = self.guest('off')
        foreign = self.guest('off')
        self.assertNotIn(inst.uuid, self.driver.list_instance_uuids())
        # nova-compute's start-up records launched instances' guests
        self.driver.process_instances_at_startup(self.context, [inst])
        self.driver.get_num_instances()
        self.lab.zvm.reset_rest_calls()
        uuids = self.driver.list_instance_uuids()
        self.assertIn(inst.uuid, uuids)
        self.assertNotIn(foreign.uuid, uuids)
        # answered from the cached bulk list: no call per guest
        self.assertEqual([], self.lab.zvm.rest_calls())

    def test_startup_logs_one_clear_line(self):
        log = self.useFixture(driver_base.fixtures.FakeLogger(
            name='nova_zvm', level=driver_base.logging.INFO))
        self.new_driver()
        lines = [line for line in log.output.splitlines()
                 if line.startswith('Connected to the z/VM Cloud Connector')]
        self.assertEqual(1, len(lines))
        self.assertIn(self.url, lines[-1])
        self.assertIn('API version 1.0', lines[-1])
        self.assertIn('token accepted', lines[-1])
        self.assertIn(driver_base.DISK_POOL, lines[-1])
        with open(self.lab.token_file) as f:
            self.assertNotIn(f.read().strip(), log.output)

    def test_bad_token_stops_startup(self):
        bad = self.useFixture(driver_base.fixtures.TempDir()).path + '/tok'
        with open(bad, 'w') as f:
            f.write('not-the-admin-token')
        self.cfg.config(group='zvm', token_file=bad)
        err = self.assertRaises(nova_exception.InvalidConfiguration,
                                self.new_driver)
        self.assertIn('[zvm] token_file', str(err))
        self.assertNotIn('not-the-admin-token', self.log.output)

    def test_unknown_disk_pool_stops_startup(self):
        self.cfg.config(group='zvm', disk_pool='ECKD:NOPOOL')
        err = self.assertRaises(nova_exception.InvalidConfiguration,
                                self.new_driver)
        self.assertIn('[zvm] disk_pool', str(err))
        self.assertIn('ECKD:NOPOOL', str(err))


class ConnectorDownTestCase(driver_base.DriverTestCase):
    """nova-compute starts and runs while the connector is away."""

    use_proxy = True

    def test_startup_with_the_connector_down_then_recovery(self):
        inst = self.guest('on')
        self.proxy.down()
        log = self.useFixture(driver_base.fixtures.FakeLogger(
            name='nova_zvm', level=driver_base.logging.INFO))
        driver = self.new_driver()          # must not raise
        warnings = [line for line in log.output.splitlines()
                    if 'is not reachable' in line]
        self.assertEqual(1, len(warnings))
        # (besides the warning that the lab's http:// carries tokens)
        self.assertEqual(1, len([line for line in log.output.splitlines()
                                 if 'in clear' not in line]))
        self.assertNotIn('Traceback', log.output)

        # Nova's periodic tasks see "not ready" and skip.
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          driver.get_num_instances)
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          driver.get_available_nodes)
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          driver.list_instances)
        # Start-up recovery needs the connector for this one: withheld.
        instances = objects.InstanceList(objects=[inst])
        self.assertEqual(0, len(driver.process_instances_at_startup(
            self.context, instances)))
        # Once nova-compute runs, an operation fails with a clear nova
        # error, not a crash.
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          driver.get_available_nodes)
        err = self.assertRaises(translate.ZVMConnectorUnavailable,
                                driver.get_info, inst, use_cache=False)
        self.assertIn(self.userid(inst), str(err))

        self.proxy.up()
        self.assertEqual(len(self.lab.zvm.state()['guests']),
                         driver.get_num_instances())
        self.assertEqual(power_state.RUNNING, driver.get_info(inst).state)
        self.assertEqual([self.lab.zvm.state()['host']['system_name']],
                         driver.get_available_nodes())
        self.assertEqual(1, len(driver.process_instances_at_startup(
            self.context, instances)))

    def test_list_instance_uuids_while_down(self):
        self.proxy.down()
        driver = self.new_driver()
        # The new-host sanity check at start-up must not stop nova-compute.
        self.assertEqual([], driver.list_instance_uuids())

    def test_outage_after_startup(self):
        inst = self.guest('on')
        self.driver.get_num_instances()
        self.proxy.down()
        self.driver._power.cache.invalidate()
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          self.driver.get_num_instances)
        self.proxy.up()
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst).state)


class HardeningTestCase(driver_base.DriverTestCase):
    """Start-up and destroy paths a review found broken."""

    use_proxy = True

    def test_destroy_of_an_instance_with_an_invalid_name_succeeds(self):
        # zvm%05x at id 0x100000: nine characters. Before, the power
        # cache's forget raised InvalidInput after the destroy.
        self.cfg.config(instance_name_template='zvm%05x')
        inst = self.instance(0x100000)
        self.driver.destroy(self.context, inst, [])
        self.assertFalse(self.driver.instance_exists(inst))

    def test_transient_connector_error_at_start_is_not_fatal(self):
        # SMAPI still coming up after an IPL: the connector answers 500.
        self.lab.zvm.inject_fault('Image_Volume_Space_Query_DM', rc=8,
                                  rs=99, count=2)
        driver = self.new_driver()          # before: InvalidConfiguration
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          driver.get_available_nodes)
        self.lab.zvm.clear_faults()
        self.assertEqual([self.lab.zvm.state()['host']['system_name']],
                         driver.get_available_nodes())

    def test_startup_recovery_while_down_covers_offline_cases(self):
        building = self.instance()
        building.vm_state = 'building'
        snapshotting = self.guest('on')
        snapshotting.task_state = 'image_uploading'
        rebooting = self.guest('on')
        rebooting.task_state = 'rebooting'
        self.proxy.down()
        driver = self.new_driver()
        given = driver.process_instances_at_startup(
            self.context, objects.InstanceList(
                objects=[building, snapshotting, rebooting]))
        # Before: none, so the first two stayed stuck in their task state.
        self.assertEqual([building.uuid, snapshotting.uuid],
                         [i.uuid for i in given])
        # Nova asks the snapshot's power state after resetting it.
        self.assertEqual(power_state.NOSTATE,
                         driver.get_info(snapshotting,
                                         use_cache=False).state)
