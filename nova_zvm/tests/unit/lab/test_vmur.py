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


"""vmur refuses a second concurrent punch; smtLayer retries it."""

import os
import threading
import time

import fixtures
import testtools

from nova_zvm.lab import zthin
from nova_zvm.lab import zvm as fake_zvm
from nova_zvm.tests.unit.lab import base


class TestVmurLock(testtools.TestCase):
    """The fake vmur in process: one instance per device at a time."""

    def setUp(self):
        super().setUp()
        self.zvm = fake_zvm.FakeZVM()
        state = self.useFixture(fixtures.TempDir()).path
        os.mkdir(os.path.join(state, 'spool'))
        self.zthin = zthin.ZThin(self.zvm, {'state': state, 'spool': os.path.
                                            join(state, 'spool')}, None)
        self.file = os.path.join(state, 'cfgdrive.tgz')
        with open(self.file, 'w') as f:
            f.write('config drive')

    def punch(self):
        return self.zthin.call('vmur', ['punch', '-r', self.file])

    def test_a_punch_in_progress_refuses_a_second_one(self):
        self.zvm.set_latency({'zthin:vmur': 2})
        first = threading.Thread(target=self.punch)
        first.start()
        self.addCleanup(first.join)
        while '000D' not in self.zvm.vmur_busy:
            time.sleep(0.005)

        err = self.assertRaises(fake_zvm.CommandFailed, self.punch)

        self.assertEqual(16, err.returncode)
        self.assertIn('A concurrent instance of vmur is already active. '
                      'No file punched.', err.output)
        # The reader (another device) still answers.
        self.assertIn('ORIGINID', self.zthin.call('vmur', ['li']))
        self.assertEqual(['zthin:vmur', 'zthin:vmur EBUSY', 'zthin:vmur'],
                         self.zvm.calls())
        self.zvm.set_latency({})

    def test_punch_is_free_again_afterwards(self):
        self.assertIn('created', self.punch())
        self.assertIn('created', self.punch())
        self.assertEqual(set(), self.zvm.vmur_busy)


class TestPunchRetriedThroughConnector(base.LabTestCase):

    def interface(self, userid, vdev):
        self.conn.ok('POST', '/guests/%s/interface' % userid, {'interface': {
            'os_version': 'rhel8.6', 'guest_networks': [{
                'ip_addr': '192.168.1.%d' % (10 + int(vdev[0])),
                'cidr': '192.168.1.0/24', 'nic_vdev': vdev}]}})

    def guest(self):
        userid = self.new_userid('P')
        self.conn.create_guest(userid, disks=[])
        self.addCleanup(self.conn.call, 'DELETE', '/guests/%s' % userid)
        return userid

    def punched(self, userid):
        return [f['name'] for f in self.user(userid)['reader']]

    def test_a_busy_punch_is_retried_by_smtlayer(self):
        userid = self.guest()
        self.lab.zvm.reset_calls()
        # Another vmur instance holds the punch for the next two tries.
        self.lab.zvm.set_settings(punch_held=2)

        self.interface(userid, '1000')

        vmur = [c for c in self.lab.zvm.calls() if c.startswith('zthin:vmur')]
        self.assertEqual(['zthin:vmur EBUSY', 'zthin:vmur EBUSY',
                          'zthin:vmur'], vmur)
        self.assertIn('network.doscript', self.punched(userid))
        self.assertEqual(0, self.lab.zvm.state()['settings']['punch_held'])

    def test_two_concurrent_punches_both_land(self):
        userids = [self.guest(), self.guest()]
        # Each punch keeps the device busy a while, so they overlap.
        self.lab.zvm.set_latency({'zthin:vmur': 0.05})
        self.addCleanup(self.lab.zvm.set_latency, {})
        errors = []

        def punch(userid):
            try:
                self.interface(userid, '2000')
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=punch, args=(u,))
                   for u in userids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        self.assertEqual([], errors)
        for userid in userids:
            self.assertIn('network.doscript', self.punched(userid))
