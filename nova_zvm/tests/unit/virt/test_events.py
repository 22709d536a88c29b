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

"""The lifecycle poller on the lab, whose connector caches its monitor.

The lab's connector runs with zvmsdk's default ``[monitor]
cache_interval`` (300 s): a guest stopped after the monitor last read its
figures stays in its statistics until the cache expires.
"""

import threading
import time

from nova.virt import event as virtevent
import testtools

from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.virt import events
from nova_zvm.virt import ownership
from nova_zvm.virt import power

STARTED = virtevent.EVENT_LIFECYCLE_STARTED
STOPPED = virtevent.EVENT_LIFECYCLE_STOPPED
PAUSED = virtevent.EVENT_LIFECYCLE_PAUSED
RESUMED = virtevent.EVENT_LIFECYCLE_RESUMED

# Bounds for waiting on the background poller (never asserted as speed).
WAIT = 30
FAST = 0.1


class Recorder(object):
    """Collects emitted events; lets a test wait for one."""

    def __init__(self):
        self.events = []
        self._cond = threading.Condition()

    def __call__(self, event):
        with self._cond:
            self.events.append((event.uuid, event.transition))
            self._cond.notify_all()

    def wait_for(self, item, timeout=WAIT):
        with self._cond:
            return self._cond.wait_for(lambda: item in self.events, timeout)


