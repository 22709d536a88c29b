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


"""Guest statistics that grow, through the real server."""

import time

from nova_zvm.tests.unit.lab import base


class TestStats(base.LabTestCase):

    def running_guest_on_vsw1(self):
        userid = self.new_userid('G')
        self.conn.create_guest(userid, vcpus=2)
        self.conn.ok('POST', '/guests/%s/nic' % userid,
                     {'nic': {'vdev': '1000'}})
        self.conn.ok('PUT', '/vswitches/VSW1',
                     {'vswitch': {'grant_userid': userid}})
        self.conn.ok('PUT', '/guests/%s/nic/1000' % userid, {
            'info': {'couple': True, 'vswitch': 'VSW1', 'active': False}})
        self.conn.action(userid, 'start')
        return userid

    def started_guest(self):
        """A guest the connector's monitor has no figures of, running.

        The monitor caches figures for ``[monitor] cache_interval`` (300 s,
        as on a real connector); asking also for a running guest it holds
        nothing of makes it read all of them afresh.
        """
        userid = self.new_userid('G')
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        return userid

    def test_cpu_time_and_memory_grow_while_running(self):
        userid = self.running_guest_on_vsw1()
        first = self.conn.ok('GET', '/guests/stats',
                             params={'userid': userid})[userid]
        time.sleep(0.2)
        again = self.conn.ok('GET', '/guests/stats',
                             params={'userid': userid})[userid]
        self.assertEqual(first, again)      # from the monitor's cache
        asked = '%s,%s' % (userid, self.started_guest())
        second = self.conn.ok('GET', '/guests/stats',
                              params={'userid': asked})[userid]
        self.assertGreater(second['used_cpu_time_us'],
                           first['used_cpu_time_us'])
        self.assertGreater(second['used_mem_kb'], first['used_mem_kb'])
        self.assertLessEqual(second['used_mem_kb'], second['max_mem_kb'])

    def test_nic_byte_counters_grow_while_coupled(self):
        userid = self.running_guest_on_vsw1()

        def counters(*others):
            out = self.conn.ok('GET', '/guests/interfacestats',
                               params={'userid': ','.join((userid,) +
                                                          others)})
            return {n['nic_vdev']: n for n in out[userid]}

        first = counters()
        time.sleep(0.2)
        second = counters(self.started_guest())
        self.assertEqual(['1000'], sorted(second))
        self.assertEqual('VSW1', second['1000']['vswitch_name'])
        self.assertGreater(second['1000']['nic_rx'], first['1000']['nic_rx'])
        self.assertGreater(second['1000']['nic_tx'], first['1000']['nic_tx'])
