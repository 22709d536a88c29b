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

"""Guests' power: operations, the bulk power-state cache and pause memory.

The Cloud Connector reports a guest's power state as ``on`` or ``off``
only. Three things are built on that here:

* :class:`PowerStateCache` answers nova's power sync (``get_num_instances``
  then ``get_info`` for every instance) from one bulk query: ``guest_list``
  plus ``guest_inspect_stats`` of all guests (running guests appear in its
  output, stopped ones do not).
* :class:`PauseRegistry` remembers which guests the driver paused, on disk,
  so that a paused guest is reported as paused after a nova-compute
  restart too.
* :class:`PowerOps` does the power operations; they always ask the
  connector (never the cache) and record the state they leave behind.
  While one runs its guest is *busy*: the lifecycle poller
  (``events.py``) sends nova no event for what the driver itself does.

The bulk query reads the connector's monitor, which keeps the figures of
the guests it last saw running for ``[monitor] cache_interval`` seconds
(zvmsdk.conf, 300 by default): a guest stopped meanwhile is still listed,
while a guest started meanwhile makes it read afresh (it asks CP about
every userid it holds nothing for). No REST call lists power exactly in
bulk, and the monitor's cache cannot be bypassed: ``guest_inspect_stats``
takes managed guests only, and the monitor adds those to its name list.
So a listed guest whose figures did not move since the previous answer (or
that the previous answer did not list) is *unconfirmed*: the lifecycle
poller (``poll``) asks CP about a few of them per poll, round robin, and a
guest found off stays off for as long as the monitor repeats the same
figures for it. With ``cache_interval = 0`` figures move at every answer
and only newly listed guests are asked about, once.
"""

import collections
import contextlib
import json
import threading
import time

from nova.compute import power_state
from nova import exception as nova_exception
from nova.virt import hardware
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import logoff
from nova_zvm.virt import records
from nova_zvm.virt import userid as zvm_userid

CONF = conf.CONF
LOG = logging.getLogger(__name__)

ON = 'on'
OFF = 'off'

# The connector's WSGI app forwards each call to its SDKServer as one JSON
# message, (api name, args, kwargs), which SDKServer reads with a single
# recv(4096). Keep each guest_inspect_stats message below that, with room
# to spare: 200 guests still fit in one request.
MAX_STATS_REQUEST_BYTES = 3840
_STATS_MESSAGE_OVERHEAD = len(json.dumps(('guest_inspect_stats', [[]], {})))

# Used for a clean shutdown when nova passes no retry interval.
DEFAULT_POLL_INTERVAL = 5


def chunk_userids(userids, max_bytes=MAX_STATS_REQUEST_BYTES):
    """Split ``userids`` so each stats message stays under ``max_bytes``."""
    chunk, size = [], _STATS_MESSAGE_OVERHEAD
    for userid in userids:
        item = len(json.dumps(userid)) + 2
        if chunk and size + item > max_bytes:
            yield chunk
            chunk, size = [], _STATS_MESSAGE_OVERHEAD
        chunk.append(userid)
        size += item
    if chunk:
        yield chunk


# What a guest's entry can say besides 'on' and 'off'.
_STALE = 'stale'    # ask the connector next time
_GONE = 'gone'      # deleted since the snapshot

# Unconfirmed running guests whose power one poll asks CP about exactly:
# a constant, so that a poll costs O(1) calls whatever the host's size.
CONFIRM_PER_POLL = 10

# What the driver last did to or learnt of one guest: the generation of
# that write and the exact state it left ('on'/'off'; None: unknown).
Mark = collections.namedtuple('Mark', 'generation state busy')


