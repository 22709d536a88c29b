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

"""NIC planning (pure) and NICs on the lab."""

from nova import exception as nova_exception
from oslo_config import fixture as config_fixture
import testtools

from nova_zvm import conf
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import network
from nova_zvm.virt import spawn

vif = spawn_base.SpawnTestCase.vif


class TestPlan(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(conf.CONF))
        self.conf.config(group='zvm', vswitch_mappings={
            'physnet1': 'vsw1', ' physnet2 ': ' VSW2 '})

    def test_mappings_are_trimmed_and_upper_cased(self):
        self.assertEqual({'physnet1': 'VSW1', 'physnet2': 'VSW2'},
                         network.vswitch_mappings())

    def test_one_plan_per_vif_three_devices_apart(self):
        vifs = [vif(0), vif(1, physnet='physnet2', vlan=100), vif(2)]
        plans = network.plan_nics(vifs)
        self.assertEqual(['1000', '1003', '1006'], [p.vdev for p in plans])
        self.assertEqual(['VSW1', 'VSW2', 'VSW1'],
                         [p.vswitch for p in plans])
        self.assertEqual([None, 100, None], [p.vlan for p in plans])
        self.assertEqual([v['address'] for v in vifs],
                         [p.mac for p in plans])

    def test_physnet_from_vif_details(self):
        v = vif(0, physnet=None)
        v['details']['physical_network'] = 'physnet2'
        self.assertEqual('VSW2', network.plan_nics([v])[0].vswitch)

    def test_no_vlan_from_network_meta(self):
        # nova's network model never carries one there: only the binding.
        v = vif(0)
        v['network']['meta']['vlan'] = 33
        self.assertIsNone(network.plan_nics([v])[0].vlan)

    def test_unmapped_physnet_names_the_option(self):
        err = self.assertRaises(nova_exception.InvalidInput,
                                network.plan_nics, [vif(0, physnet='x')])
        self.assertIn("'x'", str(err))
        self.assertIn('[zvm] vswitch_mappings', str(err))

    def test_ipv4_settings_with_dns_ipv6_left_to_the_config_drive(self):
        plans = network.plan_nics([vif(3, ipv6=True)])
        nets = network.guest_networks(plans, hostname='vm3')
        self.assertEqual([{'nic_vdev': '1000', 'nic_id': plans[0].vif_id,
                           'mac_addr': plans[0].mac,
                           'ip_addr': '10.3.0.5', 'cidr': '10.3.0.0/24',
                           'gateway_addr': '10.3.0.1',
                           'dns_addr': ['10.3.0.2'], 'hostname': 'vm3'}],
                         nets)

    def test_grants_one_per_vswitch(self):
        plans = network.plan_nics([vif(0), vif(1), vif(2, 'physnet2', 5)])
        self.assertEqual({'VSW1': (), 'VSW2': (5,)},
                         network.grants_needed(plans))

    def test_events_only_for_inactive_ports(self):
        self.conf.config(vif_plugging_timeout=300)
        a, b = vif(0, active=False), vif(1, active=True)
        self.assertEqual([('network-vif-plugged', a['id'])],
                         network.plugged_events([a, b]))
        self.conf.config(vif_plugging_timeout=0)
        self.assertEqual([], network.plugged_events([a, b]))


class TestNicsOnTheLab(spawn_base.SpawnTestCase):

    def test_dual_stack_port(self):
        inst = self.instance()
        vifs = [self.vif(0, ipv6=True)]
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.glance.add(), [], None, {}, vifs,
                    image_manager=image.ImageManager(
                        self.client, image_api=self.glance))
        self.addCleanup(spawn.destroy, self.client, self.context, inst,
                        vifs)
        user = self.user(inst.name)
        self.assertEqual(['1000'], [v.upper() for v in user['nics']])
        self.assertEqual('VSW1', user['nics']['1000']['vswitch'])
        drive = [e for e in user['reader'] if _is_iso(e['path'])]
        with open(drive[0]['path'], 'rb') as f:
            # IPv6 reaches the guest through the network metadata
            self.assertIn(b'fd00:0::5', f.read())

    def test_connector_knows_the_couples(self):
        inst = self.instance()
        vifs = [self.vif(0), self.vif(1, physnet='physnet2')]
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.glance.add(), [], None, {}, vifs, power_on=False,
                    image_manager=image.ImageManager(
                        self.client, image_api=self.glance))
        self.addCleanup(spawn.destroy, self.client, self.context, inst,
                        vifs)
        self.assertEqual({'VSW1', 'VSW2'}, network.vswitches_on_connector(
            self.client, inst.name.upper()))


def _is_iso(path):
    with open(path, 'rb') as f:
        return b'CD001' in f.read(40000)
