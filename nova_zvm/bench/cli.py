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

"""``python -m nova_zvm.bench``: run the figures, write the results."""

import argparse
import contextlib
import datetime
import logging
import os
import platform
import subprocess
import sys
import time
import traceback

from nova_zvm.bench import burst
from nova_zvm.bench import client
from nova_zvm.bench import cold_migration
from nova_zvm.bench import cost
from nova_zvm.bench import drivers
from nova_zvm.bench import environment
from nova_zvm.bench import events
from nova_zvm.bench import floor
from nova_zvm.bench import interfaces
from nova_zvm.bench import labs
from nova_zvm.bench import live_migration
from nova_zvm.bench import operations
from nova_zvm.bench import periodic
from nova_zvm.bench import power_sync
from nova_zvm.bench import report
from nova_zvm.bench import volumes

LOG = logging.getLogger('nova_zvm.bench')

SCENARIOS = ('lab_start', 'client', 'operations', 'burst', 'burst_overlap',
             'burst_slow_glance', 'power_sync', 'periodic', 'cost',
             'volumes', 'interfaces', 'live_migration', 'cold_migration')
# nova-zvm only: the in-tree driver sends nova no lifecycle events.
SCENARIOS += ('events',)

OP_TITLES = {
    'spawn_new_image': 'spawn, new image',
    'spawn_cached_image': 'spawn, image cached',
    'reboot': 'reboot (soft)',
    'power_off': 'power off (clean)',
    'power_on': 'power on',
    'destroy': 'destroy',
    'attach_interface': 'attach interface (stopped guest)',
    'detach_interface': 'detach interface',
}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='python -m nova_zvm.bench',
        description="Benchmark nova-zvm against nova's in-tree z/VM driver "
                    "on the lab.")
    p.add_argument('--output-dir', default='bench',
                   help='where results.json and results.md go '
                        '(default: ./bench)')
    p.add_argument('--profile', default='zvm',
                   help='latency profile of the labs the drivers run on: a '
                        "bundled name or a JSON file (default 'zvm')")
    p.add_argument('--glance-seconds', type=float, default=2.0,
                   help='seconds one image download from Glance takes, '
                        'for both drivers (default 2.0)')
    p.add_argument('--slow-glance-seconds', type=float, default=6.0,
                   help='Glance download time of one more burst (default '
                        '6.0: what moving a root disk image costs in the '
                        'zvm profile)')
    p.add_argument('--reps', type=int, default=5,
                   help='repetitions of the cheap figures (default 5)')
    p.add_argument('--burst-reps', type=int, default=3,
                   help='repetitions of the burst (default 3)')
    p.add_argument('--client-calls', type=int, default=200,
                   help='power-state queries per client sample')
    p.add_argument('--burst', type=int, default=20,
                   help='concurrent spawns in the burst (default 20)')
    p.add_argument('--images', type=int, default=4,
                   help='distinct images in the burst (default 4)')
    p.add_argument('--guests', type=int, default=200,
                   help='guests in the power sync (default 200)')
    p.add_argument('--event-interval', type=int, default=5,
                   help='[zvm] lifecycle_poll_interval of the events '
                        'figures (default 5, the option\'s default)')
    p.add_argument('--cost-spawns', type=int, default=3,
                   help='spawns measured per cost worker (default 3)')
    p.add_argument('--cost-reps', type=int, default=1,
                   help='cost workers per driver (default 1)')
    p.add_argument('--only', action='append', choices=SCENARIOS,
                   help='run only these figures (repeatable)')
    p.add_argument('--update', action='store_true',
                   help='put the figures of this run into the results '
                        'already in --output-dir (replacing those of the '
                        'scenarios run, keeping the others) instead of '
                        'writing new ones; use with --only')
    p.add_argument('--driver', action='append', dest='drivers',
                   choices=(drivers.OURS, drivers.INTREE),
                   help='run only this driver (repeatable; default both)')
    p.add_argument('--smoke', action='store_true',
                   help='one repetition, few guests, no latency: checks '
                        'that the harness works, not a measurement')
    p.add_argument('--verbose', action='store_true')
    args = p.parse_args(argv)
    if args.update and not os.path.exists(
            os.path.join(args.output_dir, 'results.json')):
        p.error('--update: no results.json in %s to update (run without '
                '--update first, or point --output-dir at one)'
                % args.output_dir)
    if args.smoke:
        args.reps = args.burst_reps = args.cost_reps = 1
        args.client_calls = 10
        args.burst, args.images, args.guests = 4, 2, 6
        args.cost_spawns = 1
        args.event_interval = 1
        args.profile = None
        args.glance_seconds = 0.0
        args.slow_glance_seconds = 0.0
        # The overlapping burst runs the same code as the serial one.
        args.only = args.only or [s for s in SCENARIOS
                                  if s != 'burst_overlap']
    return args


