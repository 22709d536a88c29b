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

"""The floor: service times, chains and the bounds of a burst."""

import urllib.parse

import testtools
from zvmconnector import restclient

from nova_zvm.bench import floor
from nova_zvm.lab import fixture as lab_fixture

LATENCY = {'cp:*': 0.003, 'smapi:*': 0.04, 'Image_Create_DM': 1.2,
           'Image_Disk_Create_DM': 1.5, 'Image_Activate': 0.8,
           'cp:QUERY USER': 0.01, 'zthin:unpackdiskimage': 6.0}

# A spawn as the lab logs it: 2 directory requests (2.7 s), 6.0 s of
# image copy between them and the start.
SPAWN = ['cp:QUERY USER ZVM00101', 'smapi:Image_Create_DM',
         'smapi:Image_Disk_Create_DM', 'zthin:unpackdiskimage',
         'smapi:Image_Activate', 'cp:QUERY VIRTUAL NIC']


class ServiceTimesTest(testtools.TestCase):

    def test_the_lab_rules_pick_the_most_specific_time(self):
        times = floor.ServiceTimes(LATENCY, glance_seconds=2.0)
        self.assertEqual(1.2, times('smapi:Image_Create_DM'))
        # A CP command by the prefix of its words, else cp:*.
        self.assertEqual(0.01, times('cp:QUERY USER ZVM00101'))
        self.assertEqual(0.003, times('cp:QUERY VIRTUAL NIC'))
        self.assertEqual(0.04, times('smapi:Image_Query_DM'))
        # Nothing for a kind the profile does not name.
        self.assertEqual(0.0, times('cmd:hexdump'))
        self.assertEqual(2.0, times(floor.GLANCE))
        # A refused punch is an event, not work.
        self.assertEqual(0.0, times('zthin:vmur EBUSY'))

    def test_directory_requests_are_the_dm_smapi_functions(self):
        self.assertTrue(floor.is_dirmaint('smapi:Image_Replace_DM'))
        self.assertFalse(floor.is_dirmaint('smapi:Image_Activate'))
        self.assertFalse(floor.is_dirmaint('cp:QUERY X_DM'))


class ChainTest(testtools.TestCase):

    def test_a_chain_is_the_sum_of_its_calls(self):
        chain = floor.Chain(SPAWN, floor.ServiceTimes(LATENCY))
        self.assertAlmostEqual(0.01 + 1.2 + 1.5 + 6.0 + 0.8 + 0.003,
                               chain.seconds)
        self.assertEqual(2, chain.dirmaint_requests)
        self.assertAlmostEqual(2.7, chain.dirmaint_seconds)
        self.assertAlmostEqual(0.01, chain.before_dirmaint)
        self.assertAlmostEqual(6.803, chain.after_dirmaint)

    def test_an_import_adds_the_glance_download_first(self):
        times = floor.ServiceTimes(LATENCY, glance_seconds=2.0)
        plain = floor.Chain(SPAWN, times)
        imported = floor.Chain(SPAWN, times, imports=True)
        self.assertAlmostEqual(plain.seconds + 2.0, imported.seconds)
        self.assertAlmostEqual(plain.before_dirmaint + 2.0,
                               imported.before_dirmaint)

    def test_a_chain_without_directory_work(self):
        chain = floor.Chain(['smapi:Image_Activate'],
                            floor.ServiceTimes(LATENCY))
        self.assertEqual(0, chain.dirmaint_requests)
        self.assertAlmostEqual(0.8, chain.before_dirmaint)
        self.assertEqual(0.0, chain.after_dirmaint)


class BurstTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        times = floor.ServiceTimes(LATENCY, glance_seconds=2.0)
        self.new = floor.Chain(['zthin:unpackdiskimage'] + SPAWN, times,
                               imports=True)
        self.cached = floor.Chain(SPAWN, times)

    def test_each_image_is_imported_once(self):
        chains = floor.burst_chains(self.new, self.cached, 20, 4)
        self.assertEqual(4, chains.count(self.new))
        self.assertEqual(16, chains.count(self.cached))

    def test_one_spawn_is_its_chain(self):
        seconds, bounds = floor.burst_floor(self.new, self.cached, 1, 1,
                                            10, dirmaint_serial=False)
        self.assertAlmostEqual(self.new.seconds, seconds)
        self.assertEqual(['longest_chain'], list(bounds))

    def test_twenty_spawns_on_ten_slots_overlapping(self):
        seconds, bounds = floor.burst_floor(self.new, self.cached, 20, 4,
                                            10, dirmaint_serial=False)
        # All the work shared evenly by the slots (here more than two
        # cached spawns, the 10th and 11th longest, sharing one).
        even = (4 * self.new.seconds + 16 * self.cached.seconds) / 10
        self.assertGreater(even, 2 * self.cached.seconds)
        self.assertAlmostEqual(even, bounds['build_slots'])
        self.assertNotIn('dirmaint_queue', bounds)
        self.assertAlmostEqual(max(self.new.seconds, even), seconds)

    def test_two_long_chains_sharing_a_slot(self):
        # 11 imports on 10 slots: two of them share one.
        bounds = floor.burst_bounds([self.new] * 11, 10, False)
        self.assertAlmostEqual(2 * self.new.seconds, bounds['build_slots'])

    def test_serial_dirmaint_queues_every_directory_request(self):
        seconds, bounds = floor.burst_floor(self.new, self.cached, 20, 4,
                                            10, dirmaint_serial=True)
        # 20 spawns x 2.7 s, after the shortest head, before the
        # shortest tail.
        expected = 0.01 + 20 * 2.7 + 6.803
        self.assertAlmostEqual(expected, bounds['dirmaint_queue'])
        self.assertAlmostEqual(expected, seconds)

    def test_fewer_directory_requests_lower_the_serial_floor(self):
        times = floor.ServiceTimes(LATENCY)
        merged = floor.Chain([c for c in SPAWN
                              if c != 'smapi:Image_Disk_Create_DM'], times)
        before = floor.burst_floor(self.cached, self.cached, 20, 4, 10,
                                   True)[0]
        after = floor.burst_floor(merged, merged, 20, 4, 10, True)[0]
        self.assertAlmostEqual(20 * 1.5, before - after)

    def test_no_slot_limit(self):
        bounds = floor.burst_bounds([self.cached] * 20, 0, False)
        self.assertEqual({'longest_chain': self.cached.seconds}, bounds)


class FromTheLabTest(testtools.TestCase):
    """The floor of what the real connector did on the lab."""

    def test_guest_create_floor_is_what_the_lab_served(self):
        latency = {'Image_Create_DM': 0.05, 'Image_Disk_Create_DM': 0.07}
        lab = self.useFixture(lab_fixture.LabFixture(auth='none',
                                                     log_level='WARNING'))
        url = urllib.parse.urlparse(lab.url)
        client = restclient.RESTClient(url.hostname, url.port)
        lab.zvm.set_latency(latency)
        lab.zvm.reset_calls()

        result = client.call('guest_create', 'FLOOR001', 1, 1024,
                             disk_list=[{'size': '1g', 'is_boot_disk': True,
                                         'disk_pool': 'ECKD:POOL1'}])

        self.assertEqual(0, result['overallRC'], result)
        chain = floor.Chain(lab.zvm.calls(), floor.ServiceTimes(latency))
        # makevm then one minidisk: two directory requests, and only
        # they have a time in this profile.
        self.assertEqual(2, chain.dirmaint_requests)
        self.assertAlmostEqual(0.12, chain.seconds)
        self.assertIn('FLOOR001', lab.zvm.state()['users'])
