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

"""FCP volume attach and detach, as nova's compute manager calls them.

nova-zvm only (nova's in-tree driver has no volumes). An attach is what
nova-compute does for ``POST /servers/{id}/os-volume_attachments``:
``get_volume_connector`` (Cinder then maps the LUN to the connector's
WWPNs: done here on the lab's array, outside the measured REST calls),
then ``attach_volume``; a detach is ``detach_volume``. Each repetition
attaches a new LUN with two target ports to a running guest with two
paths, then detaches it. The minimum the connector's API allows: two
calls for an attach (reserve the FCPs, attach), two for a detach
(detach, end the reservation).
"""

from oslo_utils import uuidutils

from nova_zvm.bench import drivers
from nova_zvm.bench import environment
from nova_zvm.bench import labs

TEMPLATE = 'bench-volumes'
TARGETS = ('500507680b21ac41', '500507680b22ac41')
MINIMUM_CALLS = 2


def _lun(number):
    return '0x%04x000000000000' % number


def connection_info(number):
    return {'driver_volume_type': 'fibre_channel',
            'serial': uuidutils.generate_uuid(),
            'data': {'target_wwn': list(TARGETS), 'target_lun': number}}


def _prepare(admin, lab, userid):
    with admin.quiet():
        admin.call('guest_create', userid, 1, 1024, disk_list=[{
            'size': '1g', 'is_boot_disk': True,
            'disk_pool': environment.DISK_POOL}])
        admin.call('guest_start', userid)


def run(env, specs, labs_by_driver, reps):
    samples = {key: {} for key in ('attach_wall', 'attach_calls',
                                   'detach_wall', 'detach_calls')}
    rest = {}
    spec = next((s for s in specs if s.name == drivers.OURS), None)
    if spec is None:
        return dict(samples, rest=rest)
    lab = labs_by_driver[drivers.OURS]
    admin = labs.LabAdmin(lab)
    templates = admin.call('get_fcp_templates') or {}
    if not any(t.get('name') == TEMPLATE
               for t in templates.get('fcp_templates') or []):
        admin.call('create_fcp_template', TEMPLATE,
                   fcp_devices='1a00-1a07;1b00-1b07', host_default=True)
    driver = spec.build(env)
    try:
        # One more round first, unrecorded: the driver looks its FCP
        # template up once per process, on its first volume call.
        for rep in range(-1, reps):
            instance = env.instance({'id': uuidutils.generate_uuid()})
            instance.system_metadata = {
                'image_os_distro': environment.OS_DISTRO}
            userid = instance.name.upper()
            _prepare(admin, lab, userid)
            number = 0x41 + rep
            with admin.quiet():
                for target in TARGETS:
                    lab.zvm.create_lun(target, _lun(number))
            info = connection_info(number)

            with labs.Meter(lab) as meter:
                connector = driver.get_volume_connector(instance)
                for target in TARGETS:
                    # Cinder's part: not a call to the z/VM connector.
                    lab.zvm.map_lun(connector['wwpns'], target, _lun(number))
                driver.attach_volume(env.context, info, instance,
                                     '/dev/sdb')
            attach = meter
            with labs.Meter(lab) as meter:
                driver.detach_volume(env.context, info, instance, '/dev/sdb')
            if rep >= 0:
                for op, measured in (('attach', attach), ('detach', meter)):
                    samples[op + '_wall'].setdefault('ours', []).append(
                        measured.wall)
                    samples[op + '_calls'].setdefault('ours', []).append(
                        len(measured.calls))
                    rest[op] = {'ours': measured.patterns()}
            with admin.quiet():
                admin.call('guest_delete', userid)
    finally:
        drivers.stop(driver)
    return dict(samples, rest=rest)
