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

"""Servers on a real neutron-server with the zvm mechanism driver.

Everything but z/VM is real here: neutron-server (PyPI neutron, sqlite,
noauth, ML2 with the flat and VLAN type drivers and only the ``zvm``
mechanism driver, no agents) in its own process, nova's services in this
one talking to it over HTTP instead of nova's fake neutron, and the lab
behind the driver. The test reads the outcome from neutron (binding,
status), nova (server state) and the fake z/VM (NICs, VLANs, grants).
"""

from nova.network import neutron as nova_neutron

from nova_zvm.tests.functional import base
from nova_zvm.tests import neutron_server

# Taken before nova's NeutronFixture replaces it in each test.
REAL_GET_CLIENT = nova_neutron.get_client

VLAN_PHYSNET, VLAN_VSWITCH = 'physnet1', 'VSW1'
FLAT_PHYSNET, FLAT_VSWITCH = 'physnet2', 'VSW2'
VLAN_RANGE = '%s:100:199' % VLAN_PHYSNET
# A physical network neutron has VLANs on but no z/VM host reaches.
UNMAPPED_PHYSNET = 'physnet3'


class RealNeutronTest(base.ZVMTestCase):

    LAB_OPTIONS = {'vswitches': [FLAT_VSWITCH]}

    neutron_server = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server = neutron_server.NeutronServerFixture(
            hosts=[base.COMPUTE_HOST], flat_networks=[FLAT_PHYSNET],
            vlan_ranges=[VLAN_RANGE, '%s:300:399' % UNMAPPED_PHYSNET],
            zvm_physical_networks=[VLAN_PHYSNET, FLAT_PHYSNET])
        try:
            server.setUp()
        except Exception:
            cls.tearDownClass()
            raise
        cls.neutron_server = server

    @classmethod
    def tearDownClass(cls):
        if cls.neutron_server is not None:
            cls.neutron_server.cleanUp()
            cls.neutron_server = None
        super().tearDownClass()

    def _configure_driver(self):
        super()._configure_driver()
        self.flags(vswitch_mappings={VLAN_PHYSNET: VLAN_VSWITCH,
                                     FLAT_PHYSNET: FLAT_VSWITCH},
                   group='zvm')
        # Nova talks to the real neutron-server, not to its fake.
        self.stub_out('nova.network.neutron.get_client', REAL_GET_CLIENT)
        self.flags(auth_type='none',
                   endpoint_override=self.neutron_server.url, timeout=30,
                   group='neutron')
        # Nothing sends network-vif-plugged here: a boot that waited for
        # one would fail after a second instead of passing slowly.
        self.flags(vif_plugging_timeout=1, vif_plugging_is_fatal=True)

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(
            name='zvm.tiny', vcpu=1, memory_mb=512, disk=1)

    def network(self, network_type, physnet, vlan=None, cidr=None):
        attrs = {'name': '%s-%s' % (network_type, vlan or physnet),
                 'provider:network_type': network_type,
                 'provider:physical_network': physnet}
        if vlan is not None:
            attrs['provider:segmentation_id'] = vlan
        net = self.neutron_server.create('network', **attrs)
        self.neutron_server.create('subnet', network_id=net['id'],
                                   ip_version=4, cidr=cidr)
        return net

    def port(self, network):
        return self.neutron_server.create(
            'port', network_id=network['id'],
            project_id=self.api.project_id)

    def test_vlan_and_flat_ports(self):
        vlan_a = self.network('vlan', VLAN_PHYSNET, 123, '10.123.0.0/24')
        vlan_b = self.network('vlan', VLAN_PHYSNET, 124, '10.124.0.0/24')
        flat = self.network('flat', FLAT_PHYSNET, cidr='10.200.0.0/24')
        ports = [self.port(net) for net in (vlan_a, vlan_b, flat)]

        server = self.api.post_server({'server': self._build_server(
            name='on-neutron', image_uuid=base.IMAGE_ID,
            flavor_id=self.flavor_id,
            networks=[{'port': p['id']} for p in ports])})
        # ACTIVE although nothing sent network-vif-plugged: the ports were
        # bound ACTIVE, so nova waited for nothing.
        server = self.wait_for_status(server, 'ACTIVE')
        userid = base.userid_of(server)

        for port in ports:
            bound = self.neutron_server.show('port', port['id'])
            self.assertEqual(
                ('ACTIVE', 'zvm', base.COMPUTE_HOST, server['id']),
                (bound['status'], bound['binding:vif_type'],
                 bound['binding:host_id'], bound['device_id']))

        # Each NIC on its network's vswitch and VLAN, in port order.
        state = self.lab.zvm.state()
        nics = state['users'][userid]['nics']
        self.assertEqual(
            [(VLAN_VSWITCH, 123), (VLAN_VSWITCH, 124), (FLAT_VSWITCH, None)],
            [(nic['vswitch'], nic['vlan'])
             for vdev, nic in sorted(nics.items())])
        # Granted on both vswitches; on the VLAN one with a VLAN of its
        # networks (the fake z/VM keeps one VLAN per grant), on the flat
        # one without.
        vlan_grant = state['vswitches'][VLAN_VSWITCH]['grants'][userid]
        self.assertIn(vlan_grant['vlan'], (123, 124))
        self.assertEqual(
            {'vlan': None},
            state['vswitches'][FLAT_VSWITCH]['grants'][userid])

        self.delete_server(server)

        # Nova unbinds the ports it was given; z/VM keeps no grant.
        for port in ports:
            unbound = self.neutron_server.show('port', port['id'])
            self.assertEqual(('', 'unbound', '', 'DOWN'), (
                unbound['binding:host_id'], unbound['binding:vif_type'],
                unbound['device_id'], unbound['status']))
        state = self.lab.zvm.state()
        self.assertNotIn(userid, state['users'])
        for vswitch in (VLAN_VSWITCH, FLAT_VSWITCH):
            self.assertNotIn(userid, state['vswitches'][vswitch]['grants'])

    def test_port_neutron_cannot_bind_fails_the_boot_cleanly(self):
        # A VLAN network on a physical network no z/VM host reaches: the
        # zvm mechanism driver does not bind its port, nova's build fails
        # with PortBindingFailed before the driver creates anything.
        net = self.network('vlan', UNMAPPED_PHYSNET, 310, '10.210.0.0/24')
        port = self.port(net)
        users_before = set(self.lab.zvm.state()['users'])
        server = self.api.post_server({'server': self._build_server(
            name='unbindable', image_uuid=base.IMAGE_ID,
            flavor_id=self.flavor_id, networks=[{'port': port['id']}])})
        server = self.wait_for_status(server, 'ERROR')
        self.assertIn('binding', server['fault']['message'].lower())
        self.assertEqual(users_before, set(self.lab.zvm.state()['users']))
        self.delete_server(server)
