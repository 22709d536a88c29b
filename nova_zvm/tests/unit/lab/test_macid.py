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


"""A MACID can be in use by one running NIC only (through the connector)."""

from nova_zvm.tests.unit.lab import base

MAC = '02:00:00:AB:CD:EF'


class TestMacidCollision(base.LabTestCase):

    def guest_with_mac(self, mac=MAC, vdev='1000'):
        userid = self.new_userid('M')
        self.conn.create_guest(userid)
        self.conn.ok('POST', '/guests/%s/nic' % userid,
                     {'nic': {'vdev': vdev, 'mac_addr': mac}})
        self.addCleanup(self.conn.call, 'DELETE', '/guests/%s' % userid)
        return userid

    def test_second_logon_with_the_same_macid_fails(self):
        first = self.guest_with_mac()
        second = self.guest_with_mac()
        self.conn.action(first, 'start')

        status, env = self.conn.call('POST', '/guests/%s/action' % second,
                                     {'action': 'start'})

        self.assertNotEqual(200, status)
        self.assertEqual(200, env['rc'], env)
        self.assertIn('ABCDEF', env['errmsg'])
        self.assertIn(first, env['errmsg'])
        self.assertEqual('off', self.user(second)['power'])
        # The first guest keeps its NIC.
        nic = self.user(first)['nics']['1000']
        self.assertTrue(nic['active'])
        self.assertEqual(MAC, nic['mac'].upper())

        # Once the first one is logged off the MACID is free again.
        self.conn.action(first, 'stop')
        self.conn.action(second, 'start')
        self.assertEqual('on', self.user(second)['power'])
        self.assertTrue(self.user(second)['nics']['1000']['active'])

    def test_active_nic_with_a_used_macid_is_refused(self):
        first = self.guest_with_mac()
        self.conn.action(first, 'start')
        second = self.new_userid('M')
        self.conn.create_guest(second)
        self.addCleanup(self.conn.call, 'DELETE', '/guests/%s' % second)
        self.conn.action(second, 'start')

        status, env = self.conn.call(
            'POST', '/guests/%s/nic' % second,
            {'nic': {'vdev': '2000', 'mac_addr': MAC, 'active': True}})

        self.assertNotEqual(200, status)
        self.assertIn('ABCDEF', env['errmsg'])
        nic = self.user(second)['nics'].get('2000')
        self.assertFalse(nic and nic['active'])

    def test_same_low_bytes_other_prefix_still_collide(self):
        # CP puts its own MACPREFIX in front of the MACID: MACs that
        # differ only in their first three bytes are the same MACID.
        first = self.guest_with_mac('fa:16:3e:11:22:33')
        second = self.guest_with_mac('fa:16:3f:11:22:33')
        self.conn.action(first, 'start')
        status, env = self.conn.call('POST', '/guests/%s/action' % second,
                                     {'action': 'start'})
        self.assertNotEqual(200, status)
        self.assertIn('112233', env['errmsg'])
