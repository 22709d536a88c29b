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

"""The soak's faults: what z/VM, the connector and nova-compute do wrong.

Each fault step starts a fault and returns at once; the operations go on
meanwhile. A latency spike and a connector outage end by themselves after
the step's ``duration`` (a timer); SMAPI failures and busy answers hit the
next calls of their function; a nova-compute restart happens right away,
while whatever the old service was doing is still under way.
"""

import threading
import time

# The z/VM the soak runs on, between faults: SMAPI calls take a little
# time, so that operations overlap as they do on a real system.
BASELINE_LATENCY = {'smapi:*': 0.02, 'cp:*': 0.002}

# Operations a nova-compute restart waits out (see _compute_restart), by
# the servers' task states and the migrations' statuses, and for how long
# at most (seconds).
PAUSE_TASKS = ('pausing', 'unpausing')
MOVE_TASKS = ('resize_prep', 'resize_migrating', 'resize_migrated',
              'resize_finish', 'resize_reverting', 'migrating')
# A cold move between its steps, a confirm or revert (a confirm sets no
# task state), a live migration.
MOVING = ('pre-migrating', 'migrating', 'post-migrating', 'confirming',
          'reverting', 'accepted', 'queued', 'preparing', 'running')
TASK_WAIT = 60


class FaultInjector(object):
    """Applies fault steps to the lab, the relays and the test's services.

    SMAPI failures, busy answers and latency hit the whole SSI cluster
    (whichever member's connector calls next); an outage cuts one member's
    connector and a restart one nova-compute, picked by the step's slot.

    :param test: the soak's test case (its ``computes`` are restarted)
    :param lab: the ``LabFixture``
    :param relays: ``{host: ConnectorRelay}``, what each compute's driver
        talks through
    :param log: the ``OperationLog``
    """

    def __init__(self, test, lab, relays, log):
        self.test = test
        self.lab = lab
        self.relays = relays
        self.log = log
        self._lock = threading.Lock()
        self._timers = []
        self._relays_down = set()
        self._spike_until = 0
        self.counts = {}
        # Names of the servers that were building on a compute host when
        # the soak restarted it (see invariants.cause_of).
        self.building_at_restart = set()

    def baseline(self):
        self.lab.zvm.clear_faults()
        self.lab.zvm.set_latency(BASELINE_LATENCY)

    def apply(self, step):
        handler = getattr(self, '_' + step.name)
        detail = handler(step)
        self.counts[step.name] = self.counts.get(step.name, 0) + 1
        self.log.record(step, 'fault', detail)

    def _smapi_failure(self, step):
        v = step.variant
        self.lab.zvm.inject_fault(v['function'], rc=v['rc'], rs=v['rs'],
                                  nth=step.nth, count=1)
        return '%s fails (rc %d rs %d) at its call #%d from now' % (
            v['function'], v['rc'], v['rs'], step.nth)

    def _smapi_busy(self, step):
        v = step.variant
        # nth locked answers in a row: within the client's bounded retries
        # for 1-2, beyond them for 3.
        self.lab.zvm.inject_fault(v['function'], rc=v['rc'], rs=v['rs'],
                                  nth=1, count=step.nth)
        return '%s answers "locked" (rc %d rs %d) %d time(s)' % (
            v['function'], v['rc'], v['rs'], step.nth)

    def _latency_spike(self, step):
        extra = step.variant['smapi']
        spike = dict(BASELINE_LATENCY, **{'smapi:*': extra})
        self.lab.zvm.set_latency(spike)
        self._after(step.duration, self._end_spike)
        return 'SMAPI calls take %.3fs for %.1fs' % (extra, step.duration)

    def _end_spike(self):
        self.lab.zvm.set_latency(BASELINE_LATENCY)
        self.log.note('latency back to baseline')

    def _host(self, step):
        hosts = sorted(self.relays)
        return hosts[step.slot % len(hosts)]

    def _connector_outage(self, step):
        host = self._host(step)
        with self._lock:
            if host in self._relays_down:
                return 'connector of %s already down' % host
            self._relays_down.add(host)
        self.relays[host].down()
        self._after(step.duration, self._connector_up, host)
        return 'connector of %s down for %.1fs' % (host, step.duration)

    def _connector_up(self, host):
        with self._lock:
            if host not in self._relays_down:
                return
            self._relays_down.discard(host)
        self.relays[host].up()
        self.log.note('connector of %s up' % host)

    def _compute_restart(self, step):
        # Not while a pause or unpause is under way: nova's start-up clears
        # their task state while the old service's call may still change
        # the guest, and nova's power sync then ignores a guest paused under
        # an ACTIVE server ("paused unexpectedly"). That is nova's policy,
        # the same for every driver; any other operation may be cut.
        #
        # Nor while a server moves: nova's start-up neither finishes nor
        # rolls back a move cut between its steps. It clears resize_prep,
        # so the source's resize then fails to save its state and leaves
        # the server in ERROR with task state resize_migrating until the
        # next start-up; a cut confirm leaves its migration "confirming",
        # and nova then refuses both confirm and revert. Nova's policy
        # again, the same for every driver.
        waited = self._wait_for_no_task(PAUSE_TASKS + MOVE_TASKS,
                                        TASK_WAIT)
        host = self._host(step)
        # Nova's start-up sets what was building there to ERROR without a
        # fault, and the old service's build then fails to save its state
        # (nova's _init_instance): remember whose builds this cuts. A
        # server not yet on a host may get this one before the restart.
        building = sorted(
            s['name'] for s in self.test.api.get_servers()
            if s['status'] == 'BUILD' and
            s.get('OS-EXT-SRV-ATTR:host') in (host, None))
        self.building_at_restart.update(building)
        # Nova's helper: stop the service, start a new one on the same host
        # with a new driver (nothing kept in memory). What the old service
        # had under way goes on in its threads, as it would in a process
        # that is being stopped.
        computes = self.test.computes
        computes[host] = self.test.restart_compute_service(
            computes[host], keep_hypervisor_state=False)
        if self.test.compute.host == host:
            self.test.compute = computes[host]
        return 'nova-compute of %s restarted%s%s' % (
            host, ' (after %.1fs for a pause or move to end)' % waited
            if waited > 0.5 else '',
            ' while building %s' % ', '.join(building) if building else '')

    def _wait_for_no_task(self, tasks, timeout):
        """Seconds waited until nothing moves or has one of ``tasks``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout and self._busy(tasks):
            time.sleep(0.2)
        return time.monotonic() - start

    def _busy(self, tasks):
        return (any(s.get('OS-EXT-STS:task_state') in tasks
                    for s in self.test.api.get_servers()) or
                any(m['status'] in MOVING
                    for m in self.test.admin_api.get_migrations()))

    def _after(self, seconds, action, *args):
        timer = threading.Timer(seconds, action, args)
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def quiet(self):
        """End every fault: timers done, connector up, no faults, baseline."""
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
            timer.join()
        for host in sorted(self.relays):
            self._connector_up(host)
        self.baseline()
