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

"""Power changes behind nova's back reach nova as lifecycle events.

Nova's power sync is far away (10 minutes by default, and never run here):
only the driver's lifecycle poller can make the server's state follow what
happened on z/VM. The lab's connector keeps its monitor cache at the
default (``[monitor] cache_interval``, 300 s). Waits are bounded by
WAIT_TIMEOUT; how fast nova follows is measured by the benchmark
(``nova-zvm-bench events``), not asserted here.
"""

import threading
import time

from nova.compute import power_state
from nova.virt import event as virtevent

from nova_zvm.tests.functional import base

POLL_INTERVAL = 1


class LifecycleEventsTest(base.ZVMTestCase):

    def _configure_driver(self):
        super()._configure_driver()
        self.flags(lifecycle_poll_interval=POLL_INTERVAL, group='zvm')
        # Stops are hard stops: how a guest's OS shuts down is not at stake.
        self.flags(shutdown_timeout=0)

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(
            name='zvm.tiny', vcpu=1, memory_mb=512, disk=1)
        # What the driver tells nova, seen on the way (nova still gets it).
        self.events = []
        self._events_lock = threading.Lock()
        driver = self.compute.manager.driver
        emit = driver.emit_event

        def recording_emit(event):
            with self._events_lock:
                self.events.append((event.uuid, event.transition))
            emit(event)
        driver.emit_event = recording_emit
        # The poller holds the bound method: point it at the recorder.
        driver._events._emit = recording_emit

    def events_of(self, server):
        with self._events_lock:
            return [t for uuid, t in self.events if uuid == server['id']]

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + self.WAIT_TIMEOUT
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('not %s after %ss' % (what, self.WAIT_TIMEOUT))
            time.sleep(0.2)

    def quiet_polls(self, count=2):
        """Wait until the poller has looked ``count`` more times."""
        poller = self.compute.manager.driver._events
        target = poller.polls + count
        self.wait_for(lambda: poller.polls >= target,
                      '%d more polls' % count)

    def zvm_power(self, server):
        return self.zvm_guest(server)['power']

    def test_guest_stopped_outside_nova_shows_shutoff(self):
        server = self.boot_server(flavor_id=self.flavor_id)
        self.quiet_polls()
        # The guest's OS shuts down (or an operator forces it off).
        self.lab.zvm.set_power(base.userid_of(server), 'off')
        server = self.wait_for_status(server, 'SHUTOFF')
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertEqual([virtevent.EVENT_LIFECYCLE_STOPPED],
                         self.events_of(server))
        self.assertEqual('off', self.zvm_power(server))
        self.delete_server(server)

    def test_no_event_for_what_nova_does(self):
        server = self.boot_server(flavor_id=self.flavor_id)
        server = self._stop_server(server)
        self.quiet_polls(3)
        server = self._start_server(server)
        self.api.post_server_action(server['id'], {'pause': None})
        server = self._wait_for_state_change(server, 'PAUSED')
        self.quiet_polls()
        self.api.post_server_action(server['id'], {'unpause': None})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'HARD'}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.quiet_polls()
        self.assertEqual([], self.events_of(server))
        self.assertEqual('on', self.zvm_power(server))
        self.assertEqual('ACTIVE', self._show_server(server)['status'])
        self.delete_server(server)

    def test_guest_started_outside_nova_is_stopped_again(self):
        server = self.boot_server(flavor_id=self.flavor_id)
        server = self._stop_server(server)
        self.quiet_polls()
        # Logged on behind nova's back: nova keeps a stopped server
        # stopped (it stops the guest on the STARTED event).
        self.lab.zvm.set_power(base.userid_of(server), 'on')
        self.wait_for(lambda: virtevent.EVENT_LIFECYCLE_STARTED in
                      self.events_of(server), 'a STARTED event')
        self.wait_for(lambda: self.zvm_power(server) == 'off',
                      'the guest stopped again by nova')
        server = self.wait_for_status(server, 'SHUTOFF')
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.delete_server(server)

    def test_paused_guest_logged_off_outside_nova_shows_shutoff(self):
        server = self.boot_server(flavor_id=self.flavor_id)
        self.api.post_server_action(server['id'], {'pause': None})
        server = self._wait_for_state_change(server, 'PAUSED')
        self.quiet_polls()
        self.lab.zvm.set_power(base.userid_of(server), 'off')
        server = self.wait_for_status(server, 'SHUTOFF')
        self.assertEqual([virtevent.EVENT_LIFECYCLE_STOPPED],
                         self.events_of(server))
        self.delete_server(server)
