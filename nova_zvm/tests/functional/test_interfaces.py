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

"""Interfaces attached and detached through nova's API (os-interface)."""

import collections

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures

VLAN = 42


class InterfacesTest(base.ZVMTestCase):

    def setUp(self):
        super().setUp()
        self._macs = iter(range(0x10, 0x100))

    def new_port(self, mac=None, vlan=VLAN):
        """A port on the physnet's network with a MAC z/VM can carry."""
        port = self.neutron.create_port(
            {'port': {'network_id': self.neutron.network_1['id']}})['port']
        stored = self.neutron._ports[port['id']]
        stored['mac_address'] = mac or '02:00:00:a1:b2:%02x' % next(
            self._macs)
        # What the zvm mechanism driver puts into a VLAN port's binding.
        stored['binding:vif_details'] = {
            'physical_network': zvm_fixtures.PHYSNET, 'vlan': str(vlan)}
        return stored

    def attach(self, server, port, status=200):
        return self.api.api_post(
            '/servers/%s/os-interface' % server['id'],
            {'interfaceAttachment': {'port_id': port['id']}},
            check_response_status=[status])

    def port_ids(self, server):
        return sorted(i['port_id'] for i in
                      self.api.get_port_interfaces(server['id']))

    def network_view(self, server):
        """The guest's NICs and its grants, from the fake z/VM."""
        state = self.lab.zvm.state()
        userid = base.userid_of(server)
        grants = {name: vsw['grants'][userid]['vlan']
                  for name, vsw in state['vswitches'].items()
                  if userid in vsw.get('grants', {})}
        return state['users'][userid]['nics'], grants

    def stopped_server(self):
        server = self.boot_server()
        self.addCleanup(self.delete_server, server)
        return self._stop_server(server)

    def test_attach_to_stopped_server_then_start_and_detach(self):
        server = self.stopped_server()
        port = self.new_port()

        self._attach_interface(server, port['id'])

        self.assertIn(port['id'], self.port_ids(server))
        nics, grants = self.network_view(server)
        nic = nics['1003']
        self.assertEqual(port['mac_address'].upper(),
                         nic['directory_mac'].upper())
        self.assertEqual((zvm_fixtures.VSWITCH, VLAN),
                         (nic['vswitch'], nic['vlan']))
        self.assertTrue(nic['coupled_directory'])
        self.assertEqual({zvm_fixtures.VSWITCH: VLAN}, grants)

        # Started, the guest has the NIC with the port's MAC, coupled, and
        # its OS configured it from the connector's network script.
        server = self._start_server(server)
        nic = self.network_view(server)[0]['1003']
        self.assertTrue(nic['active'])
        self.assertTrue(nic['coupled_active'])
        self.assertEqual(port['mac_address'].upper(), nic['mac'].upper())
        guest_net = self.lab.zvm.volumes(base.userid_of(server))['network']
        self.assertTrue(guest_net['enc1003']['up'])

        # Detach from the running server.
        self._detach_interface(server, port['id'])
        self.assertNotIn(port['id'], self.port_ids(server))
        nics, grants = self.network_view(server)
        self.assertEqual(['1000'], sorted(nics))
        # The boot NIC is still on the vswitch: the grant stays.
        self.assertIn(zvm_fixtures.VSWITCH, grants)
        self.assertEqual('ACTIVE', self.api.get_server(server['id'])[
            'status'])

    def test_attach_to_running_server_is_refused(self):
        server = self.boot_server()
        self.addCleanup(self.delete_server, server)
        before = self.network_view(server)
        ports_before = self.port_ids(server)

        self.attach(server, self.new_port(), status=500)

        self.assertEqual(before, self.network_view(server))
        self.assertEqual(ports_before, self.port_ids(server))
        self.assertEqual('ACTIVE', self.api.get_server(server['id'])[
            'status'])

    def test_port_with_a_foreign_mac_prefix_is_refused(self):
        server = self.stopped_server()
        before = self.network_view(server)
        self.lab.zvm.reset_calls()

        self.attach(server, self.new_port(mac='fa:16:3e:00:00:01'),
                    status=500)

        self.assertEqual(before, self.network_view(server))
        self.assertEqual([], [c for c in self.lab.zvm.calls()
                              if c.startswith('smapi:') and
                              '_Query' not in c])

    def test_failure_at_each_step_leaves_nothing(self):
        server = self.stopped_server()
        before = self.network_view(server)
        ports_before = self.port_ids(server)
        # The z/VM calls of a good attach, except read-only queries.
        self.lab.zvm.reset_calls()
        port = self.new_port()
        self._attach_interface(server, port['id'])
        calls = [c for c in self.lab.zvm.calls()
                 if c.startswith('smapi:') and '_Query' not in c]
        self._detach_interface(server, port['id'])
        self.assertEqual(before, self.network_view(server))
        self.assertTrue(any('Vswitch_Set' in c for c in calls), calls)

        seen = collections.Counter()
        for call in calls:
            seen[call] += 1
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(call, rc=8, rs=99, nth=seen[call])
            try:
                self.attach(server, self.new_port(), status=500)
            finally:
                self.lab.zvm.clear_faults()
            self.assertEqual(before, self.network_view(server), call)
            self.assertEqual(ports_before, self.port_ids(server), call)