class PowerStateCache(object):
    """All guests' power states from one bulk query, valid ``ttl`` seconds.

    On top of the bulk snapshot sit per-guest entries, each with the
    generation it was written in: ``record`` (a state just observed or
    caused), ``invalidate(userid)`` (ask the connector next time) and
    ``remove`` (deleted). A refresh keeps the entries written while its
    query ran, since that query may have read z/VM before their change.
    ``invalidate()`` drops the whole snapshot. Refreshes are single-flight.
    ``ttl`` 0 turns the bulk snapshot off: every state is an exact
    per-guest query and listings ask for the guest list only.

    ``poll`` takes an exact snapshot whatever the ttl (the lifecycle
    poller's); ``mark`` and ``busy`` tell it which guests the driver is
    acting on or acted on since a given generation. Figures the monitor
    repeats are checked as the module says.
    """

    def __init__(self, client, ttl=None, clock=time.monotonic):
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._states = None
        self._taken_at = 0.0
        self._generation = 0
        self._entries = {}      # userid -> (generation, state)
        self._marks = {}        # userid -> (generation, state), kept
        self._busy = collections.Counter()
        self._figures = {}      # userid -> the monitor's last figures
        self._found_off = {}    # userid -> figures repeated while off
        self._confirmed_at = {}     # userid -> poll number
        self._polls = 0
        self._cache_warned = False

    @property
    def ttl(self):
        return CONF.zvm.power_state_cache_ttl if self._ttl is None \
            else self._ttl

    def _fresh(self):
        return (self._states is not None and
                self._clock() - self._taken_at < self.ttl)

    def _refreshed(self):
        """Make sure the bulk snapshot is fresh (ttl > 0 only)."""
        with self._lock:
            if self._fresh():
                return
        with self._refresh_lock:
            with self._lock:
                if self._fresh():
                    return
            self._take()

    def _take(self, confirm=0):
        """Query all guests now; the refresh lock is held."""
        with self._lock:
            started = self._generation
        states = self._query_all(confirm)
        with self._lock:
            self._states = states
            self._taken_at = self._clock()
            # Entries written while the query ran stay on top of it.
            self._entries = {u: e for u, e in self._entries.items()
                             if e[0] > started}
        return states, started

    def poll(self):
        """An exact snapshot now, whatever the ttl: ``(states, generation)``.

        ``states`` is ``{USERID: 'on'|'off'}`` as z/VM reported it;
        ``generation`` the one current when the query began. It also
        serves the power sync for the next ``ttl`` seconds.
        """
        with self._refresh_lock:
            self._polls += 1
            states, started = self._take(confirm=CONFIRM_PER_POLL)
        return dict(states), started

    def snapshot(self):
        """``{USERID: 'on'|'off'}`` of every guest the connector manages."""
        if self.ttl <= 0:
            return {u: None for u in self._list()}
        self._refreshed()
        with self._lock:
            merged = dict(self._states)
            for userid, (_gen, state) in self._entries.items():
                if state == _GONE:
                    merged.pop(userid, None)
                elif state != _STALE:
                    merged[userid] = state
            return merged

    def _list(self):
        return sorted({u.upper() for u in self._client.guest_list() or []})

    def _query_all(self, confirm=0, attempts=2):
        for attempt in range(1, attempts + 1):
            userids = self._list()
            try:
                stats = self._stats(userids)
                break
            except zvm_exception.NotFound:
                # A guest was deleted between the list and the stats (the
                # connector refuses the whole request): list again.
                if attempt == attempts:
                    raise
        running = self._running(stats, confirm)
        LOG.debug('Power state snapshot: %(on)d of %(all)d guests running',
                  {'on': len(running), 'all': len(userids)})
        return {u: (ON if u in running else OFF) for u in userids}

    def _stats(self, userids):
        stats = {}
        for chunk in chunk_userids(userids):
            for userid, figures in (
                    self._client.guest_inspect_stats(chunk) or {}).items():
                stats[userid.upper()] = figures
        return stats

    def _running(self, stats, confirm):
        """The guests ``stats`` lists, less those known or found off."""
        with self._lock:
            previous, self._figures = self._figures, stats
            # Figures that moved are fresh; repeated ones may be cached.
            self._found_off = {u: f for u, f in self._found_off.items()
                               if stats.get(u) == f}
            repeated = [u for u, f in stats.items() if previous.get(u) == f]
            unconfirmed = sorted(u for u in stats if u not in previous or
                                 previous[u] == stats[u])
            self._confirmed_at = {u: n for u, n in
                                  self._confirmed_at.items() if u in stats}
            asked = sorted(unconfirmed,
                           key=lambda u: self._confirmed_at.get(u, 0))
            asked = asked[:confirm]
            for userid in asked:
                self._confirmed_at[userid] = self._polls
        if repeated and not self._cache_warned:
            self._cache_warned = True
            LOG.warning('The z/VM Cloud Connector\'s monitor repeats the '
                        'figures of %d running guests: it may answer from '
                        'its cache ([monitor] cache_interval in zvmsdk.conf, '
                        '300 seconds by default) and list stopped guests as '
                        'running. Each lifecycle poll asks CP about %d of '
                        'them; set cache_interval = 0 on the connector for '
                        'exact bulk states at no extra calls',
                        len(repeated), CONFIRM_PER_POLL)
        for userid in asked:
            try:
                state = self._client.guest_get_power_state(userid)
            except zvm_exception.NotFound:
                state = OFF     # deleted since the list: not running
            self._learn(userid, state)
        with self._lock:
            return set(stats) - set(self._found_off)

    def _learn(self, userid, state):
        """An exact state of ``userid``: what the monitor repeats is stale."""
        with self._lock:
            if state == OFF and userid in self._figures:
                self._found_off[userid] = self._figures[userid]
            elif state == ON:
                self._found_off.pop(userid, None)

    def count(self):
        return len(self.snapshot())

    def userids(self):
        return sorted(self.snapshot())

    def state(self, userid, use_cache=True):
        """'on' or 'off'; raises the client's NotFound for unknown guests."""
        if use_cache and self.ttl > 0:
            self._refreshed()
            with self._lock:
                entry = self._entries.get(userid)
                if entry is not None and entry[1] in (ON, OFF):
                    return entry[1]
                if entry is None and userid in self._states:
                    return self._states[userid]
        state = self._client.guest_get_power_state(userid)
        self.record(userid, state)
        return state

    def _write(self, userid, state):
        with self._lock:
            self._generation += 1
            self._entries[userid] = (self._generation, state)
            self._marks[userid] = (self._generation,
                                   state if state in (ON, OFF) else None)

    @contextlib.contextmanager
    def busy(self, userid):
        """The driver acts on ``userid``: its changes are not news."""
        with self._lock:
            self._generation += 1
            self._busy[userid] += 1
            self._marks[userid] = entered = (self._generation, None)
        try:
            yield
        finally:
            with self._lock:
                self._busy[userid] -= 1
                if not self._busy[userid]:
                    del self._busy[userid]
                untold = self._marks.get(userid) == entered
            if untold:
                # Nothing recorded what the operation left: unknown.
                self.invalidate(userid)

    def mark(self, userid):
        """What the driver last did to or learnt of ``userid``."""
        with self._lock:
            generation, state = self._marks.get(userid, (0, None))
            return Mark(generation, state, userid in self._busy)

    def record(self, userid, state):
        """Remember a state just observed or caused (exact)."""
        self._write(userid, state)
        self._learn(userid, state)

    def remove(self, userid):
        """The guest was deleted."""
        self._write(userid, _GONE)

    def invalidate(self, userid=None):
        """Ask for ``userid`` next time; None: drop the whole snapshot."""
        if userid is not None:
            self._write(userid, _STALE)
            return
        with self._lock:
            self._states = None
            self._entries = {}


