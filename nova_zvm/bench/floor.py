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

"""The floor: the shortest time an operation can take on the lab's z/VM.

The lab's latency profile gives every z/VM call a service time, and the
lab records every call it serves. An operation's floor is computed from
what the lab recorded for it run alone, not from a list of calls written
here (which would drift from the driver):

* one operation is a chain: the driver makes its REST calls one after
  another and the connector runs each call's z/VM steps in order, so its
  floor is the sum of its calls' service times (plus the Glance download
  when it imports an image);
* a burst is bound three ways, and its floor is the largest bound: the
  longest chain; the build slots (nova runs at most
  ``max_concurrent_builds`` spawns at once: the slots' total work shared
  evenly, and two of the ``slots + 1`` longest chains sharing a slot); and,
  when DirMaint handles one request at a time, the sum of every spawn's
  directory requests plus the shortest wait before a spawn's first one
  and after its last.

Nothing here credits a reordering the driver does not do: the floor is
that of the driver's call sequence, so removing calls lowers it.
"""

from nova_zvm.lab import zvm as fake_zvm

GLANCE = 'glance:download'
# Lab log entries that are events, not work (a refused vmur punch).
_EVENT_SUFFIXES = (' EBUSY',)


def split(label):
    """'smapi:Image_Create_DM' -> ('smapi', 'Image_Create_DM')."""
    kind, _sep, name = label.partition(':')
    return kind, name


def is_dirmaint(label):
    """A directory manager request: a SMAPI function named ``*_DM``."""
    kind, name = split(label)
    return kind == 'smapi' and name.endswith('_DM')


class ServiceTimes(object):
    """Seconds per recorded call, looked up as the lab itself does."""

    def __init__(self, latency, glance_seconds=0.0):
        # The lab's own lookup (exact name, CP word prefixes, kind:*, *):
        # one rule for the delay served and the floor computed.
        self._zvm = fake_zvm.FakeZVM(latency=latency)
        self.glance_seconds = float(glance_seconds)

    def __call__(self, label):
        if label == GLANCE:
            return self.glance_seconds
        if label.endswith(_EVENT_SUFFIXES):
            return 0.0
        kind, name = split(label)
        return float(self._zvm._delay(kind, name))


class Chain(object):
    """The recorded calls of one operation, in order, and their times."""

    def __init__(self, calls, times, imports=False):
        self.calls = ([GLANCE] if imports else []) + list(calls)
        self.times = [times(c) for c in self.calls]

    @property
    def seconds(self):
        return sum(self.times)

    def _dirmaint_at(self):
        return [i for i, c in enumerate(self.calls) if is_dirmaint(c)]

    @property
    def dirmaint_requests(self):
        return len(self._dirmaint_at())

    @property
    def dirmaint_seconds(self):
        return sum(self.times[i] for i in self._dirmaint_at())

    @property
    def before_dirmaint(self):
        """Seconds before the first directory request (all: none)."""
        at = self._dirmaint_at()
        return sum(self.times[:at[0]]) if at else self.seconds

    @property
    def after_dirmaint(self):
        """Seconds after the last directory request (0: none)."""
        at = self._dirmaint_at()
        return sum(self.times[at[-1] + 1:]) if at else 0.0

    def to_dict(self):
        return {'seconds': round(self.seconds, 3),
                'dirmaint_requests': self.dirmaint_requests,
                'dirmaint_seconds': round(self.dirmaint_seconds, 3),
                'calls': len(self.calls)}


def burst_bounds(chains, slots, dirmaint_serial):
    """The lower bounds of a burst's wall time, by name.

    :param chains: one Chain per spawn of the burst
    :param slots: spawns nova runs at once (``max_concurrent_builds``;
        0 means no limit)
    :param dirmaint_serial: DirMaint handles one request at a time
    """
    if not chains:
        return {}
    lengths = sorted((c.seconds for c in chains), reverse=True)
    bounds = {'longest_chain': lengths[0]}
    if slots and len(lengths) > slots:
        bounds['build_slots'] = max(sum(lengths) / slots,
                                    lengths[slots - 1] + lengths[slots])
    if dirmaint_serial and any(c.dirmaint_requests for c in chains):
        with_dm = [c for c in chains if c.dirmaint_requests]
        bounds['dirmaint_queue'] = (
            min(c.before_dirmaint for c in with_dm) +
            sum(c.dirmaint_seconds for c in with_dm) +
            min(c.after_dirmaint for c in with_dm))
    return bounds


def burst_chains(new_image, cached_image, spawns, images):
    """The chains of ``spawns`` spawns over ``images`` images none cached.

    Each image is imported once, by its first spawn (``new_image``); the
    others find it imported (``cached_image``).
    """
    firsts = min(spawns, images)
    return [new_image] * firsts + [cached_image] * (spawns - firsts)


def burst_floor(new_image, cached_image, spawns, images, slots,
                dirmaint_serial):
    """(floor seconds, {bound: seconds}) of a burst."""
    bounds = burst_bounds(burst_chains(new_image, cached_image, spawns,
                                       images), slots, dirmaint_serial)
    return (max(bounds.values()) if bounds else 0.0), bounds
