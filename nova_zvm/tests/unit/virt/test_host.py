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

"""Host resources and the provider tree, on the lab."""

from nova.compute import provider_tree
from nova import exception as nova_exception
from nova.objects import fields as obj_fields
import os_resource_classes as orc
from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from nova_zvm.tests.unit.virt import driver_base


def _host_info_calls(rest_calls):
    return [c for c in rest_calls if c == 'GET /host']


class HostTestCase(driver_base.DriverTestCase):

    lab_kwargs = {'disk_pools': ['ECKD:POOL1', 'FBA:POOL2']}

    def _tree(self, nodename):
        tree = provider_tree.ProviderTree()
        tree.new_root(nodename, uuidutils.generate_uuid())
        return tree

    def _pool(self, name=driver_base.DISK_POOL):
        return self.client.host_diskpool_get_info(disk_pool=name)

    def test_nodes_are_the_z_vm_system(self):
        host = self.lab.zvm.state()['host']
        self.assertEqual([host['system_name']],
                         self.driver.get_available_nodes())

    def test_available_resource_matches_the_fake_host(self):
        host = self.lab.zvm.state()['host']
        node = self.driver.get_available_nodes()[0]
        res = self.driver.get_available_resource(node)
        pool = self._pool()
        self.assertEqual(host['cpus_total'], res['vcpus'])
        self.assertEqual(host['memory_mb'], res['memory_mb'])
        self.assertEqual(pool['disk_total'], res['local_gb'])
        self.assertEqual(pool['disk_used'], res['local_gb_used'])
        self.assertEqual(pool['disk_available'], res['disk_available_least'])
        self.assertEqual('zvm', res['hypervisor_type'])
        self.assertEqual(730, res['hypervisor_version'])
        self.assertEqual(host['system_name'], res['hypervisor_hostname'])
        self.assertEqual('s390x',
                         jsonutils.loads(res['cpu_info'])['architecture'])
        self.assertEqual([(obj_fields.Architecture.S390X,
                           obj_fields.HVType.ZVM, obj_fields.VMMode.HVM)],
                         res['supported_instances'])

    def test_memory_used_follows_running_guests(self):
        node = self.driver.get_available_nodes()[0]
        before = self.driver.get_available_resource(node)['memory_mb_used']
        self.guest('on')
        driver = self.new_driver()      # no cached figures
        after = driver.get_available_resource(node)['memory_mb_used']
        self.assertEqual(before + 512, after)

    def test_provider_tree_inventory_and_trait(self):
        self.cfg.config(reserved_host_cpus=2, reserved_host_memory_mb=4096,
                        reserved_host_disk_mb=10 * 1024 + 1,
                        cpu_allocation_ratio=4.0,
                        initial_ram_allocation_ratio=1.5)
        self.cfg.config(group='zvm', max_guest_vcpus=16,
                        max_guest_memory_mb=65536)
        host = self.lab.zvm.state()['host']
        pool = self._pool()
        node = self.driver.get_available_nodes()[0]
        tree = self._tree(node)
        self.driver.update_provider_tree(tree, node)
        inv = tree.data(node).inventory
        self.assertEqual({orc.VCPU, orc.MEMORY_MB, orc.DISK_GB}, set(inv))
        self.assertEqual({'total': host['cpus_total'], 'reserved': 2,
                          'min_unit': 1, 'max_unit': 16, 'step_size': 1,
                          'allocation_ratio': 4.0}, inv[orc.VCPU])
        self.assertEqual({'total': host['memory_mb'], 'reserved': 4096,
                          'min_unit': 1, 'max_unit': 65536, 'step_size': 1,
                          'allocation_ratio': 1.5}, inv[orc.MEMORY_MB])
        # No instance disk is larger than one volume (a 3390-54 of 65,520
        # cylinders: 44 whole GiB), however large the pool.
        self.assertEqual({'total': pool['disk_total'], 'reserved': 11,
                          'min_unit': 1, 'max_unit': 44,
                          'step_size': 1, 'allocation_ratio': 1.0},
                         inv[orc.DISK_GB])
        self.assertIn('HW_ARCH_S390X', tree.data(node).traits)

    def test_existing_ratio_kept_unless_configured(self):
        node = self.driver.get_available_nodes()[0]
        tree = self._tree(node)
        tree.update_inventory(node, {orc.MEMORY_MB: {
            'total': 1, 'allocation_ratio': 3.0}})
        self.driver.update_provider_tree(tree, node)
        self.assertEqual(
            3.0, tree.data(node).inventory[orc.MEMORY_MB]['allocation_ratio'])

    def test_max_unit_never_above_the_host(self):
        self.cfg.config(group='zvm', max_guest_vcpus=1000)
        node = self.driver.get_available_nodes()[0]
        tree = self._tree(node)
        self.driver.update_provider_tree(tree, node)
        self.assertEqual(self.lab.zvm.state()['host']['cpus_total'],
                         tree.data(node).inventory[orc.VCPU]['max_unit'])

    def test_disk_pool_option_selects_the_pool(self):
        self.cfg.config(group='zvm', disk_pool='FBA:POOL2')
        driver = self.new_driver()
        node = driver.get_available_nodes()[0]
        res = driver.get_available_resource(node)
        self.assertEqual(self._pool('FBA:POOL2')['disk_total'],
                         res['local_gb'])

    def test_one_host_get_info_per_periodic_cycle(self):
        driver = self.new_driver()
        self.lab.zvm.reset_rest_calls()
        # What update_available_resource does in one cycle.
        node = driver.get_available_nodes()[0]
        driver.get_available_resource(node)
        driver.update_provider_tree(self._tree(node), node)
        driver.get_host_uptime()
        driver.get_available_nodes()
        calls = self.lab.zvm.rest_calls()
        self.assertEqual(1, len(_host_info_calls(calls)))
        self.assertEqual(1, calls.count('GET /host/diskpool'))
        # The pool's volumes once a cycle; each volume's size only once.
        self.assertEqual(1, len([c for c in calls if c.startswith(
            'GET /host/diskpool_volumes')]))
        driver._host_stats._taken_at -= 3600
        self.lab.zvm.reset_rest_calls()
        driver.get_available_resource(node)
        self.assertEqual([], [c for c in self.lab.zvm.rest_calls()
                              if c.startswith('GET /host/volume')])

    def test_next_cycle_asks_again(self):
        driver = self.new_driver()
        node = driver.get_available_nodes()[0]
        # The brief cache expires between periodic cycles.
        driver._host_stats._taken_at -= 3600
        self.lab.zvm.reset_rest_calls()
        driver.get_available_resource(node)
        self.assertEqual(1, len(_host_info_calls(self.lab.zvm.rest_calls())))

    def test_uptime_and_ip(self):
        self.assertEqual(self.lab.zvm.state()['host']['ipl_time'],
                         self.driver.get_host_uptime())
        self.assertEqual('192.0.2.10', self.driver.get_host_ip_addr())


class HostConnectorDownTestCase(driver_base.DriverTestCase):

    use_proxy = True

    def test_last_good_figures_kept_and_logged_once(self):
        node = self.driver.get_available_nodes()[0]
        good = self.driver.get_available_resource(node)
        self.proxy.down()
        for _ in range(3):
            self.driver._host_stats._taken_at -= 3600    # next cycle
            self.assertEqual([node], self.driver.get_available_nodes())
            self.assertEqual(good, self.driver.get_available_resource(node))
        self.assertEqual(1, self.log.output.count(
            'Cannot get host information'))
        self.proxy.up()
        self.driver._host_stats._taken_at -= 3600
        self.driver.get_available_resource(node)
        self.assertIn('answers again', self.log.output)

    def test_not_ready_until_the_connector_first_answers(self):
        self.proxy.down()
        driver = self.new_driver()          # starts while it is down
        self.assertRaises(nova_exception.VirtDriverNotReady,
                          driver.get_available_nodes)
        self.proxy.up()
        self.assertEqual([self.lab.zvm.state()['host']['system_name']],
                         driver.get_available_nodes())
