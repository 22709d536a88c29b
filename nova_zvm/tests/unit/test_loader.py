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

"""Nova's own loader finds ``compute_driver = nova_zvm.ZVMDriver``."""

import importlib
import os

from nova.virt import driver as nova_driver
from nova.virt import virtapi
from oslo_config import fixture as config_fixture
import testtools

from nova_zvm import conf
import nova_zvm.virt.driver


class LoaderTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(conf.CONF))

    def test_load_compute_driver_by_name(self):
        drv = nova_driver.load_compute_driver(virtapi.VirtAPI(),
                                              'nova_zvm.ZVMDriver')
        self.assertIs(nova_zvm.virt.driver.ZVMDriver, type(drv))
        self.assertIsInstance(drv, nova_driver.ComputeDriver)

    def test_load_compute_driver_from_the_option(self):
        self.cfg.config(compute_driver='nova_zvm.ZVMDriver')
        drv = nova_driver.load_compute_driver(virtapi.VirtAPI())
        self.assertIs(nova_zvm.virt.driver.ZVMDriver, type(drv))

    def test_loading_does_not_touch_the_connector(self):
        # The driver connects in init_host, never when nova constructs it.
        self.cfg.config(group='zvm', cloud_connector_url=None)
        drv = nova_driver.load_compute_driver(virtapi.VirtAPI(),
                                              'nova_zvm.ZVMDriver')
        self.assertIsNone(drv._client)

    def test_shim_is_ours_and_nova_keeps_its_zvm_driver(self):
        shim = importlib.import_module('nova.virt.nova_zvm')
        self.assertIs(nova_zvm.virt.driver.ZVMDriver, shim.ZVMDriver)
        in_tree = importlib.import_module('nova.virt.zvm.driver')
        self.assertIsNot(in_tree.ZVMDriver, shim.ZVMDriver)
        self.assertNotEqual(os.path.dirname(shim.__file__),
                            os.path.dirname(in_tree.__file__))
