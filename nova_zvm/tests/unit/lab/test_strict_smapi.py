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


"""The fake SMAPI's strict behaviours, called as smcli is (in process).

Each test asserts the return and reason codes real z/VM gives (feilong's
zthin-parts/zthin/src/rcdescriptions.c) in the header line smtLayer
parses.
"""

import threading
import time

import fixtures
import testtools

from nova_zvm.lab import smapi
from nova_zvm.lab import zthin
from nova_zvm.lab import zvm as fake_zvm


def _codes(output):
    """(overallRC, rc, rs) from smcli's first line."""
    first = output.splitlines()[0].split()
    return int(first[0]), int(first[1]), int(first[2])


class SMAPITestCase(testtools.TestCase):

    pools = None

    def setUp(self):
        super().setUp()
        self.zvm = fake_zvm.FakeZVM(disk_pools=self.pools)
        self.smapi = smapi.SMAPI(self.zvm)

    def call(self, function, *args):
        """(overallRC, rc, rs) and the body of one smcli call."""
        try:
            out = self.smapi.call(function, list(args))
        except fake_zvm.CommandFailed as e:
            return _codes(e.output), e.output
        return _codes(out), out.split('\n', 1)[1]

    def new_user(self, userid, power='off'):
        user = self.zvm.new_user(userid, 1, 1024, 1, 1024, 'OSDFLT')
        user['power'] = power
        user['os_up'] = power == 'on'
        return user


class TestDiskPoolVolumes(SMAPITestCase):

    # Two volumes of 6,000 cylinders.
    pools = ['ECKD:POOL1:2x6000']

    def create_disk(self, userid, vdev, cylinders):
        return self.call('Image_Disk_Create_DM', '-T', userid, '-v', vdev,
                         '-t', '3390', '-a', 'AUTOG', '-r', 'POOL1',
                         '-u', '1', '-z', str(cylinders), '-m', 'MR')

    def test_a_minidisk_never_spans_two_volumes(self):
        self.new_user('A1')
        self.assertEqual((0, 0, 0), self.create_disk('A1', '0100', 4370)[0])
        self.assertEqual((0, 0, 0), self.create_disk('A1', '0101', 4370)[0])
        # 3,260 cylinders are free in all, 1,630 on each volume.
        pool = self.zvm.state()['pools']['POOL1']
        self.assertEqual(3260, pool['free'])
        self.assertEqual(1630, pool['largest_free'])

        codes, out = self.create_disk('A1', '0102', 2000)

        self.assertEqual((8, 408, 24), codes)
        self.assertNotIn('0102', self.zvm.users['A1']['minidisks'])
        self.assertEqual((0, 0, 0), self.create_disk('A1', '0102', 1630)[0])

    def test_space_query_lists_free_extents_per_volume(self):
        self.new_user('A2')
        self.create_disk('A2', '0100', 1000)
        self.create_disk('A2', '0101', 500)
        self.call('Image_Disk_Delete_DM', '-T', 'A2', '-v', '0100')

        codes, free = self.call('Image_Volume_Space_Query_DM', '-q', '2',
                                '-e', '3', '-T', 'DUMMY', '-n', 'POOL1')
        codes, used = self.call('Image_Volume_Space_Query_DM', '-q', '3',
                                '-e', '3', '-T', 'DUMMY', '-n', 'POOL1')
        codes, vols = self.call('Image_Volume_Space_Query_DM', '-q', '1',
                                '-e', '1', '-T', 'DUMMY', '-n', '*')

        # The freed extent is not merged with the rest: 0101 sits between.
        self.assertEqual(['EP0000 3390-54 0001 1000 POOL1',
                          'EP0000 3390-54 1501 4500 POOL1',
                          'EP0001 3390-54 0001 6000 POOL1'],
                         free.splitlines())
        self.assertEqual(['EP0000 3390-54 1001 500 POOL1'],
                         used.splitlines())
        self.assertEqual(['EP0000 3390-54 6000', 'EP0001 3390-54 6000'],
                         vols.splitlines())
        # Deleting the last disk merges the volume back into one extent.
        self.call('Image_Disk_Delete_DM', '-T', 'A2', '-v', '0101')
        self.assertEqual(6000, self.zvm.state()['pools']['POOL1'][
            'volumes']['EP0000']['largest_free'])


