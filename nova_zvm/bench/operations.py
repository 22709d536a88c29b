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

"""Figure 2: single operations, called the way nova's compute manager does.

Each repetition uses a new image: the first spawn imports it ("spawn, new
image"), a second spawn finds it ("spawn, image cached"); then the first
guest is rebooted (soft, nova's default), powered off (clean shutdown:
``[DEFAULT] shutdown_timeout`` and ``[compute] shutdown_retry_interval``,
as ``ComputeManager._power_off_instance`` passes them), powered on and
destroyed.
"""

from nova.compute import power_state

from nova_zvm.bench import drivers
from nova_zvm.bench import environment
from nova_zvm.bench import labs

CONF = environment.CONF

OPERATIONS = ('spawn_new_image', 'spawn_cached_image', 'reboot',
              'power_off', 'power_on', 'destroy')


def spawn(env, driver, instance):
    image = env.images.show(env.context, instance.image_ref)
    driver.spawn(env.context, instance, env.image_meta(image),
                 injected_files=[], admin_password='bench-password',
                 allocations={}, network_info=environment.network_info(
                     instance.id),
                 block_device_info=None)
    agent = getattr(driver, 'bench_agent', None)
    if agent is not None:
        agent.plug(instance)


def destroy(env, driver, instance):
    driver.destroy(env.context, instance,
                   environment.network_info(instance.id),
                   block_device_info=None, destroy_disks=True)


def run_once(env, spec, lab):
    """One repetition for one driver.

    Returns {operation: (wall time, REST call count, the REST calls, the
    z/VM calls)}.
    """
    driver = spec.build(env)
    try:
        image = env.new_image()
        first = env.instance(image)
        second = env.instance(image)
        nw_info = environment.network_info(first.id)
        steps = [
            ('spawn_new_image', lambda: spawn(env, driver, first)),
            ('spawn_cached_image', lambda: spawn(env, driver, second)),
            ('reboot', lambda: driver.reboot(
                env.context, first, nw_info, 'SOFT')),
            ('power_off', lambda: driver.power_off(
                first, CONF.shutdown_timeout,
                CONF.compute.shutdown_retry_interval)),
            ('power_on', lambda: driver.power_on(
                env.context, first, nw_info)),
            ('destroy', lambda: destroy(env, driver, first)),
        ]
        result = {}
        for name, step in steps:
            with labs.Meter(lab) as meter:
                step()
            result[name] = (meter.wall, len(meter.calls), meter.patterns(),
                            meter.zvm_calls)
            if name == 'power_off':
                state = driver.get_info(first, use_cache=False).state
                assert state == power_state.SHUTDOWN, state
        destroy(env, driver, second)
        return result
    finally:
        drivers.stop(driver)


def run(env, specs, labs_by_driver, reps):
    """Samples per operation: {op: {'wall': {drv: [...]}, 'calls': ...}}."""
    samples = {op: {'wall': {}, 'calls': {}, 'rest': {}, 'zvm': {}}
               for op in OPERATIONS}
    for rep in range(reps):
        order = specs if rep % 2 == 0 else specs[::-1]
        for spec in order:
            once = run_once(env, spec, labs_by_driver[spec.name])
            for op, (wall, calls, rest, zvm) in once.items():
                samples[op]['wall'].setdefault(spec.name, []).append(wall)
                samples[op]['calls'].setdefault(spec.name, []).append(calls)
                # What the calls were (the last repetition's), to read
                # where a figure comes from.
                samples[op]['rest'][spec.name] = rest
                # The z/VM calls the lab made (the floor is computed
                # from them).
                samples[op]['zvm'][spec.name] = zvm
    for spec in specs:
        labs.LabAdmin(labs_by_driver[spec.name]).delete_all_guests()
    return samples
