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

"""Figure 4: one power state sync over many guests, as nova runs it.

``ComputeManager._sync_power_states`` calls ``get_num_instances()`` once,
then ``get_info(instance)`` for every instance, each under a lock named
after the instance, on nova's ``sync_power_state`` thread pool
(``[DEFAULT] sync_power_state_pool_size`` threads). Each repetition builds
a new driver: a sync runs every ``sync_power_state_interval`` (600 s), so
it never finds what an earlier sync cached.
"""

import collections

from nova.compute import power_state
from nova import thread_pool_factory
from nova import utils

from nova_zvm.bench import drivers
from nova_zvm.bench import labs


def sync(driver, instances):
    """What nova's periodic task asks of the driver; the states found."""
    driver.get_num_instances()

    def query(instance):
        @utils.synchronized(instance.uuid)
        def locked():
            return driver.get_info(instance).state
        return locked()

    futures = [thread_pool_factory.spawn_on(
        thread_pool_factory.ExecutorType.SYNC_POWER, query, instance)
        for instance in instances]
    return [f.result() for f in futures]


def prepare(env, spec, lab, guests):
    """Define ``guests`` guests on the lab; every other one running."""
    image = env.new_image()
    instances = [env.instance(image) for _ in range(guests)]
    admin = labs.LabAdmin(lab)
    admin.delete_all_guests()
    admin.create_guests([i.name for i in instances],
                        running=[i.name for i in instances[::2]])
    expected = [power_state.RUNNING if n % 2 == 0 else power_state.SHUTDOWN
                for n in range(guests)]
    return instances, expected


def run(env, specs, labs_by_driver, reps, guests):
    samples = {'wall': {}, 'calls': {}, 'correct': {}, 'rest': {}}
    prepared = {}
    for spec in specs:
        spec.configure(env)
        prepared[spec.name] = prepare(env, spec, labs_by_driver[spec.name],
                                      guests)
    for rep in range(reps):
        order = specs if rep % 2 == 0 else specs[::-1]
        for spec in order:
            lab = labs_by_driver[spec.name]
            instances, expected = prepared[spec.name]
            driver = spec.build(env)
            try:
                with labs.Meter(lab) as meter:
                    states = sync(driver, instances)
            finally:
                drivers.stop(driver)
            samples['wall'].setdefault(spec.name, []).append(meter.wall)
            samples['calls'].setdefault(spec.name, []).append(
                len(meter.calls))
            samples['rest'][spec.name] = dict(
                collections.Counter(meter.patterns()))
            samples['correct'].setdefault(spec.name, []).append(
                sum(1 for s, e in zip(states, expected) if s == e))
    for spec in specs:
        labs.LabAdmin(labs_by_driver[spec.name]).delete_all_guests()
    return samples
