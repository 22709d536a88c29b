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

"""GET /servers/{id}/diagnostics (2.48) of servers on the fake z/VM."""

from nova_zvm.tests.functional import base


class ServerDiagnosticsTest(base.ZVMTestCase):

    microversion = '2.48'

    def _configure_driver(self):
        super()._configure_driver()
        # These tests count the connector calls of one request: no
        # lifecycle polling in between (test_events covers it).
        self.flags(lifecycle_poll_interval=0, group='zvm')

    def setUp(self):
        super().setUp()
        # Nova's 2.48 response schema allows only its in-tree drivers'
        # names in "driver" (not even hyperv); a z/VM server has none, so
        # the field is null. Nova's production default ("warn") logs that;
        # nova's test default ("error") would turn it into a 500.
        self.flags(response_validation='warn', group='api')
        self.flavor_id = self._create_flavor(
            name='zvm.diag', vcpu=2, memory_mb=1024, disk=2)

    def diagnostics(self, server, status=200):
        return self.api.api_get(
            '/servers/%s/diagnostics' % server['id'],
            check_response_status=[status]).body

    def test_running_server(self):
        server = self.boot_server(flavor_id=self.flavor_id)
        [address] = [a for addrs in server['addresses'].values()
                     for a in addrs]

        diags = self.diagnostics(server)

        self.assertEqual('running', diags['state'])
        self.assertIsNone(diags['driver'])
        self.assertEqual('zvm', diags['hypervisor'])
        self.assertTrue(diags['config_drive'])
        self.assertEqual(2, diags['num_cpus'])
        self.assertEqual(1024, diags['memory_details']['maximum'])
        self.assertLessEqual(diags['memory_details']['used'], 1024)
        [cpu] = diags['cpu_details']
        self.assertIsNone(cpu['id'])
        self.assertGreaterEqual(cpu['time'], 0)
        # z/VM has no disk I/O figures for a guest.
        self.assertEqual((0, []), (diags['num_disks'],
                                   diags['disk_details']))
        [nic] = diags['nic_details']
        self.assertEqual(1, diags['num_nics'])
        # The MAC of the NIC on z/VM: z/VM keeps the port MAC's last three
        # bytes (the NIC's MACID) behind its own system MAC prefix.
        [zvm_nic] = self.zvm_guest(server)['nics'].values()
        self.assertEqual(zvm_nic['mac'].lower(), nic['mac_address'])
        self.assertEqual(address['OS-EXT-IPS-MAC:mac_addr'][-8:],
                         nic['mac_address'][-8:])
        for field in ('rx_octets', 'rx_packets', 'rx_errors', 'rx_drop',
                      'tx_octets', 'tx_packets', 'tx_errors', 'tx_drop'):
            self.assertIsInstance(nic[field], int, field)
        self.assertIsNone(nic['rx_rate'])

        self.delete_server(server)

    def test_stopped_server(self):
        server = self.boot_server(flavor_id=self.flavor_id)
        server = self._stop_server(server)
        self.assertEqual('off', self.zvm_guest(server)['power'])

        # Nova asks the driver only for a running server: a stopped one is
        # a conflict, answered without a connector call.
        self.lab.zvm.reset_rest_calls()
        body = self.diagnostics(server, status=409)
        self.assertIn('get_diagnostics', body['conflictingRequest'][
            'message'])
        self.assertEqual([], [c for c in self.lab.zvm.rest_calls()
                              if 'stats' in c or 'info' in c])

        self.delete_server(server)
