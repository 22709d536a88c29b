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

"""Live migration between two SSI members: what nova-zvm adds to VMRELOCATE.

One nova-zvm driver per member of a two-member SSI lab, called in the order
nova calls them (destination check, source check, pre_live_migration on
the destination, live_migration on the source, whose post method ends with
post_live_migration_at_destination). Each repetition moves a running guest
there and back: two samples. Measured from the drivers' own clients (the
second member's connector runs in its own process, out of the lab's REST
log): every REST call and its time. "Above the relocation" leaves the
``VMRELOCATE MOVE`` call itself out: what the checks and the hand-over
cost. The in-tree driver has no live migration.
"""

import contextlib
import logging
import threading
import time

from nova import objects

from nova_zvm.bench import drivers
from nova_zvm.bench import environment
from nova_zvm.bench import labs
from nova_zvm.lab import fixture as lab_fixture

M1, M2 = 'ZVMLAB01', 'ZVMLAB02'
MOVE_API = 'guest_live_migrate'


class CallLog(logging.Handler):
    """The REST calls nova-zvm's clients log: (api, milliseconds)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.calls = []
        self._lock = threading.Lock()

    def emit(self, record):
        args = record.args if isinstance(record.args, dict) else {}
        if 'api' not in args or 'status' not in args:
            return
        with self._lock:
            self.calls.append((args['api'], args.get('ms') or 0))

    @contextlib.contextmanager
    def recording(self):
        logger = logging.getLogger('nova_zvm.client')
        level, propagate = logger.level, logger.propagate
        # Counted here, not printed.
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self)
        self.calls = []
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = propagate


def _driver(env, lab, member):
    info = next(m for m in lab.member_connectors if m['name'] == member)
    return drivers.ours(info).build(env)


def start_members(stack, env, profile):
    """A two-member SSI lab and a nova-zvm driver per member.

    :returns: (lab, driver of M1, driver of M2), stopped with ``stack``
    """
    lab = lab_fixture.LabFixture(
        members=2, latency_profile=labs.profile_path(profile),
        log_level='WARNING')
    stack.enter_context(lab)
    env.use_driver_dirs(drivers.OURS)
    d1, d2 = _driver(env, lab, M1), _driver(env, lab, M2)
    stack.callback(drivers.stop, d1)
    stack.callback(drivers.stop, d2)
    return lab, d1, d2


def legs(d1, d2):
    """There and back: (source, destination, (their nodes)) each way."""
    return ((d1, d2, (M1, M2)), (d2, d1, (M2, M1)))


def boot(env, driver, image):
    """A running guest spawned by ``driver``: (instance, network_info)."""
    instance = env.instance(image)
    nw_info = environment.network_info(instance.id)
    instance.info_cache = objects.InstanceInfoCache(network_info=nw_info)
    driver.spawn(env.context, instance, env.image_meta(image), [],
                 'bench-password', {}, network_info=nw_info)
    return instance, nw_info


def _migrate(env, source, dest, instance, nw_info, source_node, dest_node):
    """nova's calls for one live migration, in nova's order."""
    ctx = env.context
    data = dest.check_can_live_migrate_destination(
        ctx, instance, {'hypervisor_hostname': source_node},
        {'hypervisor_hostname': dest_node}, False, False)
    data = source.check_can_live_migrate_source(
        ctx, instance, data, {'block_device_mapping': []})
    data = dest.pre_live_migration(ctx, instance, None, nw_info, None, data)
    outcome = []

    def post(context, inst, host, block_migration, migrate_data):
        source.post_live_migration_at_source(context, inst, nw_info)
        dest.post_live_migration_at_destination(context, inst, nw_info)
        outcome.append('post')

    def recover(*args):
        outcome.append('recover')

    source.live_migration(ctx, instance, 'dest', post, recover, False, data)
    if outcome != ['post']:
        raise RuntimeError('live migration of %s did not complete: %s'
                           % (instance.name, outcome))


def run(env, reps, profile=None):
    samples = {'wall': [], 'calls': [], 'wall_above': [],
               'calls_above': [], 'rest': {}}
    env.conf.config(live_migration_wait_for_vif_plug=False,
                    group='compute')
    log = CallLog()
    with contextlib.ExitStack() as stack:
        lab, d1, d2 = start_members(stack, env, profile)
        image = env.new_image()
        for _rep in range(reps):
            instance, nw_info = boot(env, d1, image)
            # The cluster-wide vswitch authorization the SSI guide asks
            # for: the operator's, not measured.
            lab.zvm.set_member(M2, grants={environment.VSWITCH: [
                instance.name.upper()]})
            holder = d1
            try:
                for source, dest, nodes in legs(d1, d2):
                    with log.recording():
                        started = time.perf_counter()
                        _migrate(env, source, dest, instance, nw_info,
                                 *nodes)
                        wall = time.perf_counter() - started
                    holder = dest
                    move_ms = sum(ms for api, ms in log.calls
                                  if api == MOVE_API)
                    samples['wall'].append(wall)
                    samples['calls'].append(len(log.calls))
                    samples['wall_above'].append(wall - move_ms / 1000.0)
                    samples['calls_above'].append(len(log.calls) - 1)
                    samples['rest'] = [api for api, _ in log.calls]
            finally:
                holder.destroy(env.context, instance, nw_info)
    return samples
