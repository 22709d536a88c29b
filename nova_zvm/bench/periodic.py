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

"""Figure 5: one periodic resource update, as nova's resource tracker runs it.

``ComputeManager.update_available_resource`` asks for the nodes, then the
resource tracker calls ``get_available_resource(nodename)`` and, to report
to placement, ``update_provider_tree(provider_tree, nodename)``. Each
repetition measures the first cycle of a freshly started driver (after
``init_host``), the cycle that has least to reuse.
"""

from oslo_utils import uuidutils

from nova.compute import provider_tree

from nova_zvm.bench import drivers
from nova_zvm.bench import floor
from nova_zvm.bench import labs

HOST_INFO = 'GET /host'


def cycle(driver):
    for nodename in driver.get_available_nodes():
        driver.get_available_resource(nodename)
        tree = provider_tree.ProviderTree()
        tree.new_root(nodename, uuidutils.generate_uuid())
        driver.update_provider_tree(tree, nodename)


def run(env, specs, labs_by_driver, reps):
    samples = {'wall': {}, 'calls': {}, 'host_info': {}, 'rest': {},
               'dirmaint': {}}
    for rep in range(reps):
        order = specs if rep % 2 == 0 else specs[::-1]
        for spec in order:
            lab = labs_by_driver[spec.name]
            # A fresh start: the cycle measured is the first one.
            driver = spec.build(env, resources=False)
            try:
                with labs.Meter(lab) as meter:
                    cycle(driver)
            finally:
                drivers.stop(driver)
            samples['wall'].setdefault(spec.name, []).append(meter.wall)
            samples['calls'].setdefault(spec.name, []).append(
                len(meter.calls))
            samples['rest'][spec.name] = meter.patterns()
            samples['host_info'].setdefault(spec.name, []).append(
                sum(1 for c in meter.calls if c == HOST_INFO))
            # Directory queries queue with the spawns' directory changes.
            samples['dirmaint'].setdefault(spec.name, []).append(
                sum(1 for c in meter.zvm_calls if floor.is_dirmaint(c)))
    return samples
