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

"""The resize module on the lab: checks, entry limits, the new shape."""

from nova import exception as nova_exception
from nova import objects

from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.virt import resize


def flavor(name='f', vcpus=1, memory_mb=512, root_gb=1, ephemeral_gb=0):
    return objects.Flavor(name=name, vcpus=vcpus, memory_mb=memory_mb,
                          root_gb=root_gb, ephemeral_gb=ephemeral_gb)


class ResizeTestCase(driver_base.DriverTestCase):

    def guest_with_limits(self, max_cpu=4, max_mem='4G'):
        inst = self.instance()
        inst.flavor = flavor()
        self.client.guest_create(self.userid(inst), 1, 512, disk_list=[],
                                 max_cpu=max_cpu, max_mem=max_mem)
        return inst

    def test_root_or_ephemeral_disk_change_is_refused(self):
        inst = self.instance()
        inst.flavor = flavor(root_gb=10, ephemeral_gb=0)
        for new in (flavor('bigroot', root_gb=20),
                    flavor('smallroot', root_gb=5),
                    flavor('eph', root_gb=10, ephemeral_gb=1)):
            err = self.assertRaises(nova_exception.ResizeError,
                                    resize.check_disks, inst, new)
            self.assertIn('minidisks cannot be resized', str(err))
            self.assertIn(new.name, str(err))
        resize.check_disks(inst, flavor('same', vcpus=4, root_gb=10))

    def test_entry_limits_come_from_the_directory(self):
        inst = self.guest_with_limits(max_cpu=4, max_mem='4G')
        self.assertEqual((4, 4096),
                         resize.entry_limits(self.client,
                                             self.userid(inst)))

    def test_shape_above_the_entry_limits_is_refused(self):
        inst = self.guest_with_limits(max_cpu=2, max_mem='1G')
        err = self.assertRaises(nova_exception.ResizeError,
                                resize.check, self.client, inst,
                                flavor('many', vcpus=3))
        self.assertIn('at most 2', str(err))
        err = self.assertRaises(nova_exception.ResizeError,
                                resize.check, self.client, inst,
                                flavor('big', memory_mb=2048))
        self.assertIn('at most 1024 MB', str(err))
        resize.check(self.client, inst, flavor('fits', 2, 1024))

    def test_apply_shape_up_and_down(self):
        inst = self.guest_with_limits()
        userid = self.userid(inst)
        resize.apply_shape(self.client, inst, flavor('up', 3, 2048))
        user = self.lab.zvm.state()['users'][userid]
        self.assertEqual((3, 2048), (user['vcpus'], user['memory_mb']))
        resize.apply_shape(self.client, inst, flavor('down', 1, 512))
        user = self.lab.zvm.state()['users'][userid]
        self.assertEqual((1, 512), (user['vcpus'], user['memory_mb']))
        self.assertEqual((4, 4096), (user['max_vcpus'],
                                     user['max_memory_mb']))

    def test_memory_size_is_exact(self):
        self.assertEqual('512M', resize.memory_size(flavor(memory_mb=512)))
        self.assertEqual('9999M', resize.memory_size(flavor(memory_mb=9999)))
        self.assertEqual('16G', resize.memory_size(flavor(memory_mb=16384)))
        self.assertRaises(nova_exception.ResizeError, resize.memory_size,
                          flavor(memory_mb=10000))
