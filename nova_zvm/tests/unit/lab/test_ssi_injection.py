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


"""Faults, latency and views aimed at one member of an SSI lab."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests
import testtools

from nova_zvm.lab import fixture
from nova_zvm.lab import zvm as fake_zvm
from nova_zvm.tests.unit.lab import base
from nova_zvm.tests.unit.lab import test_ssi

M1, M2 = test_ssi.M1, test_ssi.M2


class TestPerMember(test_ssi.SSITestCase):
    """One SSI lab for the class; each test uses its own guests."""

    def guest_at(self, conn):
        """A stopped guest that ``conn``'s connector created (and knows)."""
        userid = self.new_userid('P')
        conn.create_guest(userid)
        return userid

    def start(self, conn, userid):
        return conn.call('POST', '/guests/%s/action' % userid,
                         {'action': 'start'})

    def test_fault_for_one_member_fails_only_its_connectors_call(self):
        u1, u2 = self.guest_at(self.c1), self.guest_at(self.c2)
        self.lab.zvm.inject_fault('Image_Activate', rc=300, rs=12,
                                  member=M2)

        # Member 1 runs the same call first: it neither fails nor uses
        # up member 2's fault.
        self.assertEqual(200, self.start(self.c1, u1)[0])
        status, env = self.start(self.c2, u2)

        self.assertEqual('on', self.user(u1)['power'])
        self.assertEqual(500, status)
        self.assertEqual((8, 300, 12),
                         (env['overallRC'], env['rc'], env['rs']))
        self.assertIn('Image_Activate', env['errmsg'])
        self.assertEqual('off', self.user(u2)['power'])
        fault, = self.lab.zvm.state()['faults']
        self.assertEqual((M2, 1, 1),
                         (fault['member'], fault['seen'], fault['fired']))
        # One shot: member 2's next start succeeds.
        self.c2.action(u2, 'start')
        self.assertEqual([M2], self.where(u2))

    def test_fault_without_member_fails_every_members_call(self):
        u1, u2 = self.guest_at(self.c1), self.guest_at(self.c2)
        self.lab.zvm.inject_fault('Image_Activate', rc=300, rs=12, count=2)

        for conn, userid in ((self.c1, u1), (self.c2, u2)):
            status, env = self.start(conn, userid)
            self.assertEqual(500, status)
            self.assertEqual((300, 12), (env['rc'], env['rs']))
            self.assertEqual('off', self.user(userid)['power'])

    def test_clearing_one_members_faults_keeps_the_others(self):
        self.lab.zvm.inject_fault('Image_Activate', rc=300, member=M1)
        self.lab.zvm.inject_fault('Image_Activate', rc=300, member=M2)
        self.lab.zvm.inject_fault('Image_Activate', rc=300)

        self.lab.zvm.clear_faults(member=M2)

        self.assertEqual([M1, None], [f['member'] for f in
                                      self.lab.zvm.state()['faults']])

    def test_unknown_member_is_refused_naming_the_members(self):
        e = self.assertRaises(fixture.LabError, self.lab.zvm.inject_fault,
                              'Image_Activate', 300, member='ZVMLAB09')
        self.assertIn('ZVMLAB09', str(e))
        self.assertIn('%s, %s' % (M1, M2), str(e))
        self.assertEqual([], self.lab.zvm.state()['faults'])

    def test_latency_for_one_member_delays_only_its_calls(self):
        u1, u2 = self.guest_at(self.c1), self.guest_at(self.c2)
        self.lab.zvm.set_latency({'Image_Activate': 0.4}, member=M2)
        self.addCleanup(self.lab.zvm.set_latency, {}, member=M2)
        self.assertEqual({M2: {'Image_Activate': 0.4}},
                         self.lab.zvm.state()['member_latency'])
        self.lab.zvm.reset_calls()

        self.c1.action(u1, 'start')
        self.assertIn('smapi:Image_Activate', self.lab.zvm.calls(member=M1))
        self.assertNotIn('smapi:Image_Activate',
                         self.lab.zvm.calls(member=M2))
        began = time.monotonic()
        self.c2.action(u2, 'start')
        elapsed = time.monotonic() - began

        self.assertGreaterEqual(elapsed, 0.4)
        self.assertEqual(1, self.lab.zvm.calls(member=M2).count(
            'smapi:Image_Activate'))
        self.assertEqual(2, self.lab.zvm.calls().count(
            'smapi:Image_Activate'))
        self.lab.zvm.set_latency({}, member=M2)
        self.assertEqual({}, self.lab.zvm.state()['member_latency'])

    # -- FCP views ----------------------------------------------------------

    def test_each_member_lists_its_own_fcp_devices(self):
        first, second = (self.lab.zvm.fcps(member=m) for m in (M1, M2))

        self.assertEqual(first, self.lab.zvm.fcps())
        self.assertTrue(second)
        self.assertFalse({d['npiv_wwpn'] for d in first.values()} &
                         {d['npiv_wwpn'] for d in second.values()})

    def test_an_fcp_in_use_at_member_2_is_owned_in_its_view_only(self):
        userid, conn = self.guest_with_volume(
            self.c2, 'P', '500507680b21ac42', '0x0002000000000000',
            '/dev/sdy')
        rdevs = [r.upper() for r in conn['zvm_fcp']]

        at_m2 = self.lab.zvm.fcps(member=M2)
        at_m1 = self.lab.zvm.fcps(member=M1)

        self.assertEqual([userid] * len(rdevs),
                         [at_m2[r]['owner'] for r in rdevs])
        self.assertEqual({userid}, {d['owner'] for d in at_m2.values()
                                    if d['owner']})
        self.assertNotIn(userid, [d['owner'] for d in at_m1.values()])
        self.assertEqual(sorted(conn['wwpns']), sorted(
            at_m2[r]['npiv_wwpn'] for r in rdevs))

    # -- other per-member views --------------------------------------------
    def test_a_members_vswitches_list_the_nics_coupled_there(self):
        userid = self.running_guest()
        nic = '%s.1000' % userid

        def coupled(name):
            return self.lab.zvm.member(name)['vswitches']['VSW1'][
                'couplings']

        self.assertIn(nic, coupled(M1))
        self.assertNotIn(nic, coupled(M2))
        status, env = self.migrate(self.c1, userid, M2, 'move')
        self.assertEqual(200, status, env)
        self.assertNotIn(nic, coupled(M1))
        self.assertIn(nic, coupled(M2))
        self.assertIn(nic, self.lab.zvm.members()['members'][M2][
            'vswitches']['VSW1']['couplings'])