class TestShutdown(SMAPITestCase):

    def setUp(self):
        super().setUp()
        self.zvm.set_settings({'signal_timeout': 0.2})

    def test_immediate_logoff_by_default(self):
        self.new_user('B1', 'on')
        self.assertEqual((0, 0, 0), self.call('Image_Deactivate', '-T',
                                              'B1')[0])
        self.assertEqual('off', self.zvm.state()['users']['B1']['power'])

    def test_a_guest_that_ignores_the_signal_goes_at_the_timeout(self):
        user = self.new_user('B2', 'on')
        user['shutdown'] = 'ignore'

        self.assertEqual((0, 0, 0), self.call('Image_Deactivate', '-T',
                                              'B2')[0])

        state = self.zvm.state()['users']['B2']
        self.assertEqual(('on', True), (state['power'],
                                        state['logging_off']))
        # Meanwhile: "Image being deactivated"; no logon, no purge.
        self.assertEqual((8, 200, 16), self.call('Image_Deactivate', '-T',
                                                 'B2')[0])
        self.assertEqual((8, 200, 8), self.call('Image_Activate', '-T',
                                                'B2')[0])
        self.assertEqual((8, 596, 6831), self.call('Image_Delete_DM', '-T',
                                                   'B2', '-e', '0')[0])
        time.sleep(0.25)
        self.assertEqual('off', self.zvm.state()['users']['B2']['power'])
        self.assertEqual((0, 0, 0), self.call('Image_Delete_DM', '-T', 'B2',
                                              '-e', '0')[0])

    def test_within_bounds_the_wait_and_immed_does_not_wait(self):
        user = self.new_user('B3', 'on')
        user['shutdown'] = 60
        self.call('Image_Deactivate', '-T', 'B3', '-f', 'WITHIN 0')
        self.assertEqual('off', self.zvm.state()['users']['B3']['power'])

        user = self.new_user('B4', 'on')
        user['shutdown'] = 'ignore'
        self.call('Image_Deactivate', '-T', 'B4', '-f', 'IMMED')
        self.assertEqual('off', self.zvm.state()['users']['B4']['power'])

    def test_a_slow_logoff_refuses_the_purge(self):
        self.zvm.set_settings({'logoff_seconds': 0.2})
        self.new_user('B5', 'on')
        self.call('Image_Deactivate', '-T', 'B5', '-f', 'IMMED')
        self.assertEqual((8, 596, 6831), self.call('Image_Delete_DM', '-T',
                                                   'B5', '-e', '0')[0])
        time.sleep(0.25)
        self.assertEqual((0, 0, 0), self.call('Image_Delete_DM', '-T', 'B5',
                                              '-e', '0')[0])
        self.assertNotIn('B5', self.zvm.state()['users'])


class TestDirMaint(SMAPITestCase):

    def test_an_entry_held_elsewhere_refuses_changes_not_queries(self):
        user = self.new_user('C1')
        user['held_by'] = {'count': 2, 'refused': 0}

        self.assertEqual((8, 400, 12), self.call('Image_Delete_DM', '-T',
                                                 'C1', '-e', '0')[0])
        self.assertEqual((0, 0, 0), self.call('Image_Query_DM', '-T',
                                              'C1')[0])
        self.assertEqual((8, 400, 12), self.call('Image_IPL_Set_DM', '-T',
                                                 'C1', '-s', '0100')[0])
        # Held for two changes: the third goes through.
        self.assertEqual((0, 0, 0), self.call('Image_Delete_DM', '-T', 'C1',
                                              '-e', '0')[0])
        self.assertNotIn('C1', self.zvm.state()['users'])

    def _overlap(self, serial):
        """Two directory changes of one entry, each taking 0.3 s."""
        self.zvm.set_settings({'dirmaint_serial': serial})
        self.zvm.set_latency({'Image_IPL_Set_DM': 0.3})
        self.new_user('C2')
        results = []
        order = []

        def change(vdev):
            results.append(self.call('Image_IPL_Set_DM', '-T', 'C2', '-s',
                                     vdev)[0])
            order.append(vdev)

        threads = [threading.Thread(target=change, args=(v,))
                   for v in ('0100', '0200')]
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join()
        return sorted(results), order

    def test_the_serial_queue_runs_changes_one_after_the_other(self):
        results, order = self._overlap(serial=True)
        self.assertEqual([(0, 0, 0), (0, 0, 0)], results)
        self.assertEqual(['0100', '0200'], order)
        self.assertEqual('0200', self.zvm.users['C2']['ipl'])

    def test_overlapping_changes_of_one_entry_find_it_locked(self):
        results, _order = self._overlap(serial=False)
        self.assertEqual([(0, 0, 0), (8, 400, 12)], results)
        self.assertEqual('0100', self.zvm.users['C2']['ipl'])

    def test_serial_is_the_default_and_in_the_benchmark_profile(self):
        from nova_zvm.lab import cli
        self.assertTrue(fake_zvm.FakeZVM().settings['dirmaint_serial'])
        self.assertTrue(cli.load_settings('zvm')['dirmaint_serial'])


