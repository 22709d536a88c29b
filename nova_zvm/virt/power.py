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
"""

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
                started = self._generation
            states = self._query_all()
            with self._lock:
                self._states = states
                self._taken_at = self._clock()
                # Entries written while the query ran stay on top of it.
                self._entries = {u: e for u, e in self._entries.items()
                                 if e[0] > started}

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

    def _query_all(self, attempts=2):
        for attempt in range(1, attempts + 1):
            userids = self._list()
            try:
                running = self._running(userids)
                break
            except zvm_exception.NotFound:
                # A guest was deleted between the list and the stats (the
                # connector refuses the whole request): list again.
                if attempt == attempts:
                    raise
        LOG.debug('Power state snapshot: %(on)d of %(all)d guests running',
                  {'on': len(running), 'all': len(userids)})
        return {u: (ON if u in running else OFF) for u in userids}

    def _running(self, userids):
        running = set()
        for chunk in chunk_userids(userids):
            running.update(u.upper() for u in
                           self._client.guest_inspect_stats(chunk) or {})
        return running

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

    def record(self, userid, state):
        """Remember a state just observed or caused (exact)."""
        self._write(userid, state)

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
        try:
            func(*args)
        except Exception:
            self.cache.invalidate(userid)
            raise