def op_floors(result, op, times):
    """Each driver's floor and DirMaint requests for one operation."""
    chains = {driver: floor.Chain(calls, times,
                                  imports=op == 'spawn_new_image')
              for driver, calls in (result.get('zvm') or {}).items()}
    return ({d: c.seconds for d, c in chains.items()},
            {d: c.to_dict() for d, c in chains.items()})


def burst_figures(key, r, args, times):
    """Wall time against the floor, imports, calls, DirMaint, failures."""
    profile = r.get('profile', 'serial')
    title = 'burst of %d spawns, %d images, DirMaint %s, %s builds' % (
        args.burst, args.images,
        'one request at a time' if profile == 'serial' else 'overlapping',
        r.get('slots') or 'unlimited')
    floors, detail = {}, {}
    for driver, lone in (r.get('lone') or {}).items():
        new = floor.Chain(lone['new_image'], times, imports=True)
        cached = floor.Chain(lone['cached_image'], times)
        floors[driver], bounds = floor.burst_floor(
            new, cached, args.burst, args.images, r.get('slots'),
            burst.PROFILES[profile])
        detail[driver] = {'bounds': bounds, 'new_image': new.to_dict(),
                          'cached_image': cached.to_dict()}
    failed = r.get('failed', {})
    note = None
    if any(any(v) for v in failed.values()):
        note = 'failed spawns per repetition: %s; errors: %s' % (
            failed, r.get('errors'))
    F = report.from_samples
    T = report.Target
    per_spawn = {d: [n / float(args.burst) for n in v]
                 for d, v in (r.get('dirmaint') or {}).items()}
    return [
        F(key + '.wall', title + ': wall time', 's', r['wall'],
          T('<=', 0.5), note=note, floor=floors, floor_detail=detail),
        F(key + '.imports', title + ': image imports', 'imports',
          r['imports'], T('==', args.images, on='ours',
                          text='nova-zvm == %d' % args.images)),
        F(key + '.calls', title + ': REST calls', 'calls', r['calls'],
          detail=r.get('rest')),
        F(key + '.dirmaint', title + ': DirMaint requests per spawn',
          'requests', per_spawn),
        F(key + '.failed', title + ': failed spawns', 'spawns',
          r['failed'], T('==', 0, on='ours', text='nova-zvm == 0')),
    ]


