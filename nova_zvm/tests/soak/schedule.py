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

"""The soak's schedule: one ``random.Random(seed)`` decides every step.

A step is an operation on one server slot or one fault. The stream of
steps depends on the seed alone: the same seed gives the same steps in the
same order. What a step does also depends on the slot's server at that
moment (an ``power`` step stops an ACTIVE server and starts a SHUTOFF one),
which is why the run also logs what each step did (operations.OperationLog).
"""

import collections
import random

# Operations on a slot, with their weights. An empty slot always boots;
# a server in ERROR is always deleted (after its fault is checked).
OPERATIONS = collections.OrderedDict([
    ('reboot', 3),      # soft or hard (the step's ``variant``)
    ('power', 4),       # stop an ACTIVE server, start a SHUTOFF one
    ('pause', 3),       # pause an ACTIVE server, unpause a PAUSED one
    ('snapshot', 2),
    ('delete', 2),
    ('periodic', 1),    # nova-compute's periodic tasks, power sync
    # Attach a port to a SHUTOFF server, or detach one the soak attached
    # (a running server's attach is refused by design: it is stopped).
    ('interface', 2),
])
# Attach a new FCP volume (running or stopped server), or detach one.
VOLUME_OPERATIONS = collections.OrderedDict([('volume', 2)])
MOVE_OPERATIONS = collections.OrderedDict([
    # Between the SSI members: live (an ACTIVE server, soft variant) or
    # cold; confirmed or reverted on the slot's next turn.
    ('migrate', 2),
    ('resize', 1),      # to a flavor with the same disks (else migrate)
])

# Faults, with their weights (faults.FaultInjector applies them).
FAULTS = collections.OrderedDict([
    ('smapi_failure', 4),    # one SMAPI function fails (rc/rs)
    ('smapi_busy', 3),       # a directory entry locked by DirMaint
    ('latency_spike', 2),    # every z/VM call slows down for a while
    ('connector_outage', 2),  # the connector's port closes, then reopens
    ('compute_restart', 1),  # nova-compute stops and a new one starts
])

# SMAPI functions a failure may hit: directory, disk, NIC, vswitch, power.
SMAPI_TARGETS = (
    'Image_Create_DM', 'Image_Disk_Create_DM', 'Image_Activate',
    'Image_Deactivate', 'Image_Delete_DM', 'Image_Pause',
    'Virtual_Network_Adapter_Create_Extended_DM',
    'Virtual_Network_Vswitch_Set_Extended', 'Image_Definition_Update_DM',
)
# Answers that are a failure whatever the function: 596/3610 DirMaint's
# internal error, 100/0 refused by the external security manager. (Not
# 200/12 or 200/16: to Image_Deactivate those say "not active" and "being
# deactivated", which the connector takes as success; injected into a
# running guest's logoff they would be a z/VM that lies, and the driver
# would wait its whole logoff timeout for a guest that never stops.)
SMAPI_ERRORS = ((596, 3610), (100, 0))
# "Locked": DirMaint works on the entry for someone else (is_locked()).
SMAPI_LOCKED = (400, 12)
LOCK_TARGETS = ('Image_Disk_Create_DM', 'Image_Definition_Update_DM',
                'Virtual_Network_Adapter_Create_Extended_DM',
                'Image_Delete_DM', 'Image_Create_DM')

Step = collections.namedtuple('Step', [
    'index', 'kind', 'name', 'slot', 'variant', 'nth', 'duration'])


def _weighted(rng, table):
    names = list(table)
    return rng.choices(names, weights=[table[n] for n in names])[0]


class Schedule(object):
    """An endless, reproducible stream of steps.

    :param seed: the one seed
    :param slots: how many servers the soak keeps (each a slot)
    :param fault_rate: the share of steps that are faults
    :param volumes: whether volume attach and detach are in the mix
    :param moves: whether migrations and resizes are in the mix
    """

    def __init__(self, seed, slots, fault_rate=0.2, volumes=True,
                 moves=True):
        self.seed = seed
        self.slots = slots
        self.fault_rate = fault_rate
        self.operations = OPERATIONS.copy()
        if moves:
            self.operations.update(MOVE_OPERATIONS)
        if volumes:
            self.operations.update(VOLUME_OPERATIONS)
        self._rng = random.Random(seed)
        self._index = 0

    def __iter__(self):
        return self

    def __next__(self):
        rng = self._rng
        # Every step draws the same numbers, used or not: the stream never
        # depends on which branch an earlier step took.
        is_fault, slot, variant, nth, duration, target = (
            rng.random(), rng.randrange(self.slots), rng.random(),
            rng.randint(1, 3), rng.uniform(0.5, 4.0), rng.random())
        self._index += 1
        if is_fault < self.fault_rate:
            name = _weighted(rng, FAULTS)
            return Step(self._index, 'fault', name, slot,
                        self._fault_variant(name, target), nth, duration)
        name = _weighted(rng, self.operations)
        return Step(self._index, 'operation', name, slot, variant, nth,
                    duration)

    @staticmethod
    def _fault_variant(name, target):
        """The fault's target, picked by ``target`` (a float in [0, 1))."""
        if name == 'smapi_failure':
            function = SMAPI_TARGETS[int(target * len(SMAPI_TARGETS))]
            rc, rs = SMAPI_ERRORS[int(target * 97) % len(SMAPI_ERRORS)]
            return {'function': function, 'rc': rc, 'rs': rs}
        if name == 'smapi_busy':
            function = LOCK_TARGETS[int(target * len(LOCK_TARGETS))]
            return {'function': function, 'rc': SMAPI_LOCKED[0],
                    'rs': SMAPI_LOCKED[1]}
        if name == 'latency_spike':
            # Seconds per SMAPI call, on top of the baseline.
            return {'smapi': round(0.05 + target * 0.45, 3)}
        if name == 'compute_restart':
            # Whether the restart happens while a build is in flight.
            return {'during_build': target < 0.5}
        return {}
