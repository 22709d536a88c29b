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

"""Power operations, power state and the power sync, on the lab."""

import concurrent.futures
import json
import threading

from nova.compute import power_state
from nova import exception as nova_exception
import testtools

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.virt import power


def _stats_calls(rest_calls):
    return [c for c in rest_calls if c.startswith('GET /guests/stats')]


class PowerOpsTestCase(driver_base.DriverTestCase):

    def test_get_info_running_and_shut_down(self):
        on, off = self.guest('on'), self.guest('off')
        self.assertEqual(power_state.RUNNING, self.driver.get_info(on).state)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(off).state)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(off, use_cache=False).state)

    def test_get_info_of_an_invalid_name_is_not_found(self):
        inst = self.instance()
        self.cfg.config(instance_name_template='instance-%08x')
        self.assertRaises(nova_exception.InstanceNotFound,
                          self.driver.get_info, inst)
        self.assertFalse(self.driver.instance_exists(inst))

    def test_get_info_unknown_instance(self):
        missing = self.instance()
        for use_cache in (True, False):
            self.assertRaises(nova_exception.InstanceNotFound,
                              self.driver.get_info, missing,
                              use_cache=use_cache)
        self.assertFalse(self.driver.instance_exists(missing))

    def test_instance_exists_and_list_instances(self):
        inst = self.guest('off')
        self.assertTrue(self.driver.instance_exists(inst))
        # Names as nova makes them, so that nova can match them.
        self.assertIn(inst.name, self.driver.list_instances())

    def test_instance_created_after_the_snapshot_is_found(self):
        self.driver.get_num_instances()     # takes the snapshot
        inst = self.guest('on')
        self.assertTrue(self.driver.instance_exists(inst))
        self.assertEqual(power_state.RUNNING, self.driver.get_info(inst).state)

    def test_pause_is_reported_and_survives_a_restart(self):
        inst = self.guest('on')
        self.driver.pause(inst)
        self.assertEqual('paused', self.zvm_power(inst))
        self.assertEqual(power_state.PAUSED, self.driver.get_info(inst).state)
        self.assertEqual(power_state.PAUSED,
                         self.driver.get_info(inst, use_cache=False).state)
        # nova-compute restarts: a new driver still knows.
        restarted = self.new_driver()
        self.assertEqual(power_state.PAUSED,
                         restarted.get_info(inst, use_cache=False).state)
        restarted.unpause(inst)
        self.assertEqual('on', self.zvm_power(inst))
        self.assertEqual(power_state.RUNNING,
                         restarted.get_info(inst).state)
        self.assertEqual(power_state.RUNNING,
                         self.new_driver().get_info(inst).state)

    def test_paused_guest_logged_off_outside_is_shut_down(self):
        inst = self.guest('on')
        self.driver.pause(inst)
        self.lab.zvm.set_power(self.userid(inst), 'off')
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst, use_cache=False).state)
        # The pause is forgotten: started again outside, it runs.
        self.lab.zvm.set_power(self.userid(inst), 'on')
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_pause_of_a_stopped_guest_fails_and_remembers_nothing(self):
        inst = self.guest('off')
        self.assertRaises(nova_exception.NovaException, self.driver.pause,
                          inst)
        self.assertEqual('off', self.zvm_power(inst))
        self.lab.zvm.set_power(self.userid(inst), 'on')
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_power_off_with_timeout_0_stops_hard_at_once(self):
        inst = self.guest('on')
        self.lab.zvm.reset_calls()
        self.driver.power_off(inst, timeout=0)
        self.assertEqual('off', self.zvm_power(inst))
        # No shutdown signal to the guest's OS (IUCV), straight deactivate.
        calls = self.lab.zvm.calls()
        self.assertIn('smapi:Image_Deactivate', calls)
        self.assertNotIn('zthin:iucvclnt', calls)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst).state)

    def test_power_off_with_timeout_shuts_down_cleanly(self):
        inst = self.guest('on')
        self.lab.zvm.reset_calls()
        self.driver.power_off(inst, timeout=30, retry_interval=1)
        self.assertEqual('off', self.zvm_power(inst))
        self.assertIn('zthin:iucvclnt', self.lab.zvm.calls())

    def test_power_off_of_a_paused_guest(self):
        inst = self.guest('on')
        self.driver.pause(inst)
        self.lab.zvm.reset_calls()
        self.driver.power_off(inst, timeout=30, retry_interval=1)
        self.assertEqual('off', self.zvm_power(inst))
        calls = self.lab.zvm.calls()
        # Unpaused first (SMAPI Image_Pause serves both), so that its OS
        # could act on the shutdown signal.
        self.assertIn('smapi:Image_Pause', calls)
        self.assertLess(calls.index('smapi:Image_Pause'),
                        calls.index('zthin:iucvclnt'))
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst, use_cache=False).state)
        self.driver.power_on(self.context, inst, [])
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_power_off_falls_back_to_a_hard_stop(self):
        inst = self.guest('on')
        # The clean shutdown fails on z/VM; the guest must still go off.
        self.lab.zvm.inject_fault('iucvclnt', rc=1, count=0)
        self.driver.power_off(inst, timeout=5, retry_interval=1)
        self.assertEqual('off', self.zvm_power(inst))

    def test_power_off_of_a_stopped_guest_is_a_no_op(self):
        inst = self.guest('off')
        self.driver.power_off(inst, timeout=0)
        self.assertEqual('off', self.zvm_power(inst))

    def test_power_on(self):
        inst = self.guest('off')
        self.driver.power_on(self.context, inst, network_info=[])
        self.assertEqual('on', self.zvm_power(inst))
        self.assertEqual(power_state.RUNNING, self.driver.get_info(inst).state)
        # Again: already on is fine.
        self.driver.power_on(self.context, inst, network_info=[])
        self.assertEqual('on', self.zvm_power(inst))

    def test_reboot_soft_and_hard(self):
        inst = self.guest('on')
        for kind, smapi in (('SOFT', None), ('HARD', 'smapi:Image_Activate')):
            self.lab.zvm.reset_calls()
            self.driver.reboot(self.context, inst, [], kind)
            self.assertEqual('on', self.zvm_power(inst), kind)
            if smapi:
                self.assertIn(smapi, self.lab.zvm.calls())
        self.assertEqual(power_state.RUNNING, self.driver.get_info(inst).state)

    def test_reboot_of_a_stopped_guest_starts_it(self):
        for kind in ('SOFT', 'HARD'):
            inst = self.guest('off')
            self.driver.reboot(self.context, inst, [], kind)
            self.assertEqual('on', self.zvm_power(inst), kind)

    def test_reboot_unpauses(self):
        inst = self.guest('on')
        self.driver.pause(inst)
        self.driver.reboot(self.context, inst, [], 'HARD')
        self.assertEqual('on', self.zvm_power(inst))
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(inst, use_cache=False).state)

    def test_power_op_on_unknown_instance(self):
        missing = self.instance()
        self.assertRaises(nova_exception.InstanceNotFound,
                          self.driver.power_on, self.context, missing, [])
        self.assertRaises(nova_exception.InstanceNotFound,
                          self.driver.power_off, missing)

    def test_cached_get_info_vs_exact(self):
        self.cfg.config(group='zvm', power_state_cache_ttl=600)
        inst = self.guest('on')
        self.assertEqual(power_state.RUNNING, self.driver.get_info(inst).state)
        # Stopped behind the driver's back: the snapshot says running
        # until it expires; use_cache=False is exact.
        self.lab.zvm.set_power(self.userid(inst), 'off')
        self.assertEqual(power_state.RUNNING, self.driver.get_info(inst).state)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst, use_cache=False).state)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst).state)

    def test_own_power_ops_update_the_cache(self):
        self.cfg.config(group='zvm', power_state_cache_ttl=600)
        inst = self.guest('on')
        self.driver.get_num_instances()
        self.driver.power_off(inst)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst).state)
        self.driver.power_on(self.context, inst, [])
        self.assertEqual(power_state.RUNNING, self.driver.get_info(inst).state)

    def test_ttl_0_disables_the_cache(self):
        self.cfg.config(group='zvm', power_state_cache_ttl=0)
        inst = self.guest('on')
        self.driver.get_info(inst)
        self.lab.zvm.set_power(self.userid(inst), 'off')
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(inst).state)

    def test_console_output_keeps_the_newest_bytes(self):
        self.cfg.config(group='zvm', console_log_max_bytes=1024)
        inst = self.guest('on')
        self.lab.zvm.add_console_output(self.userid(inst),
                                        'old-line\n' * 500 + 'NEWEST\n')
        output = self.driver.get_console_output(self.context, inst)
        self.assertIsInstance(output, bytes)
        self.assertEqual(1024, len(output))
        self.assertTrue(output.endswith(b'NEWEST\n'))

    def test_console_output_short_log_is_whole(self):
        inst = self.guest('on')
        self.lab.zvm.add_console_output(self.userid(inst), 'hello z/VM\n')
        self.assertIn(b'hello z/VM\n',
                      self.driver.get_console_output(self.context, inst))