def build_figures(results, args, latency=None):
    figs = []
    times = floor.ServiceTimes(latency or {}, args.glance_seconds)
    F = report.from_samples
    T = report.Target
    if 'lab_start' in results:
        # The lab is no driver: its start time stands in the nova-zvm
        # column, against the 3 s the lab promises tests and devstack.
        figs.append(F('lab.start', 'lab start (connector + fake z/VM)',
                      's', {'ours': results['lab_start']},
                      T('<=', 3.0, on='ours')))
    if 'client' in results:
        for proto, target in (('http', 1.5), ('https', 3.0)):
            r = results['client'].get(proto)
            if not r:
                continue
            figs.append(F(
                'client.%s.rate' % proto,
                'client: guest power-state queries/s, %s' % proto.upper(),
                'calls/s', r['rate'], T('>=', target)))
            figs.append(F(
                'client.%s.requests' % proto,
                'client: HTTP requests per query, %s' % proto.upper(),
                'requests', r['requests']))
    if 'operations' in results:
        for op in operations.OPERATIONS:
            r = results['operations'][op]
            floors, detail = op_floors(r, op, times)
            figs.append(F('ops.%s.wall' % op, OP_TITLES[op] + ': wall time',
                          's', r['wall'], floor=floors,
                          floor_detail=detail))
            figs.append(F('ops.%s.calls' % op, OP_TITLES[op] + ': REST calls',
                          'calls', r['calls'], detail=r.get('rest')))
            figs.append(F('ops.%s.dirmaint' % op,
                          OP_TITLES[op] + ': DirMaint requests', 'requests',
                          {d: [v['dirmaint_requests']]
                           for d, v in detail.items()}))
    for key in ('burst', 'burst_overlap'):
        if key in results:
            figs += burst_figures(key, results[key], args, times)
    if 'burst_slow_glance' in results:
        r = results['burst_slow_glance']
        title = ('burst of %d spawns, %d images, %g s Glance downloads, '
                 'DirMaint overlapping (1 run)' % (
                     args.burst, args.images, args.slow_glance_seconds))
        slow = floor.ServiceTimes(latency or {}, args.slow_glance_seconds)
        floors = {}
        for driver, lone in (r.get('lone') or {}).items():
            floors[driver] = floor.burst_floor(
                floor.Chain(lone['new_image'], slow, imports=True),
                floor.Chain(lone['cached_image'], slow), args.burst,
                args.images, r.get('slots'), False)[0]
        figs.append(F('burst_slow_glance.wall', title + ': wall time', 's',
                      r['wall'], floor=floors))
        figs.append(F('burst_slow_glance.imports', title + ': image imports',
                      'imports', r['imports']))
    if 'power_sync' in results:
        r = results['power_sync']
        title = 'power sync of %d guests' % args.guests
        figs.append(F('power_sync.calls', title + ': REST calls', 'calls',
                      r['calls'], T('<=', 2, on='ours',
                                    text='nova-zvm <= 2'),
                      detail=r.get('rest')))
        figs.append(F('power_sync.wall', title + ': wall time', 's',
                      r['wall']))
        figs.append(F('power_sync.correct', title + ': states right',
                      'guests', r['correct'],
                      T('==', args.guests, on='ours',
                        text='nova-zvm == %d' % args.guests)))
    if 'periodic' in results:
        r = results['periodic']
        figs.append(F('periodic.host_info',
                      'periodic resource update: host_get_info calls',
                      'calls', r['host_info'],
                      T('==', 1, on='ours', text='nova-zvm == 1')))
        figs.append(F('periodic.calls',
                      'periodic resource update: REST calls', 'calls',
                      r['calls'], detail=r.get('rest')))
        if r.get('dirmaint'):
            figs.append(F('periodic.dirmaint',
                          'periodic resource update: DirMaint requests',
                          'requests', r['dirmaint']))
        figs.append(F('periodic.wall',
                      'periodic resource update: wall time', 's', r['wall']))
    if 'volumes' in results:
        r = results['volumes']
        for op in ('attach', 'detach'):
            title = 'FCP volume %s (2 paths, 2 target ports)' % op
            figs.append(F('volumes.%s.calls' % op, title + ': REST calls',
                          'calls', r['%s_calls' % op],
                          T('<=', volumes.MINIMUM_CALLS + 1, on='ours',
                            text='nova-zvm <= %d (minimum %d)' % (
                                volumes.MINIMUM_CALLS + 1,
                                volumes.MINIMUM_CALLS)),
                          detail=r['rest'].get(op)))
            figs.append(F('volumes.%s.wall' % op, title + ': wall time', 's',
                          r['%s_wall' % op]))
    if 'interfaces' in results:
        for op in interfaces.OPERATIONS:
            r = results['interfaces'][op]
            figs.append(F('interfaces.%s.wall' % op,
                          OP_TITLES[op] + ': wall time', 's', r['wall']))
            figs.append(F('interfaces.%s.calls' % op,
                          OP_TITLES[op] + ': REST calls', 'calls',
                          r['calls'], detail=r.get('rest')))
    if 'events' in results:
        r = results['events']
        title = 'lifecycle events, %d guests, poll every %d s' % (
            args.guests, args.event_interval)
        figs.append(F('events.latency',
                      title + ': guest stopped on z/VM -> event to nova',
                      's', r['latency']))
        figs.append(F('events.calls', title + ': REST calls per poll',
                      'calls', r['calls']))
    if 'cost' in results:
        r = results['cost']
        figs.append(F('cost.cpu', 'compute process CPU time per spawn',
                      's', r['cpu']))
        figs.append(F('cost.child_cpu',
                      'child processes CPU time per spawn (genisoimage)',
                      's', r['child_cpu']))
        figs.append(F('cost.rss', 'compute process peak RSS', 'MiB',
                      r['rss']))
    if 'live_migration' in results:
        figs.extend(live_migration_figures(results['live_migration']))
    if 'cold_migration' in results:
        figs.extend(cold_migration.figures(results['cold_migration']))
    return figs


