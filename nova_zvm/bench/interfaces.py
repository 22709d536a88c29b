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

"""Interface attach and detach, called the way nova's compute manager does.

nova-zvm only: nova's in-tree z/VM driver does not support them. Each
repetition spawns a stopped guest with one NIC, attaches a second port
(a VLAN port on the same physical network), detaches it and destroys the
guest; attach and detach are measured.
"""

from nova.network import model as network_model
from oslo_utils import uuidutils

from nova_zvm.bench import drivers
from nova_zvm.bench import environment
from nova_zvm.bench import labs

OPERATIONS = ('attach_interface', 'detach_interface')


def second_vif(instance_id, vlan=100):
    """A VLAN port on the bench's physical network, behind z/VM's prefix."""
    [first] = environment.network_info(instance_id)
    return network_model.VIF(
        id=uuidutils.generate_uuid(),
        address='02:00:00:%02x:%02x:%02x' % (
            0x80 | (instance_id >> 16) & 0x7f, (instance_id >> 8) & 0xff,
            instance_id & 0xff),
        network=first['network'], type=network_model.VIF_TYPE_OVS,
        active=True, details={'vlan': str(vlan)},
        vnic_type=network_model.VNIC_TYPE_NORMAL)


def run_once(env, spec, lab):
    """{operation: (wall time, REST call count, the REST calls)}."""
    driver = spec.build(env)
    try:
        image = env.new_image()
        instance = env.instance(image)
        image_meta = env.image_meta(image)
        # What nova keeps of the image and the driver reads on detach.
        instance.system_metadata = {
            'image_os_distro': image['properties']['os_distro']}
        driver.spawn(env.context, instance, image_meta, injected_files=[],
                     admin_password='bench-password', allocations={},
                     network_info=environment.network_info(instance.id),
                     block_device_info=None, power_on=False)
        vif = second_vif(instance.id)
        result = {}
        with labs.Meter(lab) as meter:
            driver.attach_interface(env.context, instance, image_meta, vif)
        result['attach_interface'] = (meter.wall, len(meter.calls),
                                      meter.patterns())
        with labs.Meter(lab) as meter:
            driver.detach_interface(env.context, instance, vif)
        result['detach_interface'] = (meter.wall, len(meter.calls),
                                      meter.patterns())
        driver.destroy(env.context, instance,
                       environment.network_info(instance.id))
        return result
    finally:
        drivers.stop(driver)


def run(env, specs, labs_by_driver, reps):
    """Samples per operation, nova-zvm only (as operations.run)."""
    samples = {op: {'wall': {}, 'calls': {}, 'rest': {}}
               for op in OPERATIONS}
    for spec in specs:
        if spec.name != drivers.OURS:
            continue
        for _rep in range(reps):
            once = run_once(env, spec, labs_by_driver[spec.name])
            for op, (wall, calls, rest) in once.items():
                samples[op]['wall'].setdefault(spec.name, []).append(wall)
                samples[op]['calls'].setdefault(spec.name, []).append(calls)
                samples[op]['rest'][spec.name] = rest
    return samples