class PowerSyncTestCase(driver_base.DriverTestCase):
    """nova's _sync_power_states over 200 guests costs a constant count."""

    GUESTS = 200

    def test_power_sync_of_200_guests(self):
        instances = [self.instance() for _ in range(self.GUESTS)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(
                lambda i: self.create_guest(self.userid(i[1]),
                                            'on' if i[0] % 2 else 'off'),
                enumerate(instances)))
        self.driver.pause(instances[1])
        expected = {inst.uuid: (power_state.RUNNING if n % 2
                                else power_state.SHUTDOWN)
                    for n, inst in enumerate(instances)}
        expected[instances[1].uuid] = power_state.PAUSED
        self.cfg.config(group='zvm', power_state_cache_ttl=600)
        driver = self.new_driver()
        self.lab.zvm.reset_rest_calls()

        # What nova's _sync_power_states does: the count, then each
        # instance's state from a pool of threads.
        self.assertEqual(self.GUESTS, driver.get_num_instances())
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            states = dict(pool.map(
                lambda inst: (inst.uuid, driver.get_info(inst).state),
                instances))

        self.assertEqual(expected, states)
        calls = [c for c in self.lab.zvm.rest_calls()
                 if not c.startswith('POST /token')]
        # One guest list plus one stats request for all 200 guests (it fits
        # the connector's 4 KB request buffer): nova's in-tree driver
        # makes 201.
        stats = _stats_calls(calls)
        self.assertEqual(['GET /guests'], calls[:1])
        self.assertEqual(1, len(stats))
        self.assertEqual(2, len(calls))

        # And a second sync within the TTL costs nothing.
        self.lab.zvm.reset_rest_calls()
        driver.get_num_instances()
        driver.get_info(instances[0])
        self.assertEqual([], self.lab.zvm.rest_calls())


