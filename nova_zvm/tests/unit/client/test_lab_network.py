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

"""NICs, network interfaces and vswitches, against the lab."""

from nova_zvm import exception
from nova_zvm.tests.unit.client import lab_base

MAC = '02:00:00:0a:0b:0c'
NETWORKS = [{'ip_addr': '10.0.0.5', 'nic_vdev': '1000', 'mac_addr': MAC,
             'cidr': '10.0.0.0/24', 'gateway_addr': '10.0.0.1',
             'dns_addr': ['10.0.0.2']}]


class NetworkTestCase(lab_base.LabClientTestCase):

    lab_kwargs = {'vswitches': ['VSW2']}

    def test_vswitch_list(self):
        self.assertEqual({'VSW1', 'VSW2'},
                         set(self.client().vswitch_get_list()))

    def test_interface_couple_grant_vlan_and_back(self):
        client = self.client()
        userid = self.new_guest(client)

        client.guest_create_network_interface(userid, 'rhel8.6', NETWORKS)
        client.vswitch_grant_user('VSW2', userid)
        client.vswitch_set_vlan_id_for_user('VSW2', userid, 42)
        client.guest_nic_couple_to_vswitch(userid, '1000', 'VSW2')

        state = self.lab.zvm.state()
        nic = state['users'][userid]['nics']['1000']
        self.assertEqual(('VSW2', MAC), (nic['vswitch'], nic['mac'].lower()))
        self.assertEqual({'vlan': 42}, state['vswitches']['VSW2']['grants'][
            userid])
        [info] = client.guests_get_nic_info(userid=userid)
        self.assertEqual(('1000', 'VSW2'), (info['interface'],
                                            info['switch']))

        client.guest_nic_uncouple_from_vswitch(userid, '1000')
        client.vswitch_revoke_user('VSW2', userid)
        state = self.lab.zvm.state()
        self.assertIsNone(state['users'][userid]['nics']['1000']['vswitch'])
        self.assertNotIn(userid, state['vswitches']['VSW2']['grants'])

        client.guest_delete_network_interface(userid, 'rhel8.6', '1000')
        self.assertEqual({}, self.user(userid)['nics'])

    def test_nic_create_and_delete(self):
        client = self.client()
        userid = self.new_guest(client)

        vdev = client.guest_create_nic(userid, vdev='2000', nic_id='port1',
                                       mac_addr=MAC)
        self.assertEqual('2000', vdev)
        self.assertIn('2000', self.user(userid)['nics'])

        client.guest_delete_nic(userid, '2000')
        self.assertNotIn('2000', self.user(userid)['nics'])

    def test_duplicate_nic_is_a_conflict(self):
        client = self.client()
        userid = self.new_guest(client)
        client.guest_create_nic(userid, vdev='2000')

        self.assertRaises(exception.Conflict, client.guest_create_nic,
                          userid, vdev='2000')