def live_migration_figures(r):
    title = 'live migration between SSI members (nova-zvm only)'
    F = report.from_samples
    return [
        F('live_migration.wall', title + ': wall time', 's',
          {'ours': r['wall']}),
        F('live_migration.wall_above',
          title + ': wall time above VMRELOCATE MOVE', 's',
          {'ours': r['wall_above']}),
        F('live_migration.calls', title + ': REST calls', 'calls',
          {'ours': r['calls']}, detail={'ours': r['rest']}),
        F('live_migration.calls_above',
          title + ': REST calls above VMRELOCATE MOVE', 'calls',
          {'ours': r['calls_above']}),
    ]


def profile_note(name, latency, document):
    if not name:
        return 'Labs ran without a latency profile.'
    costs = ', '.join('%s %g' % (k, v) for k, v in sorted(latency.items()))
    why = document.get('description') or document.get('why') or ''
    text = ('Both drivers\' labs used latency profile %r (%s; seconds per '
            'call: %s).' % (name, document.get('file'), costs))
    return text + (' ' + why if why else '')


def run_scenarios(args, stack, env, results, errors):
    wanted = args.only or SCENARIOS

    def attempt(name, fn):
        if name not in wanted:
            return
        LOG.warning('bench: %s ...', name)
        start = time.monotonic()
        try:
            results[name] = fn()
        except Exception:
            LOG.exception('bench: %s failed', name)
            errors.append('%s: %s' % (name, traceback.format_exc(limit=4)))
        LOG.warning('bench: %s done in %.0f s', name,
                    time.monotonic() - start)

    def lab_starts():
        samples = []
        for _rep in range(max(3, args.reps)):
            with contextlib.ExitStack() as lab_stack:
                started = time.monotonic()
                labs.start_lab(lab_stack, auth='token')
                samples.append(time.monotonic() - started)
        return samples

    attempt('lab_start', lab_starts)

    def client_figures():
        out = {}
        for proto, tls in (('http', False), ('https', True)):
            with contextlib.ExitStack() as lab_stack:
                lab = labs.start_lab(lab_stack, auth='token', tls=tls)
                out[proto] = client.run(lab, args.reps, args.client_calls)
        return out

    attempt('client', client_figures)
    if not args.drivers or drivers.OURS in args.drivers:
        attempt('live_migration', lambda: live_migration.run(
            env, args.reps, args.profile))
        attempt('cold_migration', lambda: cold_migration.run(
            env, args.reps, args.profile))

    if not set(wanted) - {'client', 'live_migration', 'cold_migration'}:
        return
    lab_ours = labs.start_lab(stack, auth='token',
                              latency_profile=args.profile)
    lab_intree = labs.start_lab(stack, auth='none',
                                latency_profile=args.profile)
    specs = [drivers.ours(drivers.lab_info(lab_ours)),
             drivers.intree(drivers.lab_info(lab_intree))]
    specs = [s for s in specs
             if not args.drivers or s.name in args.drivers]
    by_driver = {drivers.OURS: lab_ours, drivers.INTREE: lab_intree}
    attempt('operations', lambda: operations.run(
        env, specs, by_driver, args.reps))
    # A spawn alone (the floor's chains) is the same in both profiles, and
    # the single operations have just recorded one of each.
    lone = {}
    for spec in specs:
        zvm = {op: results.get('operations', {}).get(op, {}).get('zvm', {})
               for op in ('spawn_new_image', 'spawn_cached_image')}
        if all(spec.name in calls for calls in zvm.values()):
            lone[spec.name] = {
                'new_image': zvm['spawn_new_image'][spec.name],
                'cached_image': zvm['spawn_cached_image'][spec.name]}
    for name, profile in (('burst', 'serial'), ('burst_overlap', 'overlap')):
        attempt(name, lambda profile=profile: burst.run(
            env, specs, by_driver, args.burst_reps, args.burst, args.images,
            profile=profile, lone=lone))

    def slow_glance_burst():
        # Directory work overlapping: the figure shows the downloads, not
        # DirMaint's queue.
        env.images.download_seconds = args.slow_glance_seconds
        try:
            return burst.run(env, specs, by_driver, 1, args.burst,
                             args.images, profile='overlap', lone=lone)
        finally:
            env.images.download_seconds = args.glance_seconds

    if args.slow_glance_seconds:
        attempt('burst_slow_glance', slow_glance_burst)
    attempt('power_sync', lambda: power_sync.run(
        env, specs, by_driver, args.reps, args.guests))
    attempt('periodic', lambda: periodic.run(
        env, specs, by_driver, args.reps))
    attempt('cost', lambda: cost.run(
        env, specs, args.cost_reps, args.cost_spawns))
    attempt('volumes', lambda: volumes.run(
        env, specs, by_driver, args.reps))
    attempt('interfaces', lambda: interfaces.run(
        env, specs, by_driver, args.reps))
    ours = [s for s in specs if s.name == drivers.OURS]
    if ours:
        attempt('events', lambda: events.run(
            env, ours[0], lab_ours, args.reps, args.guests,
            args.event_interval))


