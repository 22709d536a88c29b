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

"""VLANs from the port binding, several VLAN networks per vswitch.

The VIFs here are built the way nova builds them
(nova.network.neutron._build_vif_model) from ports the zvm ML2 mechanism
driver bound: VIF type ``zvm``, ``details`` = the port's
``binding:vif_details`` (physical network, VLAN id as a string), network
meta with the physical network and no segmentation id.
"""

import logging

import fixtures
from nova import exception as nova_exception
from nova.network import model as network_model
from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils
import testtools

from nova_zvm import conf
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import network
from nova_zvm.virt import spawn


def zvm_vif(index, physnet='physnet1', vlan=None, active=True):
    """A VIF of a port bound by the zvm mechanism driver."""
    details = {'port_filter': False, 'connectivity': 'l2',
               'physical_network': physnet}
    if vlan is not None:
        details['vlan'] = str(vlan)
    return network_model.VIF(
        id=uuidutils.generate_uuid(),
        address='02:00:00:00:01:%02x' % index,
        network=network_model.Network(
            id=uuidutils.generate_uuid(), label='net%d' % index,
            subnets=[network_model.Subnet(
                cidr='10.%d.0.0/24' % index, version=4,
                ips=[network_model.FixedIP(address='10.%d.0.5' % index)],
                gateway=network_model.IP(address='10.%d.0.1' % index))],
            physical_network=physnet, tunneled=False),
        type=network.VIF_TYPE_ZVM, details=details, active=active,
        vnic_type=network_model.VNIC_TYPE_NORMAL)


class TestVlanFromBinding(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(config_fixture.Config(conf.CONF)).config(
            group='zvm', vswitch_mappings={'physnet1': 'VSW1',
                                           'physnet2': 'VSW2'})

    def test_vlan_and_physnet_from_the_binding(self):
        plans = network.plan_nics([zvm_vif(0, vlan=100),
                                   zvm_vif(1, physnet='physnet2')])
        self.assertEqual([('VSW1', 100), ('VSW2', None)],
                         [(p.vswitch, p.vlan) for p in plans])

    def test_bound_segment_wins_over_the_network(self):
        # A multi-segment network: the binding names this host's segment.
        v = zvm_vif(0, physnet='physnet2', vlan=7)
        v['network']['meta']['physical_network'] = 'physnet1'
        self.assertEqual('VSW2', network.plan_nics([v])[0].vswitch)

    def test_two_vlan_networks_on_one_vswitch(self):
        plans = network.plan_nics([zvm_vif(0, vlan=20), zvm_vif(1, vlan=10),
                                   zvm_vif(2, physnet='physnet2')])
        self.assertEqual([20, 10, None], [p.vlan for p in plans])
        self.assertEqual({'VSW1': (10, 20), 'VSW2': ()},
                         network.grants_needed(plans))

    def test_bad_vlan_in_binding_names_the_port(self):
        v = zvm_vif(0)
        v['details']['vlan'] = '5000'
        err = self.assertRaises(nova_exception.InvalidInput,
                                network.plan_nics, [v])
        self.assertIn(v['id'], str(err))
        self.assertIn('5000', str(err))

    def test_port_bound_by_another_driver_is_named_in_a_warning(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='nova_zvm.virt.network', level=logging.WARNING))
        foreign = zvm_vif(0)
        foreign['type'] = 'ovs'
        foreign['details'] = {}
        plans = network.plan_nics([foreign, zvm_vif(1, vlan=5)])
        self.assertEqual([None, 5], [p.vlan for p in plans])
        self.assertIn(foreign['id'], log.output)
        self.assertEqual(1, log.output.count('not zvm'))

    def test_no_wait_for_ports_neutron_reports_active(self):
        self.useFixture(config_fixture.Config(conf.CONF)).config(
            vif_plugging_timeout=300)
        up, down = zvm_vif(0, active=True), zvm_vif(1, active=False)
        self.assertEqual([('network-vif-plugged', down['id'])],
                         network.plugged_events([up, down]))


class TestVlansOnTheLab(spawn_base.SpawnTestCase):

    def spawn(self, vifs):
        inst = self.instance()
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.glance.add(), [], None, {}, vifs, power_on=False,
                    image_manager=image.ImageManager(
                        self.client, image_api=self.glance))
        self.addCleanup(spawn.destroy, self.client, self.context, inst,
                        vifs)
        return inst

    def test_each_nic_on_its_networks_vlan(self):
        vifs = [zvm_vif(0, vlan=100), zvm_vif(1, vlan=200),
                zvm_vif(2, physnet='physnet2')]
        inst = self.spawn(vifs)
        nics = self.user(inst.name)['nics']
        self.assertEqual(
            {'1000': ('VSW1', 100), '1003': ('VSW1', 200),
             '1006': ('VSW2', None)},
            {vdev.upper(): (nic['vswitch'], nic['vlan'])
             for vdev, nic in nics.items()})
        grants = self.grants(inst.name)
        self.assertEqual({'VSW1', 'VSW2'}, set(grants))
        # The fake z/VM keeps one VLAN per grant: the last one set.
        self.assertIn(grants['VSW1'], (100, 200))
        self.assertIsNone(grants['VSW2'])

    def test_destroy_revokes_every_grant(self):
        vifs = [zvm_vif(0, vlan=100), zvm_vif(1, physnet='physnet2')]
        inst = self.spawn(vifs)
        spawn.destroy(self.client, self.context, inst, vifs)
        self.assertEqual({}, self.grants(inst.name))
        self.assertIsNone(self.user(inst.name))
