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

All spawns are submitted together; at most nova's ``max_concurrent_builds``
(default 10) run at once, as nova-compute's build semaphore allows. Wall
time runs until the last spawn returns. Image imports are the ``POST
/images`` requests the Cloud Connector received; DirMaint requests the
``*_DM`` SMAPI functions the fake z/VM served.

The burst runs in a DirMaint profile: ``serial`` (one directory request at
a time, DirMaint's single request queue) or ``overlap`` (directory work of
different guests overlaps). Its floor (``floor.py``) comes from a spawn
of a new image and one of a cached image, each run alone first
(``lone_spawns``), whose calls the lab recorded.
"""

import collections
import concurrent.futures

from nova_zvm.bench import drivers
from nova_zvm.bench import environment
from nova_zvm.bench import floor
from nova_zvm.bench import labs
from nova_zvm.bench import operations

PROFILES = {'serial': True, 'overlap': False}


def slots():
    """Spawns nova-compute runs at once: nova's max_concurrent_builds."""
    return environment.CONF.max_concurrent_builds


def lone_spawns(env, spec, lab):
    """The z/VM calls of a spawn of a new image and of a cached one.

    Each runs alone (nothing else on the lab), so its log is its chain.
    Returns {'new_image': [...], 'cached_image': [...]}.
    """
    driver = spec.build(env)
    try:
        image = env.new_image()
        out = {}
        for name in ('new_image', 'cached_image'):
            with labs.Meter(lab) as meter:
                operations.spawn(env, driver, env.instance(image))
            out[name] = meter.zvm_calls
        return out
    finally:
        drivers.stop(driver)
        labs.LabAdmin(lab).delete_all_guests()


def run_once(env, spec, lab, spawns, images):
    driver = spec.build(env)
    try:
        new_images = [env.new_image(seed=i) for i in range(images)]
        instances = [env.instance(new_images[i % images])
                     for i in range(spawns)]
        with concurrent.futures.ThreadPoolExecutor(slots() or spawns) as pool:
            with labs.Meter(lab) as meter:
                futures = [pool.submit(operations.spawn, env, driver, i)
                           for i in instances]
                concurrent.futures.wait(futures)
        errors = [repr(f.exception()) for f in futures
                  if f.exception() is not None]
        dirmaint = sum(1 for c in meter.zvm_calls if floor.is_dirmaint(c))
        return {'wall': meter.wall, 'calls': len(meter.calls),
                'imports': meter.count('POST /images'),
                'dirmaint': dirmaint,
                'failed': len(errors), 'errors': errors[:3],
                'rest': dict(collections.Counter(meter.patterns()))}
    finally:
        drivers.stop(driver)
        labs.LabAdmin(lab).delete_all_guests()


def run(env, specs, labs_by_driver, reps, spawns, images, profile='serial',
        lone=None):
    """Samples per figure and driver, in DirMaint ``profile``.

    ``lone``: {driver: lone_spawns()}, filled here when a driver has none
    (share it between profiles: a spawn alone waits for no queue).
    """
    lone = {} if lone is None else lone
    before = {}
    try:
        for spec in specs:
            lab = labs_by_driver[spec.name]
            before[spec.name] = lab.zvm.state()['settings'][
                'dirmaint_serial']
            lab.zvm.set_settings(dirmaint_serial=PROFILES[profile])
            if spec.name not in lone:
                lone[spec.name] = lone_spawns(env, spec, lab)
        samples = {'lone': {s.name: lone[s.name] for s in specs},
                   'profile': profile, 'slots': slots()}
        for rep in range(reps):
            order = specs if rep % 2 == 0 else specs[::-1]
            for spec in order:
                once = run_once(env, spec, labs_by_driver[spec.name],
                                spawns, images)
                for key, value in once.items():
                    samples.setdefault(key, {}).setdefault(
                        spec.name, []).append(value)
        return samples
    finally:
        # The other figures run in the profile the lab started with.
        for name, serial in before.items():
            labs_by_driver[name].zvm.set_settings(dirmaint_serial=serial)