def source_version():
    """The commit the measured code comes from, '+dirty' if changed."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(
            ['git', '-C', here, 'rev-parse', '--short', 'HEAD'],
            capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(
            ['git', '-C', here, 'status', '--porcelain', '--', '..'],
            capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (commit + ('+dirty' if dirty else '')) if commit else None


def run(args):
    """Run the figures; returns (figures, meta)."""
    started = datetime.datetime.now(datetime.timezone.utc)
    latency, document = labs.load_profile(args.profile)
    results, errors = {}, []
    with contextlib.ExitStack() as stack:
        env = stack.enter_context(environment.NovaEnvironment(
            download_seconds=args.glance_seconds))
        run_scenarios(args, stack, env, results, errors)
    figures = build_figures(results, args, latency)
    notes = [
        "nova's in-tree driver (nova.virt.zvm.driver.ZVMDriver through "
        "zvmconnector) cannot send tokens: it ran against a lab with "
        "auth='none'. nova-zvm ran against a lab with token auth; its "
        "REST call counts include any POST /token.",
        "The in-tree driver needs force_config_drive = True (set for both "
        "drivers) and moves images by scp from remote_host, which the lab "
        "emulates as a local copy.",
        profile_note(args.profile, latency, document),
        'Downloading an image from Glance (an in-memory fake) takes %g s, '
        'for both drivers, once per image a driver imports: the lab\'s '
        'images are 1 MiB, real ones gigabytes.' % args.glance_seconds,
        'Client figures: both clients with token auth on one lab, no '
        'latency (the cost of the client itself); nova-zvm\'s '
        'nova_zvm.client.ZVMClient vs zvmconnector.RESTClient(auth=token).',
        "nova's in-tree driver leaves vswitch grants and NIC coupling to "
        "a separate neutron agent: right after each of its spawns the "
        "benchmark makes the agent's two REST calls (vswitch_grant_user, "
        "guest_nic_couple_to_vswitch) and counts them, their z/VM calls "
        "and their time in its figures (not in its CPU cost).",
        'Floor: the least time the latency profile allows for the z/VM '
        'calls the lab recorded for the operation run alone (plus the '
        'Glance download of an imported image); a burst\'s floor is the '
        'largest of its longest chain, the build slots '
        '(max_concurrent_builds) and, with DirMaint one request at a time, '
        'the DirMaint queue (nova_zvm/bench/floor.py). Each driver has its '
        'own floor (its own calls); "nova-zvm / floor" is the target '
        '(<= %g).' % report.FLOOR_TARGET,
        'Ratios are nova-zvm / in-tree within this run (the median of the '
        'ratios of each repetition, where both drivers ran back to back); '
        'targets are those of issue 8.',
    ]
    if args.smoke:
        notes.insert(0, 'SMOKE RUN: one repetition, few guests, no latency; '
                        'not a measurement.')
    meta = {
        'started': started.strftime('%Y-%m-%d %H:%M'),
        'duration_s': round((datetime.datetime.now(datetime.timezone.utc)
                             - started).total_seconds()),
        'host': platform.node(), 'cpus': os.cpu_count(),
        'source': source_version(),
        'python': platform.python_version(),
        'reps': args.reps, 'burst_reps': args.burst_reps,
        'cost_reps': args.cost_reps, 'cost_spawns': args.cost_spawns,
        'profile': args.profile, 'latency': latency,
        'glance_seconds': args.glance_seconds,
        'smoke': args.smoke, 'errors': errors, 'notes': notes,
        'command': 'python -m nova_zvm.bench ' + ' '.join(
            sys.argv[1:] if sys.argv[1:] else []),
    }
    return figures, meta


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    if not args.verbose:
        # The drivers log every failed call; the figures say enough.
        for name in ('nova', 'nova_zvm', 'zvmconnector', 'oslo'):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        LOG.setLevel(logging.WARNING)
    figures, meta = run(args)
    if args.update:
        figures, meta = report.merge(args.output_dir, figures, meta,
                                     args.only or SCENARIOS)
    json_path, md_path = report.write(args.output_dir, figures, meta)
    print(report.markdown(figures, meta))
    print('wrote %s and %s' % (json_path, md_path))
    return 1 if meta['errors'] else 0
