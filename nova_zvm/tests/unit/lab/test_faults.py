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


"""Injected failures and latency travel through the real server."""

import time

from nova_zvm.lab import zvm as fake_zvm
from nova_zvm.tests.unit.lab import base


class TestFaults(base.LabTestCase):

    def test_injected_smapi_failure_reaches_the_http_response(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.inject_fault('Image_Activate', rc=300, rs=12)

        status, env = self.conn.call('POST', '/guests/%s/action' % userid,
                                     {'action': 'start'})

        self.assertEqual(500, status)
        self.assertEqual((8, 300, 12),
                         (env['overallRC'], env['rc'], env['rs']))
        self.assertIn('Image_Activate', env['errmsg'])
        self.assertEqual('off', self.user(userid)['power'])
        # One shot: the next start succeeds.
        self.conn.action(userid, 'start')
        self.assertEqual('on', self.user(userid)['power'])

    def test_fault_on_nth_call_only(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.inject_fault('QUERY USER', rc=1, rs=1, nth=2)
        path = '/guests/%s/power_state' % userid

        first = self.conn.call('GET', path)
        second = self.conn.call('GET', path)
        third = self.conn.call('GET', path)

        self.assertEqual(200, first[0])
        self.assertEqual(500, second[0])
        self.assertIn('QUERY USER', second[1]['errmsg'])
        self.assertEqual(200, third[0])

    def test_fault_on_every_call(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        self.lab.zvm.inject_fault('Image_Pause', rc=200, rs=36, count=0)

        for _ in range(3):
            status, env = self.conn.call('POST', '/guests/%s/action'
                                         % userid, {'action': 'pause'})
            self.assertEqual((500, 200, 36), (status, env['rc'], env['rs']))
        self.assertEqual('on', self.user(userid)['power'])

        self.lab.zvm.clear_faults()
        self.conn.action(userid, 'pause')
        self.assertEqual('paused', self.user(userid)['power'])

    def test_fault_in_a_zthin_script_fails_the_deploy(self):
        self.conn.import_image('img-fault', base.disk_image(100))
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.inject_fault('unpackdiskimage', rc=3)

        status, env = self.conn.call('POST', '/guests/%s/action' % userid, {
            'action': 'deploy', 'image': 'img-fault', 'vdev': '0100'})

        self.assertEqual(500, status)
        self.assertEqual((300, 3), (env['overallRC'], env['rs']))
        self.assertIn('injected fault on unpackdiskimage', env['errmsg'])

    def test_unemulated_function_fails_loudly(self):
        # The lab does not create vswitches (the z/VM admin does).
        status, env = self.conn.call(
            'POST', '/vswitches', {'vswitch': {'name': 'NEWVSW',
                                               'rdev': '1000'}})

        self.assertNotEqual(200, status)
        self.assertIn('Virtual_Network_Vswitch_Create_Extended is not '
                      'emulated', env['errmsg'])
        with open(self.lab.log_file) as f:
            self.assertIn('is not emulated', f.read())

    def test_calls_are_recorded(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.reset_calls()
        self.conn.action(userid, 'start')
        self.assertIn('smapi:Image_Activate', self.lab.zvm.calls())


class TestLatency(base.LabTestCase):

    def test_latency_per_function_slows_that_call(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.set_latency({'Image_Activate': 0.6})
        self.addCleanup(self.lab.zvm.set_latency, {})

        started = time.monotonic()
        self.conn.action(userid, 'start')

        # A lower bound only: how long other calls take on a busy machine
        # is no test's business (which calls are slowed is checked below,
        # without a clock).
        self.assertGreaterEqual(time.monotonic() - started, 0.6)

    def test_latency_applies_to_the_named_function_only(self):
        zvm = fake_zvm.FakeZVM(latency={'Image_Activate': 0.6,
                                        'cp:QUERY USER': 0.3})
        self.assertEqual(0.6, zvm._delay('smapi', 'Image_Activate'))
        self.assertEqual(0, zvm._delay('smapi', 'Image_Deactivate'))
        self.assertEqual(0.3, zvm._delay('cp', 'QUERY USER ZVM00001'))
        self.assertEqual(0, zvm._delay('cp', 'QUERY VIRTUAL NIC'))

    def test_cp_latency_by_command_prefix(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        self.lab.zvm.set_latency({'cp:QUERY USER': 0.3})
        self.addCleanup(self.lab.zvm.set_latency, {})

        started = time.monotonic()
        self.conn.ok('GET', '/guests/%s/power_state' % userid)

        self.assertGreaterEqual(time.monotonic() - started, 0.3)


class TestLatencyProfile(base.LabTestCase):

    lab_kwargs = {'latency_profile': 'zvm', 'auth': 'none'}

    def test_bundled_profile_is_loaded(self):
        latency = self.lab.zvm.state()['latency']
        self.assertGreater(latency['zthin:unpackdiskimage'], 1.0)
        self.assertLess(latency['cp:*'], 0.01)