class TestSingleSystem(base.LabTestCase):
    """A lab of one system: it is its own (and only) member."""

    def test_member_named_after_the_system_is_the_system(self):
        userid = self.new_userid('P')
        self.conn.create_guest(userid)
        self.lab.zvm.inject_fault('Image_Activate', rc=300, rs=12,
                                  member='zvmlab01')

        status, env = self.conn.call('POST', '/guests/%s/action' % userid,
                                     {'action': 'start'})

        self.assertEqual((500, 300, 12), (status, env['rc'], env['rs']))
        self.assertEqual(self.lab.zvm.fcps(), self.lab.zvm.fcps(
            member='ZVMLAB01'))
        self.assertIn('smapi:Image_Activate',
                      self.lab.zvm.calls(member='ZVMLAB01'))

    def test_other_member_names_are_refused(self):
        e = self.assertRaises(fixture.LabError, self.lab.zvm.set_latency,
                              {'*': 1}, member='ZVMLAB02')
        self.assertIn('members > 1', str(e))
        self.assertEqual({}, self.lab.zvm.state()['member_latency'])


class TestLatencyLookup(testtools.TestCase):
    """Which profile answers for a call (no lab, no clock)."""

    def setUp(self):
        super().setUp()
        self.zvm = fake_zvm.FakeZVM(latency={'*': 0.01, 'cp:QUERY': 0.02})

    def test_members_profile_comes_before_the_clusters(self):
        self.zvm.set_latency({'smapi:*': 0.5}, member='zvmlab02')

        self.assertEqual(0.5, self.zvm._delay('smapi', 'Image_Activate',
                                              'ZVMLAB02'))
        # Calls its profile does not name fall back to the cluster's.
        self.assertEqual(0.02, self.zvm._delay('cp', 'QUERY USER X',
                                               'ZVMLAB02'))
        self.assertEqual(0.01, self.zvm._delay('smapi', 'Image_Activate',
                                               'ZVMLAB01'))

    def test_cluster_profile_replaced_without_touching_members(self):
        self.zvm.set_latency({'*': 0.3}, member='ZVMLAB02')
        self.zvm.set_latency({})

        self.assertEqual(0, self.zvm._delay('smapi', 'X', 'ZVMLAB01'))
        self.assertEqual(0.3, self.zvm._delay('smapi', 'X', 'ZVMLAB02'))

    def test_fault_for_a_member_counts_only_its_calls(self):
        self.zvm.inject_fault('Image_Activate', 300, nth=2,
                              member='ZVMLAB02')

        self.assertIsNone(self.zvm.record('smapi', 'Image_Activate'))
        self.assertIsNone(self.zvm.record('smapi', 'Image_Activate',
                                          'ZVMLAB02'))
        fault = self.zvm.record('smapi', 'Image_Activate', 'ZVMLAB02')

        self.assertEqual(300, fault.rc)
        self.assertEqual(['smapi:Image_Activate'],
                         self.zvm.calls(member='zvmlab01'))
        self.assertEqual(2, len(self.zvm.calls(member='ZVMLAB02')))
        self.assertEqual(3, len(self.zvm.calls()))


