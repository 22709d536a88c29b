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

"""Lifecycle events for nova: power changes of guests nova did not cause.

z/VM cannot tell anyone that a guest stopped (shut down from inside,
forced off by an operator), so without help nova learns it at its power
sync, every 10 minutes by default. One poller per nova-compute takes one
exact bulk snapshot of all guests' power every ``[zvm]
lifecycle_poll_interval`` seconds (``PowerStateCache.poll``: the guest list
and one stats request, whatever the number of guests) and compares the
guests this host owns (``ownership`` records) with the previous snapshot.
A change becomes a nova ``LifecycleEvent`` (started, stopped, paused,
resumed), unless the driver made it: a guest the driver is acting on is
*busy*, and a guest the driver acted on since the previous snapshot is
compared with the state the driver left (``PowerStateCache.mark``).

Unlike libvirt, STOPPED is not held back: libvirt delays it because a
reboot shows there as stop and start, while a z/VM guest rebooting from
inside stays logged on, and the driver's own resets are busy. Nova checks
each event against ``get_info(use_cache=False)`` before it acts.

The poller runs on nova's thread pools (native threads or eventlet, as
nova-compute does) from the moment nova registers its event listener until
it unregisters it or cleans the host up.
"""

import collections
import threading

from nova.compute import power_state
from nova import thread_pool_factory
from nova.virt import event as virtevent
from oslo_log import log as logging
from oslo_utils import timeutils

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import ownership
from nova_zvm.virt import power as zvm_power

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# What the poller knew of a guest at a snapshot: the instance, nova's
# power state, and the cache generation current when the snapshot began.
Seen = collections.namedtuple('Seen', 'uuid state generation')


def transition(old, new):
    """The lifecycle transition from nova power state ``old`` to ``new``."""
    if new == power_state.SHUTDOWN:
        return virtevent.EVENT_LIFECYCLE_STOPPED
    if new == power_state.PAUSED:
        return virtevent.EVENT_LIFECYCLE_PAUSED
    if new == power_state.RUNNING:
        return (virtevent.EVENT_LIFECYCLE_RESUMED
                if old == power_state.PAUSED
                else virtevent.EVENT_LIFECYCLE_STARTED)
    return None


class LifecyclePoller(object):
    """Polls guests' power and emits nova lifecycle events for changes."""

    def __init__(self, power, emit, owners=None, interval=None):
        """Poll ``power`` (the driver's PowerOps); call ``emit`` per event.

        :param owners: the ``OwnerRegistry`` of this host's guests
        :param interval: seconds between polls; ``[zvm]
            lifecycle_poll_interval`` when None
        """
        self._power = power
        self._emit = emit
        self._owners = owners or ownership.OwnerRegistry()
        self._interval = interval
        self._lock = threading.Lock()
        self._timer = None
        self._next = None
        self._seen = {}
        self._failing = False
        self.polls = 0      # polls done, for tests and the benchmark

    @property
    def interval(self):
        return (CONF.zvm.lifecycle_poll_interval if self._interval is None
                else self._interval)

    @property
    def running(self):
        return self._timer is not None

    # Start and stop ---------------------------------------------------------

    def start(self):
        """Poll every ``interval`` seconds from now on (0: never)."""
        with self._lock:
            if self._timer is not None:
                return
            if self.interval <= 0:
                LOG.info('Lifecycle events are off ([zvm] '
                         'lifecycle_poll_interval = 0): nova learns of '
                         'guests stopped outside it at its power sync only')
                return
            try:
                executor = thread_pool_factory.get_executor(
                    thread_pool_factory.ExecutorType.DEFAULT)
            except RuntimeError as err:
                # nova-compute is shutting down.
                LOG.warning('Not polling for lifecycle events: %s', err)
                return
            # Nova's delaying wrapper: one task per poll on nova's pool,
            # no worker held while waiting, cancellable on stop.
            self._timer = (
                thread_pool_factory.
                StaticallyDelayingCancellableTaskExecutorWrapper(
                    delay=self.interval, executor=executor))
            self._seen = {}
            self._schedule()
        LOG.info('Polling the power of this host\'s guests every %s seconds '
                 'for lifecycle events', self.interval)

    def stop(self):
        """Stop polling; return once the timer thread has ended."""
        with self._lock:
            timer, self._timer = self._timer, None
            pending, self._next = self._next, None
        if timer is None:
            return
        if pending is not None:
            pending.cancel()
        timer.shutdown(wait=True)
        LOG.info('Stopped polling guests for lifecycle events')

    def _schedule(self):
        # Called with self._lock held.
        try:
            self._next = self._timer.submit_with_delay(self._run, self._timer)
        except RuntimeError:
            # Shut down meanwhile (nova-compute is stopping).
            self._next = None

    def _run(self, timer):
        with self._lock:
            if self._timer is not timer:
                return      # stopped (and maybe started anew) meanwhile
        try:
            self.poll()
        except zvm_exception.ZVMConnectorError as err:
            if not self._failing:
                LOG.warning('Cannot poll guests\' power for lifecycle '
                            'events (%s); trying again every %s seconds',
                            err, self.interval)
            self._failing = True
        except Exception:
            # Whatever it was, the next poll may work: keep polling.
            LOG.exception('Polling guests\' power for lifecycle events '
                          'failed; trying again in %s seconds', self.interval)
        with self._lock:
            if self._timer is timer:
                self._schedule()

    # One poll ---------------------------------------------------------------

    def poll(self):
        """Take one snapshot and emit the events it shows; return them."""
        states, generation = self._power.cache.poll()
        if self._failing:
            LOG.info('Polling guests\' power for lifecycle events works '
                     'again')
            self._failing = False
        owners = self._owners.records()
        seen, events = {}, []
        for userid, uuid in owners.items():
            if userid not in states:
                continue    # being created, deleted or moved: no news
            now = zvm_power.nova_state(states[userid],
                                       userid in self._power.paused)
            seen[userid], event = self._compare(userid, uuid, now,
                                                generation)
            if event is not None:
                events.append(event)
        self._seen = seen
        self.polls += 1
        for event in events:
            LOG.info('Guest %s outside nova: lifecycle event sent',
                     event.get_name(), instance_uuid=event.uuid)
            self._emit(event)
        return events

    def _compare(self, userid, uuid, now, generation):
        """``(what to remember, event or None)`` for one guest."""
        before = self._seen.get(userid)
        if before is not None and before.uuid != uuid:
            before = None   # another instance reuses the userid
        mark = self._power.cache.mark(userid)
        if mark.busy or mark.generation > generation:
            # The driver is acting, or acted while the query ran: the
            # snapshot may predate its change. Decide next time.
            return before or Seen(uuid, now, 0), None
        if before is None or mark.generation > before.generation:
            # The driver acted since the last snapshot: compare with what
            # it left, when it knows.
            if mark.state is None:
                return Seen(uuid, now, generation), None
            was = zvm_power.nova_state(mark.state,
                                       userid in self._power.paused)
        else:
            was = before.state
        event = None
        if was != now:
            name = transition(was, now)
            if name is not None:
                event = virtevent.LifecycleEvent(
                    uuid, name, timestamp=timeutils.utcnow())
        return Seen(uuid, now, generation), event
