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

"""Figure 3: a burst of concurrent spawns of a few images none is cached.

All spawns start together (a barrier), each in its own thread, as
nova-compute runs builds with ``max_concurrent_builds`` set to the burst
size. Wall time runs until the last spawn returns. Image imports are the
``POST /images`` requests the Cloud Connector received.
"""

import collections
import concurrent.futures
import threading

from nova_zvm.bench import drivers
from nova_zvm.bench import labs
from nova_zvm.bench import operations


def run_once(env, spec, lab, spawns, images):
    driver = spec.build(env)
    try:
        new_images = [env.new_image(seed=i) for i in range(images)]
        instances = [env.instance(new_images[i % images])
                     for i in range(spawns)]
        barrier = threading.Barrier(spawns)

        def one(instance):
            barrier.wait()
            operations.spawn(env, driver, instance)

        with concurrent.futures.ThreadPoolExecutor(spawns) as pool:
            with labs.Meter(lab) as meter:
                futures = [pool.submit(one, i) for i in instances]
                concurrent.futures.wait(futures)
        errors = [repr(f.exception()) for f in futures
                  if f.exception() is not None]
        return {'wall': meter.wall, 'calls': len(meter.calls),
                'imports': meter.count('POST /images'),
                'failed': len(errors), 'errors': errors[:3],
                'rest': dict(collections.Counter(meter.patterns()))}
    finally:
        drivers.stop(driver)
        labs.LabAdmin(lab).delete_all_guests()


def run(env, specs, labs_by_driver, reps, spawns, images):
    samples = {}
    for rep in range(reps):
        order = specs if rep % 2 == 0 else specs[::-1]
        for spec in order:
            once = run_once(env, spec, labs_by_driver[spec.name], spawns,
                            images)
            for key, value in once.items():
                samples.setdefault(key, {}).setdefault(
                    spec.name, []).append(value)
    return samples
