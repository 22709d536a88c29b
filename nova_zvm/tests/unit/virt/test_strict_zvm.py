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

"""The driver on a lab as strict as a real z/VM.

Slow and hung shutdowns, logoffs that take time, DirMaint locks and disk
pools made of volumes: what the driver must survive on a mainframe.
"""

import fixtures
from nova.compute import power_state
from nova import exception as nova_exception
import os_resource_classes as orc

from nova_zvm.client import ZVMClient
from nova_zvm import exception as zvm_exception
from nova_zvm.lab import zvm as fake_zvm
from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import host
from nova_zvm.virt import image
from nova_zvm.virt import spawn


def _restore_settings(test):
    test.addCleanup(test.lab.zvm.set_settings, **fake_zvm.DEFAULT_SETTINGS)


class TestSlowShutdown(driver_base.DriverTestCase):
    """Guests that shut down slowly or never, and logoffs that take time."""

    def setUp(self):
        super().setUp()
        _restore_settings(self)

    def zvm_user(self, inst):
        return self.lab.zvm.state()['users'][self.userid(inst)]

    def test_hard_reboot_of_a_guest_that_ignores_the_signal(self):
        # CP would wait this long for the guest; a hard reboot must not.
        self.lab.zvm.set_settings(signal_timeout=600)
        inst = self.guest('on')
        self.lab.zvm.set_shutdown(self.userid(inst), 'ignore')

        self.driver.reboot(self.context, inst, [], 'HARD')

        user = self.zvm_user(inst)
        self.assertEqual(('on', False), (user['power'], user['logging_off']))
        self.assertIn('LOGOFF', user['console'])
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_power_off_with_timeout_of_a_guest_that_ignores_it(self):
        # The clean shutdown runs out; the guest is still being logged off
        # by CP (200/16) when the driver stops it hard.
        self.lab.zvm.set_settings(signal_timeout=1.0)
        inst = self.guest('on')
        self.lab.zvm.set_shutdown(self.userid(inst), 'ignore')

        self.driver.power_off(inst, timeout=1, retry_interval=1)

        user = self.zvm_user(inst)
        self.assertEqual(('off', False), (user['power'], user['logging_off']))
        # Off for real: it starts again at once.
        self.driver.power_on(self.context, inst, [])
        self.assertEqual('on', self.zvm_user(inst)['power'])

    def test_power_off_without_timeout_waits_for_the_logoff(self):
        self.lab.zvm.set_settings(logoff_seconds=0.5)
        inst = self.guest('on')

        self.driver.power_off(inst, timeout=0)

        self.assertEqual('off', self.zvm_user(inst)['power'])
        self.driver.power_on(self.context, inst, [])
        self.assertEqual('on', self.zvm_user(inst)['power'])

    def test_power_off_with_timeout_of_a_slow_guest(self):
        self.lab.zvm.set_settings(signal_timeout=30)
        inst = self.guest('on')
        self.lab.zvm.set_shutdown(self.userid(inst), 0.5)

        self.driver.power_off(inst, timeout=30, retry_interval=1)

        self.assertEqual('off', self.zvm_user(inst)['power'])
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_destroy_of_a_running_guest_during_a_slow_logoff(self):
        # Longer than zvmsdk waits after 596/6831 (it then answers success
        # and leaves the guest).
        self.lab.zvm.set_settings(logoff_seconds=2.5)
        inst = self.guest('on')

        self.driver.destroy(self.context, inst, [])

        self.assertIsNone(self.user(self.userid(inst)))

    def test_destroy_of_a_guest_that_ignores_the_signal(self):
        self.lab.zvm.set_settings(signal_timeout=600)
        inst = self.guest('on')
        self.lab.zvm.set_shutdown(self.userid(inst), 'ignore')

        self.driver.destroy(self.context, inst, [])

        self.assertIsNone(self.user(self.userid(inst)))


