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


"""Extra minidisks and resizing through the real server."""

from nova_zvm.tests.unit.lab import base


class TestDisksAndResize(base.LabTestCase):

    def test_create_configure_delete_disks(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        free = self.lab.zvm.state()['pools']['POOL1']['free']

        self.conn.ok('POST', '/guests/%s/disks' % userid, {'disk_info': {
            'disk_list': [{'size': '1g', 'format': 'xfs'}]}})
        disk = self.user(userid)['minidisks']['0101']
        self.assertEqual(('xfs', 1457), (disk['format'], disk['size']))

        self.conn.ok('PUT', '/guests/%s/disks' % userid, {'disk_info': {
            'disk_list': [{'vdev': '0101', 'format': 'xfs',
                           'mntdir': '/mnt/data'}]}})
        self.assertIn('aemod.doscript',
                      [f['name'] for f in self.user(userid)['reader']])

        self.conn.ok('DELETE', '/guests/%s/disks' % userid,
                     {'vdev_info': {'vdev_list': ['0101']}})
        self.assertNotIn('0101', self.user(userid)['minidisks'])
        self.assertEqual(free,
                         self.lab.zvm.state()['pools']['POOL1']['free'])

    def test_resize_cpus_and_memory_in_directory(self):
        userid = self.new_userid()
        self.conn.create_guest(userid, vcpus=2, memory=2048, max_cpu=8,
                               max_mem='16G')

        self.conn.action(userid, 'resize_cpus', cpu_cnt=4)
        self.conn.action(userid, 'resize_mem', size='4096m')

        user = self.user(userid)
        self.assertEqual((4, 4096), (user['vcpus'], user['memory_mb']))
        direct = self.conn.ok('GET', '/guests/%s/user_direct' % userid)
        self.assertEqual(['CPU 00', 'CPU 01', 'CPU 02', 'CPU 03'],
                         [line for line in direct['user_direct']
                          if line.startswith('CPU ')])

    def test_live_resize(self):
        userid = self.new_userid()
        self.conn.create_guest(userid, vcpus=2, memory=2048, max_cpu=8,
                               max_mem='16G')
        self.conn.action(userid, 'start')

        self.conn.action(userid, 'live_resize_cpus', cpu_cnt=6)
        self.conn.action(userid, 'live_resize_mem', size='8192m')

        user = self.user(userid)
        self.assertEqual((6, 8192), (user['vcpus'], user['memory_mb']))
        self.assertEqual((6, 8192), (user['active_vcpus'],
                                     user['active_memory_mb']))

    def test_ssi_info(self):
        info = self.conn.ok('GET', '/host/ssi')
        self.assertIn('output.ssiInfoCount = 0', info)
