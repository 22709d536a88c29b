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


"""NICs, vswitch grants, VLANs and couplings through the real server."""

from nova_zvm.tests.unit.lab import base


class TestNetwork(base.LabTestCase):

    def _nic_path(self, userid, vdev):
        return '/guests/%s/nic/%s' % (userid, vdev)

    def test_network_interface_defines_nic_and_punches_config(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)

        self.conn.ok('POST', '/guests/%s/interface' % userid, {'interface': {
            'os_version': 'rhel8.6', 'guest_networks': [{
                'ip_addr': '192.168.1.10', 'cidr': '192.168.1.0/24',
                'gateway_addr': '192.168.1.1', 'nic_vdev': '1000',
                'mac_addr': '02:00:00:12:34:56'}]}})

        nic = self.user(userid)['nics']['1000']
        self.assertEqual('02:00:00:12:34:56', nic['mac'])
        self.assertIsNone(nic['vswitch'])
        names = [f['name'] for f in self.user(userid)['reader']]
        self.assertIn('network.doscript', names)

    def test_couple_in_directory_grant_and_vlan(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.conn.ok('POST', '/guests/%s/nic' % userid,
                     {'nic': {'vdev': '1000'}})

        self.conn.ok('PUT', '/vswitches/VSW1',
                     {'vswitch': {'grant_userid': userid}})
        self.conn.ok('PUT', '/vswitches/VSW1', {'vswitch': {
            'user_vlan_id': {'userid': userid, 'vlanid': 100}}})
        self.conn.ok('PUT', self._nic_path(userid, '1000'), {
            'info': {'couple': True, 'vswitch': 'VSW1', 'active': False}})

        vsw = self.lab.zvm.state()['vswitches']['VSW1']
        self.assertEqual({'vlan': 100}, vsw['grants'][userid])
        self.assertIn('%s.1000' % userid, vsw['couplings'])
        nic = self.user(userid)['nics']['1000']
        self.assertEqual('VSW1', nic['vswitch'])
        self.assertTrue(nic['coupled_directory'])
        direct = self.conn.ok('GET', '/guests/%s/user_direct' % userid)
        self.assertTrue(any('LAN SYSTEM VSW1' in line
                            for line in direct['user_direct']))
        query = self.conn.ok('GET', '/vswitches/VSW1')
        self.assertEqual(['0100'],
                         query['authorized_users'][userid]['vlan_ids'])

        self.conn.ok('PUT', '/vswitches/VSW1',
                     {'vswitch': {'revoke_userid': userid}})
        self.assertNotIn(userid, self.lab.zvm.state()[
            'vswitches']['VSW1']['grants'])

    def test_active_nic_couple_uncouple_delete(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        self.conn.ok('PUT', '/vswitches/VSW1',
                     {'vswitch': {'grant_userid': userid}})

        self.conn.ok('POST', '/guests/%s/nic' % userid,
                     {'nic': {'vdev': '2000', 'active': True}})
        self.conn.ok('PUT', self._nic_path(userid, '2000'), {
            'info': {'couple': True, 'vswitch': 'VSW1', 'active': True}})
        nic = self.user(userid)['nics']['2000']
        self.assertTrue(nic['coupled_active'])
        self.assertTrue(nic['coupled_directory'])
        adapters = self.conn.ok('GET', '/vswitches/VSW1')['adapters']
        self.assertIn('%s_2000' % userid, adapters)

        self.conn.ok('PUT', self._nic_path(userid, '2000'),
                     {'info': {'couple': False, 'active': True}})
        self.assertIsNone(self.user(userid)['nics']['2000']['vswitch'])

        self.conn.ok('DELETE', self._nic_path(userid, '2000'),
                     {'active': True})
        self.assertNotIn('2000', self.user(userid)['nics'])

    def test_active_couple_without_grant_fails(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        self.conn.ok('POST', '/guests/%s/nic' % userid,
                     {'nic': {'vdev': '2000', 'active': True}})

        status, env = self.conn.call('PUT', self._nic_path(userid, '2000'), {
            'info': {'couple': True, 'vswitch': 'VSW1', 'active': True}})

        self.assertNotEqual(200, status)
        self.assertFalse(self.user(userid)['nics']['2000']['coupled_active'])

    def _guest_with_coupled_nic(self):
        """A logged-off guest granted on VSW1, NIC 1000 coupled to it."""
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.conn.ok('POST', '/guests/%s/nic' % userid,
                     {'nic': {'vdev': '1000'}})
        self.conn.ok('PUT', '/vswitches/VSW1',
                     {'vswitch': {'grant_userid': userid}})
        self.conn.ok('PUT', self._nic_path(userid, '1000'), {
            'info': {'couple': True, 'vswitch': 'VSW1'}})
        return userid

    def test_delete_guest_removes_couplings_and_grants(self):
        userid = self._guest_with_coupled_nic()

        self.conn.ok('DELETE', '/guests/%s' % userid)

        vsw = self.lab.zvm.state()['vswitches']['VSW1']
        self.assertNotIn(userid, vsw['grants'])
        self.assertFalse([c for c in vsw['couplings']
                          if c.startswith(userid + '.')])

    def test_vswitch_list(self):
        self.assertIn('VSW1', self.conn.ok('GET', '/vswitches'))

    def test_logon_couples_directory_nics_and_logoff_uncouples(self):
        userid = self._guest_with_coupled_nic()
        self.assertFalse(self.user(userid)['nics']['1000']['coupled_active'])

        self.conn.action(userid, 'start')

        nic = self.user(userid)['nics']['1000']
        self.assertTrue(nic['coupled_active'])
        adapters = self.conn.ok('GET', '/vswitches/VSW1')['adapters']
        self.assertEqual(nic['mac'].replace(':', '-').upper(),
                         adapters['%s_1000' % userid]['mac'])
        info = self.conn.ok('GET', '/guests/%s/adapters' % userid)
        self.assertEqual('VSW1', info['adapters'][0]['lan_name'])

        self.conn.action(userid, 'stop')
        self.assertFalse(self.user(userid)['nics']['1000']['coupled_active'])
        self.assertEqual('VSW1', self.user(userid)['nics']['1000']['vswitch'])
