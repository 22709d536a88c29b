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

"""Cold migration inside an SSI against a capture-and-redeploy move.

One nova-zvm driver per member of a two-member SSI lab; a running guest
ends up running at the other member, managed there, both ways:

SSI (what nova-zvm does)
    nova's calls for a cold migration: ``migrate_disk_and_power_off`` on
    the source (checks, stop, the connector forgets the guest),
    ``finish_migration`` on the destination (its connector adopts the
    guest, grants, start), ``confirm_migration``. No data is copied: the
    directory entry and the disks are shared.

Capture and redeploy (a driver that does not know the SSI)
    the source captures the guest's root disk and uploads it to Glance
    (the driver's snapshot), deletes the guest; the destination spawns it
    again from that image (download, import into its connector, create,
    deploy, start); the interim image is deleted from Glance. Every step
    runs on the lab, nothing is estimated; the lab's images are 1 MiB (a
    real root disk is gigabytes: its capture, upload, download, import
    and deploy would cost far more than here).

Each repetition boots a guest at the first member, moves it by SSI there
and back (two samples), then by capture and redeploy (one sample).
Measured from the drivers' own clients: wall time and REST calls.
"""

import contextlib
import time

import fixtures
from nova import objects

from nova_zvm.bench import live_migration
from nova_zvm.bench import report

M1, M2 = live_migration.M1, live_migration.M2
# nova's clean shutdown: [DEFAULT] shutdown_timeout, [compute]
# shutdown_retry_interval (their defaults).
SHUTDOWN_TIMEOUT, SHUTDOWN_RETRY = 60, 10


class _Moves(object):
    """The migration record nova's compute manager keeps, for the drivers.

    The driver reads it by instance and status (a database query in nova;
    the benchmark has no database).
    """

    def __init__(self):
        self.current = None

    def get(self, *args):
        # (cls,) context, instance uuid, status: the move under way.
        return self.current

    def start(self, instance, source_node, dest_node):
        self.current = objects.Migration(
            instance_uuid=instance.uuid, source_node=source_node,
            dest_node=dest_node, source_compute=source_node,
            dest_compute=dest_node, status='migrating',
            migration_type='migration',
            old_instance_type_id=instance.flavor.id,
            new_instance_type_id=instance.flavor.id)
        return self.current


def _ssi_move(env, moves, source, dest, instance, nw_info, image_meta,
              source_node, dest_node):
    """nova's calls for one cold migration, in nova's order."""
    ctx = env.context
    migration = moves.start(instance, source_node, dest_node)
    disk_info = source.migrate_disk_and_power_off(
        ctx, instance, dest_node, instance.flavor, nw_info, None,
        SHUTDOWN_TIMEOUT, SHUTDOWN_RETRY)
    dest.finish_migration(ctx, migration, instance, disk_info, nw_info,
                          image_meta, False, {}, None, power_on=True)
    source.confirm_migration(ctx, migration, instance, nw_info)


def _redeploy(env, source, dest, instance, nw_info):
    """Capture the root disk, delete the guest, spawn it from the image."""
    ctx = env.context
    image = env.images.create(
        ctx, {'name': 'move-' + instance.name, 'status': 'queued'})
    try:
        source.snapshot(ctx, instance, image['id'],
                        lambda *args, **kwargs: None)
        source.destroy(ctx, instance, nw_info)
        meta = env.images.show(ctx, image['id'])
        dest.spawn(ctx, instance, objects.ImageMeta.from_dict(meta), [],
                   'bench-password', {}, network_info=nw_info)
    finally:
        env.images.delete(ctx, image['id'])


def run(env, reps, profile=None):
    samples = {'ssi_wall': [], 'ssi_calls': [], 'redeploy_wall': [],
               'redeploy_calls': [], 'ssi_rest': [], 'redeploy_rest': []}
    log = live_migration.CallLog()
    moves = _Moves()
    with contextlib.ExitStack() as stack:
        stack.enter_context(fixtures.MonkeyPatch(
            'nova.objects.Migration.get_by_instance_and_status',
            moves.get))
        _lab, d1, d2 = live_migration.start_members(stack, env, profile)
        image = env.new_image()
        image_meta = env.image_meta(image)
        for _rep in range(reps):
            instance, nw_info = live_migration.boot(env, d1, image)
            holder = d1
            try:
                for source, dest, nodes in live_migration.legs(d1, d2):
                    with log.recording():
                        started = time.perf_counter()
                        _ssi_move(env, moves, source, dest, instance,
                                  nw_info, image_meta, *nodes)
                        samples['ssi_wall'].append(
                            time.perf_counter() - started)
                    holder = dest
                    samples['ssi_calls'].append(len(log.calls))
                    samples['ssi_rest'] = [api for api, _ in log.calls]
                with log.recording():
                    started = time.perf_counter()
                    holder = None
                    _redeploy(env, d1, d2, instance, nw_info)
                    holder = d2
                    samples['redeploy_wall'].append(
                        time.perf_counter() - started)
                samples['redeploy_calls'].append(len(log.calls))
                samples['redeploy_rest'] = [api for api, _ in log.calls]
            finally:
                if holder is not None:
                    holder.destroy(env.context, instance, nw_info)
    return samples


def figures(r):
    """The rows of the results table (nova-zvm only: both moves are its)."""
    F = report.from_samples
    ssi = 'cold migration between SSI members (nova-zvm)'
    redeploy = ('the same move by capture and redeploy (nova-zvm snapshot, '
                'destroy, spawn)')
    # Per repetition: the redeploy against that repetition's SSI moves.
    pairs = zip(r['redeploy_wall'], zip(r['ssi_wall'][::2],
                                        r['ssi_wall'][1::2]))
    factor = [move / report.median(list(two)) for move, two in pairs]
    return [
        F('cold_migration.ssi_wall', ssi + ': wall time', 's',
          {'ours': r['ssi_wall']}),
        F('cold_migration.redeploy_wall', redeploy + ': wall time', 's',
          {'ours': r['redeploy_wall']}),
        F('cold_migration.redeploy_over_ssi',
          'capture and redeploy / SSI cold migration: wall time', 'x',
          {'ours': factor}),
        F('cold_migration.ssi_calls', ssi + ': REST calls', 'calls',
          {'ours': r['ssi_calls']}, detail={'ours': r['ssi_rest']}),
        F('cold_migration.redeploy_calls', redeploy + ': REST calls',
          'calls', {'ours': r['redeploy_calls']},
          detail={'ours': r['redeploy_rest']}),
    ]
