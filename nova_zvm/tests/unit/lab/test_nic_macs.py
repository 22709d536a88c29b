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


"""Which MAC a NIC gets, and the guest's network scripts at boot."""

from nova_zvm.tests.unit.lab import base

MAC = '02:00:00:5A:6B:7C'


class TestNicMacs(base.LabTestCase):

    def guest(self):
        userid = self.new_userid('N')
        self.conn.create_guest(userid)
        self.addCleanup(self.conn.call, 'DELETE', '/guests/%s' % userid)
        return userid

    def interface(self, userid, active=None):
        body = {'os_version': 'rhel8.6', 'guest_networks': [{
            'ip_addr': '192.168.7.10', 'cidr': '192.168.7.0/24',
            'mac_addr': MAC, 'nic_vdev': '1000'}]}
        if active is not None:
            body['active'] = active
        self.conn.ok('POST', '/guests/%s/interface' % userid,
                     {'interface': body})

    def test_nic_added_to_a_running_guest_gets_a_mac_of_cps(self):
        # The connector passes no MACID to the running guest's define: the
        # live NIC has a MAC from CP, the directory keeps the MACID.
        userid = self.guest()
        self.conn.action(userid, 'start')
        self.interface(userid, active=True)

        nic = self.user(userid)['nics']['1000']
        self.assertTrue(nic['active'])
        self.assertNotEqual(MAC, nic['mac'].upper())
        self.assertEqual(MAC, nic['directory_mac'].upper())
        entry = self.conn.ok('GET', '/guests/%s/user_direct' % userid)
        self.assertIn('MACID 5A6B7C', '\n'.join(
            entry['user_direct']))

        # From the next logon on, the NIC has the directory's MAC.
        self.conn.action(userid, 'stop')
        self.conn.action(userid, 'start')
        self.assertEqual(MAC, self.user(userid)['nics']['1000'][
            'mac'].upper())

    def test_stopped_guest_applies_its_network_scripts_at_boot(self):
        userid = self.guest()
        self.interface(userid)
        self.assertEqual({}, self.lab.zvm.volumes(userid)['network'])

        self.conn.action(userid, 'start')

        net = self.lab.zvm.volumes(userid)['network']
        self.assertEqual('192.168.7.10', net['enc1000']['ip_addr'])
        self.assertTrue(net['enc1000']['up'])
        self.assertEqual(MAC, self.user(userid)['nics']['1000'][
            'mac'].upper())
        self.assertEqual([], self.user(userid)['reader'])

    def test_removal_script_drops_the_configuration_at_boot(self):
        userid = self.guest()
        self.interface(userid)
        self.conn.ok('DELETE', '/guests/%s/interface' % userid, {
            'interface': {'os_version': 'rhel8.6', 'vdev': '1000'}})

        self.conn.action(userid, 'start')

        self.assertEqual({}, self.lab.zvm.volumes(userid)['network'])
        self.assertEqual({}, self.user(userid)['nics'])
        self.assertEqual([], self.user(userid)['reader'])