class TestLockedEntry(spawn_base.SpawnTestCase):
    """A directory entry another DirMaint request holds locked."""

    def setUp(self):
        super().setUp()
        # The driver's client, with its default retry policy (fast).
        self.client = ZVMClient(self.lab.url, token_file=self.lab.token_file,
                                ca_file=self.lab.ca_file, read_timeout=60,
                                max_retries=3, retry_interval=0.05)
        self.addCleanup(self.client.close)

    def _spawned(self, vifs=()):
        inst = self.instance()
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.glance.add(), [], None, {}, list(vifs),
                    image_manager=image.ImageManager(
                        self.client, image_api=self.glance))
        return inst

    def test_destroy_survives_a_transient_lock(self):
        inst = self._spawned([self.vif(0)])
        self.lab.zvm.hold_entry(inst.name, count=2)

        spawn.destroy(self.client, self.context, inst, [self.vif(0)])

        self.assertIsNone(self.user(inst.name))
        self.assertEqual({}, self.grants(inst.name))

    def test_a_failed_spawn_rolls_back_through_a_transient_lock(self):
        pools = {n: p['free'] for n, p in
                 self.lab.zvm.state()['pools'].items()}
        inst = self.instance()
        # The start fails; the rollback's purge finds the entry locked.
        self.lab.zvm.inject_fault('Image_Activate', rc=99, rs=99)
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=400, rs=12, count=2)

        self.assertRaises(zvm_exception.ZVMFailure, spawn.spawn,
                          self.client, self.virtapi, self.context, inst,
                          self.glance.add(), [], None, {}, [self.vif(0)],
                          image_manager=image.ImageManager(
                              self.client, image_api=self.glance))

        self.assertIsNone(self.user(inst.name))
        self.assertEqual({}, self.grants(inst.name))
        self.assertEqual(pools, {n: p['free'] for n, p in
                                 self.lab.zvm.state()['pools'].items()})

    def test_a_persistent_lock_is_reported_and_nothing_is_lost(self):
        inst = self._spawned()
        self.lab.zvm.hold_entry(inst.name, count=0)
        # Every attempt of the delete finds it locked (without waiting).
        self.useFixture(fixtures.MonkeyPatch(
            'nova_zvm.virt.teardown.DELETE_RETRY_DELAYS', (0, 0)))

        err = self.assertRaises(zvm_exception.ZVMFailure, spawn.destroy,
                                self.client, self.context, inst, [])

        self.assertEqual((400, 12), (err.rc, err.rs))
        self.assertIsNotNone(self.user(inst.name))
        self.lab.zvm.release_entry(inst.name)
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNone(self.user(inst.name))


class TestDiskPoolOfSmallVolumes(spawn_base.SpawnTestCase):
    """A pool of two 6,000-cylinder volumes (4 GiB each, 8 GiB in all)."""

    lab_kwargs = {'vswitches': ['VSW2'],
                  'disk_pools': ['ECKD:POOL1:2x6000']}

    def setUp(self):
        super().setUp()
        self.conf.config(group='zvm', disk_pool='ECKD:POOL1')
        self.stats = host.HostStats(self.client)

    def test_max_unit_is_the_largest_minidisk_not_the_pool(self):
        stats = self.stats.get()
        inventory = host.inventory(stats, {orc.VCPU: 1, orc.MEMORY_MB: 1,
                                           orc.DISK_GB: 1})[orc.DISK_GB]
        self.assertEqual(8, inventory['total'])
        self.assertEqual(4, inventory['max_unit'])
        self.assertEqual((6000, 'CYL'), self.stats.disk_limit())

    def test_a_root_disk_larger_than_any_volume_is_refused_first(self):
        inst = self.instance(root_gb=5)
        self.lab.zvm.reset_rest_calls()

        err = self.assertRaises(
            nova_exception.InvalidInput, spawn.spawn, self.client,
            self.virtapi, self.context, inst, self.glance.add(), [], None,
            {}, [], image_manager=image.ImageManager(
                self.client, image_api=self.glance),
            volume_limit=self.stats.disk_limit())

        self.assertIn('root disk', str(err))
        self.assertIn('at most 4 GiB', str(err))
        self.assertEqual([], self.changing_rest_calls())
        self.assertIsNone(self.user(inst.name))

    def test_an_image_sized_root_disk_is_checked_too(self):
        # root_gb 0: the disk is as large as the image's (7,000 cylinders).
        inst = self.instance(root_gb=0)
        meta = self.glance.add(spawn_base.disk_image(cylinders=7000))

        err = self.assertRaises(
            nova_exception.InvalidInput, spawn.spawn, self.client,
            self.virtapi, self.context, inst, meta, [], None, {}, [],
            image_manager=image.ImageManager(self.client,
                                             image_api=self.glance),
            volume_limit=self.stats.disk_limit())

        self.assertIn('the root disk of flavor', str(err))
        self.assertIn('(4.8 GiB)', str(err))
        self.assertIsNone(self.user(inst.name))
        self.assertEqual(6000 * 2, self.lab.zvm.state()['pools']['POOL1'][
            'free'])

    def test_disks_that_fit_spawn_in_separate_volumes(self):
        inst = self.instance(root_gb=4, ephemeral_gb=4)
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.glance.add(), [], None, {}, [],
                    image_manager=image.ImageManager(
                        self.client, image_api=self.glance),
                    volume_limit=self.stats.disk_limit())
        disks = self.user(inst.name)['minidisks']
        self.assertEqual(2, len({d['volume'] for d in disks.values()}))
        spawn.destroy(self.client, self.context, inst, [])
        self.assertEqual(12000, self.lab.zvm.state()['pools']['POOL1'][
            'free'])
