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


"""The lab's guest lifecycle, driven through the real REST API."""

from nova_zvm.tests.unit.lab import base


class TestGuestLifecycle(base.LabTestCase):

    def test_create_with_two_disks_defines_user_and_takes_pool_space(self):
        userid = self.new_userid()
        free_before = self.lab.zvm.state()['pools']['POOL1']['free']
        self.conn.create_guest(
            userid, vcpus=2, memory=2048, user_profile='osdflt', max_cpu=4,
            max_mem='8G',
            disks=[{'size': '3g', 'is_boot_disk': True},
                   {'size': '1g', 'format': 'ext4'}])

        user = self.user(userid)
        self.assertEqual(2, user['vcpus'])
        self.assertEqual(4, user['max_vcpus'])
        self.assertEqual(2048, user['memory_mb'])
        self.assertEqual(8192, user['max_memory_mb'])
        self.assertEqual('OSDFLT', user['profile'])
        self.assertEqual('0100', user['ipl'])
        self.assertEqual('off', user['power'])
        self.assertEqual(['0100', '0101'], sorted(user['minidisks']))
        # 3 GiB and 1 GiB of 3390 cylinders (737,280 bytes each).
        self.assertEqual(4370, user['minidisks']['0100']['size'])
        self.assertEqual(1457, user['minidisks']['0101']['size'])
        self.assertEqual('ext4', user['minidisks']['0101']['format'])
        free_after = self.lab.zvm.state()['pools']['POOL1']['free']
        self.assertEqual(4370 + 1457, free_before - free_after)

        direct = self.conn.ok('GET', '/guests/%s/user_direct' % userid)
        disk = user['minidisks']['0101']
        # MDISK vdev type start size volid mode: a real extent of a volume.
        self.assertIn('MDISK 0101 3390 %04d 1457 %s MR' % (
            disk['start'], disk['volume']), direct['user_direct'])
        self.assertIn(userid, self.conn.ok('GET', '/guests'))

    def test_delete_removes_user_and_returns_pool_space(self):
        userid = self.new_userid()
        free_before = self.lab.zvm.state()['pools']['POOL1']['free']
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')

        self.conn.ok('DELETE', '/guests/%s' % userid)

        self.assertIsNone(self.user(userid))
        self.assertEqual(free_before,
                         self.lab.zvm.state()['pools']['POOL1']['free'])
        self.assertNotIn(userid, self.conn.ok('GET', '/guests'))

    def test_power_actions_change_power_state(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        path = '/guests/%s/power_state' % userid
        self.assertEqual('off', self.conn.ok('GET', path))

        self.conn.action(userid, 'start')
        self.assertEqual('on', self.user(userid)['power'])
        self.assertEqual('on', self.conn.ok('GET', path))

        self.conn.action(userid, 'pause')
        self.assertEqual('paused', self.user(userid)['power'])
        self.conn.action(userid, 'unpause')
        self.assertEqual('on', self.user(userid)['power'])

        self.conn.action(userid, 'reset')
        self.assertEqual('on', self.user(userid)['power'])
        self.conn.action(userid, 'reboot')
        self.assertEqual('on', self.user(userid)['power'])

        self.conn.action(userid, 'softstop')
        self.assertEqual('off', self.user(userid)['power'])
        self.assertEqual('off', self.conn.ok('GET', path))

        self.conn.action(userid, 'start')
        self.conn.action(userid, 'stop')
        self.assertEqual('off', self.user(userid)['power'])

    def test_inspect_stats_lists_running_guests_only(self):
        running, stopped = self.new_userid(), self.new_userid()
        self.conn.create_guest(running, vcpus=2)
        self.conn.create_guest(stopped)
        self.conn.action(running, 'start')

        stats = self.conn.ok('GET', '/guests/stats?userid=%s,%s'
                             % (running, stopped))

        self.assertEqual([running], list(stats))
        self.assertEqual(2, stats[running]['guest_cpus'])

    def test_console_output_comes_from_the_guest_console(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        self.lab.zvm.add_console_output(userid, 'login: hello-from-lab\n')

        out = self.conn.action(userid, 'get_console_output')

        self.assertIn('hello-from-lab', out)

    def test_power_change_behind_the_connector_is_seen(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.set_power(userid, 'on')
        self.assertEqual('on', self.conn.ok('GET', '/guests/%s/power_state'
                                            % userid))

    def test_host_info_and_disk_pool(self):
        info = self.conn.ok('GET', '/host')
        self.assertEqual('ZVMLAB01', info['hypervisor_hostname'])
        self.assertEqual('s390x', info['cpu_info']['architecture'])
        self.assertEqual(262144, info['memory_mb'])
        pool = self.conn.ok('GET', '/host/diskpool')
        # 16 volumes of a 3390-54 (65,520 cylinders of 737,280 bytes).
        self.assertAlmostEqual(16 * 65520 * 737280 / 2 ** 30,
                               pool['disk_total'], delta=1)

    def test_rest_calls_are_counted(self):
        self.lab.zvm.reset_rest_calls()
        self.conn.ok('GET', '/guests')
        self.conn.call('GET', '/guests/NOBODY/power_state')
        self.assertEqual(['GET /guests', 'GET /guests/NOBODY/power_state'],
                         self.lab.zvm.rest_calls())

    def test_request_larger_than_one_socket_read(self):
        # zvmsdk's SDKServer reads a request with one recv(4096); the lab
        # works around it, so a large guest_create must go through.
        userid = self.new_userid()
        disks = [{'size': '1m', 'format': 'none', 'disk_pool': 'ECKD:POOL1'}
                 for _ in range(90)]

        self.conn.create_guest(userid, disks=disks)

        self.assertEqual(90, len(self.user(userid)['minidisks']))


class TestTwoPools(base.LabTestCase):

    lab_kwargs = {'disk_pools': ['ECKD:POOL1', 'FBA:FBAPOOL'],
                  'auth': 'none'}

    def test_disks_from_both_pools(self):
        userid = self.new_userid()
        self.conn.create_guest(userid, disks=[
            {'size': '3g', 'is_boot_disk': True},
            {'size': '1g', 'disk_pool': 'FBA:FBAPOOL', 'format': 'ext4'}])

        disks = self.user(userid)['minidisks']
        self.assertEqual(('POOL1', 'ECKD', 'CYL'), (
            disks['0100']['pool'], disks['0100']['type'],
            disks['0100']['unit']))
        self.assertEqual(('FBAPOOL', 'FBA', 'BLK', 2097152), (
            disks['0101']['pool'], disks['0101']['type'],
            disks['0101']['unit'], disks['0101']['size']))
        pools = self.lab.zvm.state()['pools']
        self.assertEqual(2097152,
                         pools['FBAPOOL']['total'] - pools['FBAPOOL']['free'])

    def test_disk_from_an_unknown_pool_fails(self):
        userid = self.new_userid()
        status, env = self.conn.call('POST', '/guests', {'guest': {
            'userid': userid, 'vcpus': 1, 'memory': 512, 'disk_list': [
                {'size': '1g', 'disk_pool': 'ECKD:NOPOOL'}]}})
        self.assertNotEqual(200, status)
        self.assertIn('NOPOOL', env['errmsg'])