class LargeHostTestCase(driver_base.DriverTestCase):
    """A power sync of 400 guests: stats requests in chunks.

    Beyond ~310 guests one stats request would exceed the connector's 4 KB
    request buffer (the lab tolerates it; a real connector does not).
    """

    GUESTS = 400

    def test_power_sync_of_400_guests(self):
        instances = [self.instance() for _ in range(self.GUESTS)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(
                lambda i: self.create_guest(self.userid(i[1]),
                                            'on' if i[0] % 3 else 'off'),
                enumerate(instances)))
        self.lab.zvm.reset_rest_calls()
        self.assertEqual(self.GUESTS, self.driver.get_num_instances())
        for n, inst in enumerate(instances):
            self.assertEqual(
                power_state.RUNNING if n % 3 else power_state.SHUTDOWN,
                self.driver.get_info(inst).state)
        stats = _stats_calls(self.lab.zvm.rest_calls())
        self.assertEqual(2, len(stats))


class ChunkTestCase(testtools.TestCase):

    def test_chunks_stay_under_the_limit_and_keep_everything(self):
        userids = ['U%07d' % n for n in range(1000)]
        chunks = list(power.chunk_userids(userids, max_bytes=2048))
        self.assertEqual(userids, [u for c in chunks for u in c])
        for chunk in chunks:
            message = json.dumps(('guest_inspect_stats', [chunk], {}))
            self.assertLessEqual(len(message), 2048)
        self.assertEqual(6, len(chunks))

    def test_no_userids_no_chunks(self):
        self.assertEqual([], list(power.chunk_userids([])))


class PauseRegistryTestCase(testtools.TestCase):

    def test_markers_persist(self):
        path = self.useFixture(driver_base.fixtures.TempDir()).path
        reg = power.PauseRegistry(path)
        reg.add('ABC')
        self.assertIn('ABC', power.PauseRegistry(path))
        reg.discard('ABC')
        reg.discard('ABC')
        self.assertNotIn('ABC', power.PauseRegistry(path))