class PollerTestCase(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.owners = ownership.OwnerRegistry()
        self.recorder = Recorder()
        self.poller = events.LifecyclePoller(self.driver._power,
                                             self.recorder, interval=FAST)

    def owned(self, power_state='on'):
        inst = self.guest(power_state)
        self.owners.set(self.userid(inst), inst.uuid)
        return inst

    def zvm(self, inst, power_state):
        self.lab.zvm.set_power(self.userid(inst), power_state)

    def poll(self):
        return [(e.uuid, e.transition) for e in self.poller.poll()]

    # What it reports --------------------------------------------------------

    def test_stop_and_start_outside_nova(self):
        inst = self.owned('on')
        self.assertEqual([], self.poll())       # the first look: no news
        self.zvm(inst, 'off')
        self.assertEqual([(inst.uuid, STOPPED)], self.poll())
        self.assertEqual([], self.poll())
        self.zvm(inst, 'on')
        self.assertEqual([(inst.uuid, STARTED)], self.poll())

    def test_stop_hidden_by_the_monitor_cache_is_found(self):
        inst = self.owned('on')
        userid = self.userid(inst)
        self.assertEqual([], self.poll())
        self.client.guest_stop(userid)
        # The reason for confirming: the connector's bulk answer still
        # lists the stopped guest, with the figures it had.
        self.assertIn(userid, self.client.guest_inspect_stats([userid]))
        self.assertEqual([(inst.uuid, STOPPED)], self.poll())
        # Known off while the monitor repeats itself; started again, the
        # next look finds it running.
        self.assertEqual([], self.poll())
        self.client.guest_start(userid)
        self.assertEqual([(inst.uuid, STARTED)], self.poll())

    def test_power_sync_after_a_poll_sees_the_real_state(self):
        inst = self.owned('on')
        self.cfg.config(group='zvm', power_state_cache_ttl=600)
        self.poll()
        self.client.guest_stop(self.userid(inst))
        self.poll()
        # nova's power sync within the TTL: answered from the poll.
        self.lab.zvm.reset_rest_calls()
        self.assertEqual(power.power_state.SHUTDOWN,
                         self.driver.get_info(inst).state)
        self.assertEqual([], self.lab.zvm.rest_calls())

    def test_paused_guest_logged_off_outside_is_stopped(self):
        inst = self.owned('on')
        self.driver.pause(inst)
        self.assertEqual([], self.poll())
        self.zvm(inst, 'off')
        self.assertEqual([(inst.uuid, STOPPED)], self.poll())

    def test_pause_and_resume_known_only_to_the_registry(self):
        # Another driver instance (a restarted nova-compute's) paused it:
        # this one did not act, yet the pause is a change to report.
        inst = self.owned('on')
        self.assertEqual([], self.poll())
        self.driver._power.paused.add(self.userid(inst))
        self.assertEqual([(inst.uuid, PAUSED)], self.poll())
        self.driver._power.paused.discard(self.userid(inst))
        self.assertEqual([(inst.uuid, RESUMED)], self.poll())

    def test_only_guests_this_host_owns(self):
        foreign = self.guest('on')
        self.assertEqual([], self.poll())
        self.zvm(foreign, 'off')
        self.assertEqual([], self.poll())

    def test_calls_per_poll_do_not_grow_with_the_guests(self):
        guests = [self.owned('on' if n % 3 else 'off') for n in range(36)]
        self.poll()
        for _ in range(2):
            self.lab.zvm.reset_rest_calls()
            self.poll()
            calls = [c for c in self.lab.zvm.rest_calls()
                     if c != 'POST /token']
            # The list, the stats, and at most CONFIRM_PER_POLL exact
            # queries of guests whose figures the monitor repeats.
            self.assertEqual('GET /guests', calls[0])
            self.assertTrue(calls[1].startswith('GET /guests/stats'))
            self.assertLessEqual(len(calls), 2 + power.CONFIRM_PER_POLL)
        # Every running guest is confirmed within a few polls.
        for inst in guests[1::3]:
            self.client.guest_stop(self.userid(inst))
        stopped = set()
        for _ in range(4):
            stopped.update(uuid for uuid, t in self.poll() if t == STOPPED)
        self.assertEqual({inst.uuid for inst in guests[1::3]}, stopped)

    # What the driver does is no news ----------------------------------------

    def test_driver_power_operations_emit_nothing(self):
        inst = self.owned('on')
        self.poll()
        operations = [
            lambda: self.driver.power_off(inst),
            lambda: self.driver.power_on(self.context, inst, None),
            lambda: self.driver.reboot(self.context, inst, None, 'HARD'),
            lambda: self.driver.pause(inst),
            lambda: self.driver.unpause(inst),
            lambda: self.driver.power_off(inst, timeout=0),
        ]
        for operation in operations:
            operation()
            self.assertEqual([], self.poll())
        self.assertEqual('off', self.zvm_power(inst))
        # And what happens outside afterwards is news again.
        self.zvm(inst, 'on')
        self.assertEqual([(inst.uuid, STARTED)], self.poll())

    def test_change_during_an_operation_is_not_news(self):
        inst = self.owned('on')
        self.poll()
        with self.driver._power.operating(inst):
            self.zvm(inst, 'off')
            self.assertEqual([], self.poll())
        # The operation left no state behind: the next look takes it.
        self.assertEqual([], self.poll())
        self.client.guest_start(self.userid(inst))
        self.assertEqual([(inst.uuid, STARTED)], self.poll())

    def test_operation_ending_during_the_query_is_not_news(self):
        inst = self.owned('on')
        self.poll()
        cache = self.driver._power.cache
        real_query = cache._query_all

        def query_then_stop(*args):
            states = real_query(*args)  # reads the guest running
            self.driver.power_off(inst)
            return states
        cache._query_all = query_then_stop
        self.assertEqual([], self.poll())
        cache._query_all = real_query
        self.assertEqual([], self.poll())
        self.assertEqual('off', self.zvm_power(inst))

    def test_stop_after_a_driver_operation_is_news(self):
        inst = self.owned('off')
        self.poll()
        self.driver.power_on(self.context, inst, None)
        self.zvm(inst, 'off')   # before the poller looked again
        self.assertEqual([(inst.uuid, STOPPED)], self.poll())

    def test_driver_spawned_guest_is_compared_with_what_spawn_left(self):
        inst = self.owned('on')
        self.driver._power.spawned(inst, power_on=True)
        self.zvm(inst, 'off')
        self.assertEqual([(inst.uuid, STOPPED)], self.poll())

    # The background thread ---------------------------------------------------

    def test_a_failed_poll_does_not_stop_the_polling(self):
        inst = self.owned('on')
        cache = self.driver._power.cache
        real_poll = cache.poll
        polls = []

        def flaky_poll():
            polls.append(1)
            if len(polls) == 1:
                raise RuntimeError('a bug')
            return real_poll()
        cache.poll = flaky_poll
        # Then two polls the connector fails (HTTP 500).
        self.lab.zvm.inject_fault('System_Image_Performance_Query', rc=8,
                                  rs=1, count=2)
        self.poller.start()
        self.addCleanup(self.poller.stop)
        deadline = time.monotonic() + WAIT
        while len(polls) < 5 and time.monotonic() < deadline:
            time.sleep(FAST)
        self.zvm(inst, 'off')
        self.assertTrue(self.recorder.wait_for((inst.uuid, STOPPED)),
                        self.recorder.events)
        self.assertTrue(self.poller.running)
        self.assertIn('Cannot poll guests\' power', self.log.output)

    def test_driver_polls_while_nova_listens_and_stops_on_cleanup(self):
        self.cfg.config(group='zvm', lifecycle_poll_interval=1)
        inst = self.owned('on')
        driver = self.new_driver()
        self.assertFalse(driver._events.running)    # nobody listens yet
        driver.register_event_listener(self.recorder)
        self.addCleanup(driver.cleanup_host, 'compute')
        self.assertTrue(driver._events.running)
        # A first look, then the change.
        deadline = time.monotonic() + WAIT
        while driver._events.polls < 1 and time.monotonic() < deadline:
            time.sleep(FAST)
        self.zvm(inst, 'off')
        self.assertTrue(self.recorder.wait_for((inst.uuid, STOPPED)),
                        self.recorder.events)
        driver.cleanup_host('compute')
        self.assertFalse(driver._events.running)
        self.lab.zvm.reset_rest_calls()
        time.sleep(2.5)
        self.assertEqual([], self.lab.zvm.rest_calls())

    def test_unregistered_listener_stops_polling(self):
        self.cfg.config(group='zvm', lifecycle_poll_interval=1)
        driver = self.new_driver()
        driver.register_event_listener(self.recorder)
        driver.register_event_listener(None)
        self.assertFalse(driver._events.running)

    def test_interval_0_never_polls(self):
        self.cfg.config(group='zvm', lifecycle_poll_interval=0)
        driver = self.new_driver()
        driver.register_event_listener(self.recorder)
        self.assertFalse(driver._events.running)


class TransitionTestCase(testtools.TestCase):

    def test_transitions(self):
        ps = power.power_state
        for old, new, expected in [
                (ps.RUNNING, ps.SHUTDOWN, STOPPED),
                (ps.PAUSED, ps.SHUTDOWN, STOPPED),
                (ps.SHUTDOWN, ps.RUNNING, STARTED),
                (ps.PAUSED, ps.RUNNING, RESUMED),
                (ps.RUNNING, ps.PAUSED, PAUSED),
                (ps.RUNNING, ps.NOSTATE, None)]:
            self.assertEqual(expected, events.transition(old, new),
                             (old, new))
