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

"""Guests and the host through the client, checked on the fake z/VM."""

from nova_zvm import exception
from nova_zvm.tests.unit.client import lab_base


class HostTestCase(lab_base.LabClientTestCase):

    def test_version(self):
        self.assertEqual('1.6.3', self.client().version()['version'])

    def test_host_info_and_disk_pool(self):
        client = self.client()

        info = client.host_get_info()
        pool = client.host_diskpool_get_info('ECKD:POOL1')

        self.assertEqual('zvm', info['hypervisor_type'])
        self.assertEqual(pool['disk_total'], info['disk_total'])
        self.assertGreater(pool['disk_available'], 0)

    def test_unknown_disk_pool(self):
        self.assertRaises(exception.ZVMConnectorError,
                          self.client().host_diskpool_get_info,
                          'ECKD:NOPOOL')

    def test_ssi_info(self):
        self.assertIsInstance(self.client().host_get_ssi_info(), list)


class GuestTestCase(lab_base.LabClientTestCase):

    def test_create_defines_the_user(self):
        client = self.client()
        userid = self.new_userid()

        disks = client.guest_create(
            userid, 2, 2048, disk_list=[{'size': '3g', 'is_boot_disk': True}],
            user_profile='OSDFLT', max_cpu=8, max_mem='8G')
        self.addCleanup(self._delete_quietly, client, userid)

        user = self.user(userid)
        self.assertEqual((2, 8, 2048, 'OSDFLT', 'off'),
                         (user['vcpus'], user['max_vcpus'],
                          user['memory_mb'], user['profile'], user['power']))
        self.assertEqual(['0100'], list(user['minidisks']))
        self.assertEqual('0100', disks[0]['vdev'])
        self.assertIn(userid, client.guest_list())
        self.assertIn(userid, client.host_get_guest_list())

    def test_create_without_disks(self):
        client = self.client()
        userid = self.new_userid()

        client.guest_create(userid, 1, 512)
        self.addCleanup(self._delete_quietly, client, userid)

        self.assertEqual({}, self.user(userid)['minidisks'])

    def test_delete_removes_the_user(self):
        client = self.client()
        userid = self.new_guest(client)

        client.guest_delete(userid)

        self.assertIsNone(self.user(userid))
        self.assertNotIn(userid, client.guest_list())

    def test_power_operations(self):
        client = self.client()
        userid = self.new_guest(client)

        steps = [(client.guest_start, 'on'), (client.guest_pause, 'paused'),
                 (client.guest_unpause, 'on'), (client.guest_reboot, 'on'),
                 (client.guest_reset, 'on'), (client.guest_stop, 'off')]
        for method, power in steps:
            method(userid)
            self.assertEqual(power, self.user(userid)['power'],
                             method.__name__)
        client.guest_start(userid)
        self.assertEqual('on', client.guest_get_power_state(userid))
        client.guest_softstop(userid, timeout=30, poll_interval=1)
        self.assertEqual('off', self.user(userid)['power'])
        self.assertEqual('off', client.guest_get_power_state(userid))

    def test_info_stats_and_console(self):
        client = self.client()
        userid = self.new_guest(client)
        client.guest_start(userid)
        self.lab.zvm.add_console_output(userid, 'login: hello from lab\n')

        info = client.guest_get_info(userid)
        stats = client.guest_inspect_stats([userid])
        console = client.guest_get_console_output(userid)
        definition = client.guest_get_definition_info(userid)
        direct = client.guest_get_user_direct(userid)

        self.assertEqual('on', info['power_state'])
        self.assertEqual(1, stats[userid]['guest_cpus'])
        self.assertIn('hello from lab', console)
        self.assertIn('0100', str(definition))
        self.assertTrue(direct['user_direct'][0].startswith(
            'USER %s' % userid))

    def test_resize(self):
        client = self.client()
        userid = self.new_guest(client, max_cpu=4, max_mem='4G')

        client.guest_resize_cpus(userid, 3)
        client.guest_resize_mem(userid, '2g')

        user = self.user(userid)
        self.assertEqual((3, 2048), (user['vcpus'], user['memory_mb']))

    def test_disks(self):
        client = self.client()
        userid = self.new_guest(client)

        added = client.guest_create_disks(userid, [{'size': '1g'}])
        self.assertEqual({'0100', added[0]['vdev']},
                         set(self.user(userid)['minidisks']))

        client.guest_delete_disks(userid, [added[0]['vdev']])
        self.assertEqual({'0100'}, set(self.user(userid)['minidisks']))


class GuestErrorTestCase(lab_base.LabClientTestCase):

    def test_unknown_guest_is_not_found(self):
        client = self.client()
        for method in (client.guest_get_power_state, client.guest_start,
                       client.guest_get_definition_info):
            err = self.assertRaises(exception.NotFound, method, 'NOSUCH')
            self.assertEqual((method.__name__, 404, 404),
                             (err.api, err.status, err.overall_rc))
            self.assertIn('NOSUCH', err.errmsg)

    def test_duplicate_guest_is_a_conflict(self):
        client = self.client()
        userid = self.new_guest(client)

        err = self.assertRaises(exception.Conflict, client.guest_create,
                                userid, 1, 1024)

        self.assertEqual((409, 8, 400, 8),
                         (err.status, err.overall_rc, err.rc, err.rs))
        self.assertEqual(1024, self.user(userid)['memory_mb'])

    def test_schema_error_is_a_bad_request(self):
        client = self.client()
        userid = self.new_userid()

        err = self.assertRaises(exception.BadRequest, client.guest_create,
                                userid, 'many', 1024)

        self.assertEqual(400, err.status)
        self.assertIn('vcpus', err.errmsg)
        self.assertIsNone(self.user(userid))

    def test_zvm_failure_carries_rc_and_rs(self):
        client = self.client()
        userid = self.new_guest(client)
        self.lab.zvm.inject_fault('Image_Definition_Update_DM', rc=396,
                                  rs=2)

        err = self.assertRaises(exception.ZVMFailure,
                                client.guest_resize_cpus, userid, 2)

        self.assertEqual(1, self.user(userid)['vcpus'])
        self.assertEqual((500, 300, 300), (err.status, err.overall_rc,
                                           err.rc))
        self.assertIn("'rc': 396, 'rs': 2", err.errmsg)


class WaitingCallTestCase(lab_base.LabClientTestCase):

    def test_soft_stop_read_timeout_covers_the_wait_asked_for(self):
        # A clean shutdown that takes longer than the ordinary read
        # timeout, well within the soft stop's own timeout. Before, the
        # HTTP call timed out while the connector was still at it.
        client = self.client(read_timeout=1)
        userid = self.new_userid()
        client.guest_create(userid, 1, 512, disk_list=[])
        client.guest_start(userid)
        self.lab.zvm.set_latency({'Image_Deactivate': 2})
        self.addCleanup(self.lab.zvm.set_latency, {})
        client.guest_softstop(userid, timeout=10, poll_interval=1)
        self.assertEqual('off', self.user(userid)['power'])