class PauseRegistry(object):
    """Guests paused by this driver, one marker file per userid.

    z/VM (through the connector) reports a paused guest as running; nova
    must see it as paused, also after nova-compute restarts.
    """

    def __init__(self, path=None):
        self._markers = records.UseridRecords('paused', path=path)

    def add(self, userid):
        self._markers.write(userid)

    def discard(self, userid):
        self._markers.remove(userid)

    def __contains__(self, userid):
        return userid in self._markers


def nova_state(connector_state, paused):
    """Nova's power_state for the connector's 'on'/'off'."""
    if connector_state == ON:
        return power_state.PAUSED if paused else power_state.RUNNING
    if connector_state == OFF:
        return power_state.SHUTDOWN
    return power_state.NOSTATE


class PowerOps(object):
    """Power operations and power-state queries of nova instances."""

    def __init__(self, client, cache=None, paused=None):
        self._client = client
        self.cache = cache or PowerStateCache(client)
        self.paused = paused or PauseRegistry()

    # Queries -------------------------------------------------------------

    @contextlib.contextmanager
    def operating(self, instance):
        """The driver is changing this instance's guest (spawn, destroy...)."""
        try:
            userid = zvm_userid.for_instance(instance)
        except nova_exception.InvalidInput:
            userid = None
        if userid is None:
            yield
            return
        with self.cache.busy(userid):
            yield

    def get_info(self, instance, use_cache=True):
        userid = zvm_userid.for_instance(instance)
        state = self.cache.state(userid, use_cache=use_cache)
        paused = userid in self.paused
        if paused and state == OFF:
            # Logged off behind our back: no longer paused on z/VM either.
            LOG.info('Paused guest %s is logged off; forgetting the pause',
                     userid, instance=instance)
            self.paused.discard(userid)
            paused = False
        return hardware.InstanceInfo(state=nova_state(state, paused),
                                     internal_id=userid)

    def list_userids(self):
        return self.cache.userids()

    def count(self):
        return self.cache.count()

    def exists(self, instance):
        userid = zvm_userid.for_instance(instance)
        if userid in self.cache.snapshot():
            return True
        # Created after the snapshot was taken? Ask exactly.
        try:
            self.cache.state(userid, use_cache=False)
        except zvm_exception.NotFound:
            return False
        return True

    # Operations ----------------------------------------------------------

    def _exact(self, userid):
        return self.cache.state(userid, use_cache=False)

    def _done(self, userid, state):
        # Whatever the operation was, the guest is not paused any more.
        self.paused.discard(userid)
        self.cache.record(userid, state)

    def power_on(self, instance):
        userid = zvm_userid.for_instance(instance)
        self._guarded(userid, self._power_on, userid)

    def _power_on(self, userid):
        if self._exact(userid) != ON:
            self._client.guest_start(userid)
        elif userid in self.paused:
            self._client.guest_unpause(userid)
        self._done(userid, ON)

    def power_off(self, instance, timeout=0, retry_interval=0):
        """Clean shutdown within ``timeout`` seconds, else a hard stop."""
        userid = zvm_userid.for_instance(instance)
        self._guarded(userid, self._power_off, userid, instance, timeout,
                      retry_interval)

    def _power_off(self, userid, instance, timeout, retry_interval):
        if self._exact(userid) == OFF:
            self._done(userid, OFF)
            return
        if timeout:
            if userid in self.paused:
                # A paused guest's OS cannot act on a shutdown signal.
                self._client.guest_unpause(userid)
            try:
                self._client.guest_softstop(
                    userid, timeout=int(timeout),
                    poll_interval=int(retry_interval or
                                      DEFAULT_POLL_INTERVAL))
            except (zvm_exception.Timeout, zvm_exception.ZVMFailure) as err:
                LOG.warning('Clean shutdown failed (%s); stopping the guest',
                            err, instance=instance)
            if self._exact(userid) == OFF:
                self._done(userid, OFF)
                return
            LOG.warning('Guest did not shut down within %s seconds; '
                        'stopping it', timeout, instance=instance)
        # Until z/VM has logged the guest off, it may not be started again.
        logoff.stop(self._client, userid)
        self._done(userid, OFF)

    def reboot(self, instance, reboot_type):
        """SOFT: the guest's OS restarts; HARD: reset (or start when off)."""
        userid = zvm_userid.for_instance(instance)
        self._guarded(userid, self._reboot, userid, instance, reboot_type)

    def _reboot(self, userid, instance, reboot_type):
        if self._exact(userid) != ON:
            self._client.guest_start(userid)
        elif reboot_type == 'SOFT':
            try:
                self._client.guest_reboot(userid)
            except zvm_exception.ZVMFailure as err:
                LOG.warning('Soft reboot failed (%s); resetting the guest',
                            err, instance=instance)
                logoff.hard_restart(self._client, userid)
        else:
            logoff.hard_restart(self._client, userid)
        self._done(userid, ON)

    def pause(self, instance):
        userid = zvm_userid.for_instance(instance)
        self._guarded(userid, self._pause, userid)

    def _pause(self, userid):
        self._client.guest_pause(userid)
        self.paused.add(userid)
        self.cache.record(userid, ON)

    def unpause(self, instance):
        userid = zvm_userid.for_instance(instance)
        self._guarded(userid, self._unpause, userid)

    def _unpause(self, userid):
        self._client.guest_unpause(userid)
        self._done(userid, ON)

    def spawned(self, instance, power_on):
        """A guest just built: its state is known exactly."""
        userid = zvm_userid.for_instance(instance)
        self.paused.discard(userid)
        self.cache.record(userid, ON if power_on else OFF)

    def forget(self, instance, gone=False):
        """Drop what is known of one guest (just created, or ``gone``)."""
        try:
            userid = zvm_userid.for_instance(instance)
        except nova_exception.InvalidInput:
            # No valid userid: no guest, nothing known of it.
            return
        self.paused.discard(userid)
        if gone:
            self.cache.remove(userid)
        else:
            self.cache.invalidate(userid)

    def _guarded(self, userid, func, *args):
        # A failed operation leaves the state unknown: ask next time.
        with self.cache.busy(userid):
            try:
                func(*args)
            except Exception:
                self.cache.invalidate(userid)
                raise
