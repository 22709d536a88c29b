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

"""Figure 6: what a spawn costs the compute process: CPU time and memory.

Each driver runs in a new process of its own (``python -m
nova_zvm.bench.cost``), so that its peak RSS is its own and the CPU time
counts only its work. The process imports nova, starts the driver, spawns
once to import the image (not counted), then spawns ``--spawns`` guests one
after another; CPU time is user + system time of the process over those
spawns (``genisoimage``, run by both drivers to build config drives, is
reported apart as child CPU time).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

RESULT_PREFIX = 'NOVA_ZVM_BENCH_COST '


def _cpu(usage):
    return usage.ru_utime + usage.ru_stime


def measure(name, info, first_id, spawns):
    """Run in the worker process: spawn and report what it cost."""
    import fixtures

    from nova_zvm.bench import drivers
    from nova_zvm.bench import environment
    from nova_zvm.bench import operations

    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with fixtures.Fixture() as holder:
        env = holder.useFixture(environment.NovaEnvironment())
        spec = drivers.make(name, info)
        # The compute process's own cost: an agent runs elsewhere.
        driver = spec.build(env, agent=False)
        image = env.new_image()
        instances = [env.instance(image, instance_id=first_id + n)
                     for n in range(spawns + 1)]
        operations.spawn(env, driver, instances[0])
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        for instance in instances[1:]:
            operations.spawn(env, driver, instance)
        wall = time.perf_counter() - start
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        for instance in instances:
            operations.destroy(env, driver, instance)
        drivers.stop(driver)
    return {
        'driver': name, 'spawns': spawns,
        'cpu_s_per_spawn': (_cpu(self1) - _cpu(self0)) / spawns,
        'child_cpu_s_per_spawn': (_cpu(children1) - _cpu(children0))
        / spawns,
        'wall_s_per_spawn': wall / spawns,
        # ru_maxrss is in KiB on Linux.
        'peak_rss_mib': self1.ru_maxrss / 1024.0,
        'rss_before_nova_mib': baseline_rss / 1024.0,
    }


def run_worker(name, info, first_id, spawns, timeout=900):
    """Start a worker process for ``name`` and return what it reports."""
    env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
    cmd = [sys.executable, '-m', 'nova_zvm.bench.cost', '--driver', name,
           '--url', info['url'], '--first-id', str(first_id),
           '--spawns', str(spawns)]
    if info.get('token_file'):
        cmd += ['--token-file', info['token_file']]
    if info.get('ca_file'):
        cmd += ['--ca-file', info['ca_file']]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise RuntimeError('cost worker for %s failed (rc %s): %s'
                       % (name, proc.returncode, proc.stderr[-2000:]))


def run(env, specs, reps, spawns):
    samples = {'cpu': {}, 'child_cpu': {}, 'rss': {}, 'wall': {}}
    for rep in range(reps):
        order = specs if rep % 2 == 0 else specs[::-1]
        for spec in order:
            first_id = env.reserve_ids(spawns + 1)
            result = run_worker(spec.name, spec.lab_info, first_id, spawns)
            samples['cpu'].setdefault(spec.name, []).append(
                result['cpu_s_per_spawn'])
            samples['child_cpu'].setdefault(spec.name, []).append(
                result['child_cpu_s_per_spawn'])
            samples['rss'].setdefault(spec.name, []).append(
                result['peak_rss_mib'])
            samples['wall'].setdefault(spec.name, []).append(
                result['wall_s_per_spawn'])
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m nova_zvm.bench.cost')
    parser.add_argument('--driver', required=True)
    parser.add_argument('--url', required=True)
    parser.add_argument('--token-file')
    parser.add_argument('--ca-file')
    parser.add_argument('--first-id', type=int, required=True)
    parser.add_argument('--spawns', type=int, default=5)
    args = parser.parse_args(argv)
    info = {'url': args.url, 'token_file': args.token_file,
            'ca_file': args.ca_file}
    result = measure(args.driver, info, args.first_id, args.spawns)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    sys.exit(main())