class TestSmallerBehaviours(SMAPITestCase):

    def setUp(self):
        super().setUp()
        self.zvm.spool_dir = self.useFixture(fixtures.TempDir()).path

    def test_a_duplicate_nic_is_already_defined(self):
        self.new_user('D1')
        args = ['-T', 'D1', '-k', 'IMAGE_DEVICE_NUMBER=1000', '-k',
                'ADAPTER_TYPE=QDIO']
        self.assertEqual((0, 0, 0), self.call(
            'Virtual_Network_Adapter_Create_Extended_DM', *args)[0])
        # 404/4 "Image device already defined" (not 400/12, "locked").
        self.assertEqual((8, 404, 4), self.call(
            'Virtual_Network_Adapter_Create_Extended_DM', *args)[0])

    def test_nicdef_has_a_macid_only_when_one_is_asked_for(self):
        self.new_user('D5')
        self.call('Virtual_Network_Adapter_Create_Extended_DM', '-T', 'D5',
                  '-k', 'IMAGE_DEVICE_NUMBER=1000')
        self.call('Virtual_Network_Adapter_Create_Extended_DM', '-T', 'D5',
                  '-k', 'IMAGE_DEVICE_NUMBER=2000', '-k', 'MAC_ID=123456')

        entry = self.call('Image_Query_DM', '-T', 'D5')[1].splitlines()
        self.assertIn('NICDEF 1000 TYPE QDIO DEVICES 3', entry)
        self.assertIn('NICDEF 2000 TYPE QDIO DEVICES 3 MACID 123456', entry)
        self.assertIsNone(self.zvm.state()['users']['D5']['nics']['1000'][
            'mac'])
        # CP gives the NIC a MAC when it defines it at logon.
        self.call('Image_Activate', '-T', 'D5')
        self.assertIsNotNone(self.zvm.state()['users']['D5']['nics'][
            '1000']['mac'])

    def test_couple_without_a_grant_is_not_authorized(self):
        self.new_user('D2', 'on')
        self.call('Virtual_Network_Adapter_Create_Extended', '-T', 'D2',
                  '-k', 'IMAGE_DEVICE_NUMBER=1000')
        codes, _out = self.call('Virtual_Network_Adapter_Connect_Vswitch',
                                '-T', 'D2', '-v', '1000', '-n', 'VSW1')
        self.assertEqual((8, 212, 8), codes)

    def _console(self, userid):
        self.call('Image_Console_Get', '-T', userid)
        newest = max(self.zvm.spool)
        with open(self.zvm.spool[newest]['path']) as f:
            return f.read()

    def test_the_console_spool_holds_only_what_is_new(self):
        user = self.new_user('D3', 'on')
        user['console'] = 'first\n'
        self.assertEqual('first\n', self._console('D3'))
        user['console'] += 'second\n'
        self.assertEqual('second\n', self._console('D3'))
        self.assertEqual('', self._console('D3'))

    def test_iucv_answers_only_after_the_boot(self):
        self.zvm.set_settings({'boot_seconds': 0.2})
        self.new_user('D4')
        self.call('Image_Activate', '-T', 'D4')
        iucv = zthin.ZThin(self.zvm, {'state': self.zvm.spool_dir}, None)

        err = self.assertRaises(fake_zvm.CommandFailed, iucv.call,
                                'iucvclnt', ['D4', 'echo', 'ping'])
        self.assertIn('Failed to connect to D4 over IUCV', err.output)
        time.sleep(0.25)
        self.assertEqual('ping\n', iucv.call('iucvclnt', ['D4', "echo",
                                                          "'ping'"]))


class TestSpoolIds(testtools.TestCase):

    def test_ids_wrap_but_never_reuse_a_live_file(self):
        zvm = fake_zvm.FakeZVM()
        live = zvm.spool_add('OPNCLOUD', 'OPNCLOUD', 'PUN', 'A', 'f', '', 1)
        self.assertEqual(1, live['id'])
        zvm.next_spoolid = 9999
        self.assertEqual(9999, zvm.spool_add('OPNCLOUD', 'OPNCLOUD', 'PUN',
                                             'A', 'g', '', 1)['id'])
        # Wrapped: 1 is still in the reader, so the next free id is 2.
        self.assertEqual(2, zvm.spool_add('OPNCLOUD', 'OPNCLOUD', 'PUN',
                                          'A', 'h', '', 1)['id'])
