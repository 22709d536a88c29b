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


"""Interfaces added to and removed from a running guest."""

from nova_zvm.tests.unit.lab import base


class TestNICHotplug(base.LabTestCase):

    def test_interface_on_a_running_guest_is_configured_by_its_os(self):
        userid = self.new_userid('H')
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        self.conn.ok('POST', '/guests/%s/interface' % userid, {'interface': {
            'os_version': 'rhel8.6', 'active': True,
            'guest_networks': [{'ip_addr': '192.168.1.10',
                                'cidr': '192.168.1.0/24',
                                'mac_addr': '02:00:00:12:34:56',
                                'nic_vdev': '1000'}]}})
        nic = self.user(userid)['nics']['1000']
        self.assertTrue(nic['defined'])
        self.assertTrue(nic['active'])
        net = self.lab.zvm.volumes(userid)['network']
        self.assertEqual({'vdev': '1000', 'ip_addr': '192.168.1.10',
                          'netmask': '255.255.255.0', 'bootproto': 'static',
                          'up': True}, net['enc1000'])
        # The doscript was consumed by the guest.
        self.assertEqual([], self.user(userid)['reader'])

        self.conn.ok('DELETE', '/guests/%s/interface' % userid, {
            'interface': {'os_version': 'rhel8.6', 'vdev': '1000',
                          'active': True}})
        self.assertNotIn('1000', self.user(userid)['nics'])