class CacheClockTestCase(testtools.TestCase):

    class _Client(object):
        def __init__(self):
            self.lists = 0

        def guest_list(self):
            self.lists += 1
            return ['A', 'B']

        def guest_inspect_stats(self, userids):
            return {'A': {}}

    def test_guest_deleted_during_the_refresh(self):
        client = self._Client()
        calls = []

        def stats(userids):
            calls.append(userids)
            if len(calls) == 1:
                raise zvm_exception.NotFound('gone', api='guest_inspect_stats')
            return {'A': {}}
        client.guest_inspect_stats = stats
        cache = power.PowerStateCache(client, ttl=15)
        self.assertEqual({'A': 'on', 'B': 'off'}, cache.snapshot())
        self.assertEqual(2, client.lists)

    def test_snapshot_expires_after_ttl(self):
        now = [100.0]
        client = self._Client()
        cache = power.PowerStateCache(client, ttl=15, clock=lambda: now[0])
        self.assertEqual({'A': 'on', 'B': 'off'}, cache.snapshot())
        now[0] += 14
        cache.snapshot()
        self.assertEqual(1, client.lists)
        now[0] += 2
        cache.snapshot()
        self.assertEqual(2, client.lists)


class CacheConcurrencyTestCase(testtools.TestCase):
    """Per-guest entries against bulk refreshes, in a fixed interleaving."""

    class _Client(object):
        """A connector where A runs and B is off; stats can be held."""

        def __init__(self):
            self.lists = 0
            self.exact = []
            self.in_stats = threading.Event()
            self.release = threading.Event()
            self.release.set()

        def guest_list(self):
            self.lists += 1
            return ['A', 'B']

        def guest_inspect_stats(self, userids):
            self.in_stats.set()
            self.release.wait()
            return {'A': {}}

        def guest_get_power_state(self, userid):
            self.exact.append(userid)
            return 'off'

    def _refresh_held(self, cache, client, during):
        """Run ``during()`` while a refresh's bulk query is under way."""
        client.release.clear()
        client.in_stats.clear()
        thread = threading.Thread(target=cache.snapshot)
        thread.start()
        client.in_stats.wait()
        during()
        client.release.set()
        thread.join()

    def test_state_recorded_during_a_refresh_is_kept(self):
        client = self._Client()
        cache = power.PowerStateCache(client, ttl=15)
        # The query read A as running; A was stopped meanwhile.
        self._refresh_held(cache, client,
                           lambda: cache.record('A', power.OFF))
        self.assertEqual('off', cache.state('A'))
        self.assertEqual([], client.exact)

    def test_invalidation_during_a_refresh_is_kept(self):
        client = self._Client()
        cache = power.PowerStateCache(client, ttl=15)
        self._refresh_held(cache, client, lambda: cache.invalidate('A'))
        self.assertEqual('off', cache.state('A'))
        self.assertEqual(['A'], client.exact)

    def test_one_guest_changing_keeps_everyone_elses_states(self):
        client = self._Client()
        cache = power.PowerStateCache(client, ttl=15)
        cache.snapshot()
        # A spawn or destroy of C: before, the whole snapshot went and the
        # state recorded next was dropped.
        cache.invalidate('C')
        cache.record('C', power.ON)
        cache.remove('B')
        self.assertEqual({'A': 'on', 'C': 'on'}, cache.snapshot())
        self.assertEqual('on', cache.state('C'))
        self.assertEqual(1, client.lists)
        self.assertEqual([], client.exact)


class TTLZeroTestCase(driver_base.DriverTestCase):

    def test_ttl_0_power_sync_is_one_list_and_one_query_per_guest(self):
        self.cfg.config(group='zvm', power_state_cache_ttl=0)
        instances = [self.guest('on') for _ in range(5)]
        driver = self.new_driver()
        self.lab.zvm.reset_rest_calls()
        driver.get_num_instances()
        for inst in instances:
            self.assertEqual(power_state.RUNNING,
                             driver.get_info(inst).state)
        calls = [c for c in self.lab.zvm.rest_calls()
                 if not c.startswith('POST /token')]
        # Before: a full bulk query (list and stats of every guest) for
        # each get_info.
        self.assertEqual([], _stats_calls(calls))
        self.assertEqual(1 + len(instances), len(calls))