class TestMemberLatencyOption(testtools.TestCase):
    """nova-zvm-lab --member-latency NAME=PROFILE."""

    def lab_command(self, *args):
        state = tempfile.mkdtemp(prefix='nova-zvm-lab-cli-')
        self.addCleanup(shutil.rmtree, state, True)
        env = {k: v for k, v in os.environ.items()
               if k not in fixture.PROXY_VARIABLES}
        proc = subprocess.Popen(
            [sys.executable, '-m', 'nova_zvm.lab', '--state-dir', state] +
            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        self.addCleanup(self._kill, proc)
        return state, proc

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()

    def test_profile_applies_to_the_named_member_only(self):
        profile = os.path.join(tempfile.mkdtemp(), 'slow.json')
        self.addCleanup(shutil.rmtree, os.path.dirname(profile))
        with open(profile, 'w') as f:
            json.dump({'smapi:*': 0.25}, f)
        _, proc = self.lab_command('--members', '2', '--member-latency',
                                   'zvmlab02=%s' % profile)
        # Header, URL and token per member, state dir, control API.
        lines = [proc.stdout.readline().strip() for _ in range(7)]
        self.assertTrue(lines[6].startswith('control API: '), lines)
        self.assertIn('members/<name>/faults', lines[6])
        control = lines[6].split()[2]
        session = requests.Session()
        session.trust_env = False

        state = session.get(control + 'state', timeout=10).json()

        self.assertEqual({M2: {'smapi:*': 0.25}}, state['member_latency'])
        self.assertEqual({}, state['latency'])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(20))

    def test_unknown_member_stops_the_lab_naming_it(self):
        _, proc = self.lab_command('--member-latency', 'ZVMLAB02=zvm')

        _, err = proc.communicate(timeout=60)

        self.assertEqual(2, proc.returncode)
        self.assertIn('no system ZVMLAB02', err)
        self.assertIn('members > 1', err)

    def test_malformed_option_is_refused_before_starting(self):
        _, proc = self.lab_command('--member-latency', 'ZVMLAB02')

        out, err = proc.communicate(timeout=60)

        self.assertEqual(2, proc.returncode)
        self.assertIn('expected NAME=PROFILE', err)
        self.assertEqual('', out)
