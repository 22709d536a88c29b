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


"""An SSI lab: two members, each with its own Cloud Connector."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import types

import fixtures
import requests
import testtools

from nova_zvm.lab import fixture
from nova_zvm.lab import guestnet
from nova_zvm.lab import ssi
from nova_zvm.lab import storage
from nova_zvm.lab import zvm as fake_zvm
from nova_zvm.tests.unit.lab import base

M1, M2 = 'ZVMLAB01', 'ZVMLAB02'


def member_connector(lab, name):
    """A Connector for one member's Cloud Connector."""
    info = next(m for m in lab.member_connectors if m['name'] == name)
    return base.Connector(types.SimpleNamespace(
        url=info['url'], token_file=info['token_file'],
        ca_file=info['ca_file']))


class SSITestCase(base.LabTestCase):
    lab_kwargs = {'members': 2}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c1 = member_connector(cls.lab, M1)
        cls.c2 = member_connector(cls.lab, M2)

    def where(self, userid):
        members = self.lab.zvm.members()['members']
        return [n for n, m in members.items() if userid in m['guests']]

    def running_guest(self, conn=None, grant_on=(M1, M2)):
        """A guest created and logged on through ``conn`` (member 1's).

        Its NIC 1000 is coupled to VSW1, granted at the members named.
        Each connector has its own database: member 2's refuses a grant
        (and any call) for a guest it has not registered, and zvmsdk's
        register_vm reads the NICs of the guest logged on locally - so
        member 2's grant here is one made outside its connector.
        """
        conn = conn or self.c1
        userid = self.new_userid('S')
        conn.create_guest(userid)
        conn.ok('POST', '/guests/%s/nic' % userid, {'nic': {'vdev': '1000'}})
        if M1 in grant_on:
            self.lab.zvm.set_member(M1, grants={'VSW1': [userid]})
        if M2 in grant_on:
            self.lab.zvm.set_member(M2, grants={'VSW1': [userid]})
        conn.ok('PUT', '/guests/%s/nic/1000' % userid, {
            'info': {'couple': True, 'vswitch': 'VSW1', 'active': False}})
        conn.action(userid, 'start')
        return userid

    def migrate(self, conn, userid, dest, operation):
        return conn.call('POST', '/guests/%s/action' % userid, {
            'action': 'live_migrate_vm', 'destination': dest,
            'operation': operation, 'parms': {}})

    def guest_with_volume(self, conn, prefix, target, lun, mount_point):
        """A running guest with a mapped LUN attached over its FCPs.

        :returns: (userid, the connector's FCP connection info)
        """
        userid = self.new_userid(prefix)
        conn.create_guest(userid)
        conn.action(userid, 'start')
        tmpl = conn.ok('POST', '/volumes/fcptemplates', {
            'name': 'tmpl-%s' % userid,
            'fcp_devices': '1a00-1a07;1b00-1b07'})
        info = conn.ok('GET', '/volumes/conn/%s' % userid, {'info': {
            'reserve': True,
            'fcp_template_id': tmpl['fcp_template']['id']}})
        self.lab.zvm.create_lun(target, lun)
        self.lab.zvm.map_lun(info['wwpns'], target, lun)
        conn.ok('POST', '/guests/volumes', {'info': {'connection': {
            'assigner_id': userid, 'zvm_fcp': info['zvm_fcp'],
            'target_wwpn': ['0x' + target], 'target_lun': lun,
            'os_version': 'rhel8.6', 'multipath': 'true',
            'mount_point': mount_point, 'is_root_volume': False}}})
        return userid, info


class TestSSICluster(SSITestCase):

    def test_each_member_has_its_own_connector_and_token(self):
        self.assertEqual([M1, M2],
                         [m['name'] for m in self.lab.member_connectors])
        self.assertEqual(self.lab.url, self.lab.member_connectors[0]['url'])
        urls = {m['url'] for m in self.lab.member_connectors}
        tokens = {m['token_file'] for m in self.lab.member_connectors}
        self.assertEqual(2, len(urls))
        self.assertEqual(2, len(tokens))
        # A token of one member's connector is no good at the other's.
        status, _ = self.c2.call(
            'GET', '/guests', headers={'X-Auth-Token': self.c1.new_token()})
        self.assertEqual(401, status)

    def test_ssi_query_lists_the_members_on_both(self):
        for conn in (self.c1, self.c2):
            lines = conn.ok('GET', '/host/ssi')
            self.assertIn('ssi_name = LABSSI', lines)
            self.assertIn('member_system_id = %s' % M1, lines)
            self.assertIn('member_system_id = %s' % M2, lines)
        self.assertEqual(M2, self.c2.ok('GET', '/host')['zvm_host'])
        self.assertEqual(M1, self.c1.ok('GET', '/host')['zvm_host'])

    def test_directory_is_shared_and_guests_are_per_member(self):
        userid = self.new_userid('S')
        self.c2.create_guest(userid)
        self.assertIsNotNone(self.user(userid))
        direct = self.c2.ok('GET', '/guests/%s/user_direct' % userid)
        self.assertIn('USER %s' % userid, direct['user_direct'][0])
        self.c2.action(userid, 'start')
        self.assertEqual([M2], self.where(userid))
        self.assertEqual('on', self.c2.ok(
            'GET', '/guests/%s/power_state' % userid))
        # Member 1 answers "userid - SSI" for it (logged on elsewhere).
        self.assertIn(userid, self.c2.ok('GET', '/guests'))
        self.assertNotIn(userid, self.c1.ok('GET', '/guests'))

    def test_relocate_test_then_move_then_start_anywhere(self):
        userid = self.running_guest()
        self.assertEqual([M1], self.where(userid))
        status, env = self.migrate(self.c1, userid, M2, 'test')
        self.assertEqual(200, status, env)
        self.assertEqual([M1], self.where(userid))

        status, env = self.migrate(self.c1, userid, M2, 'move')
        self.assertEqual(200, status, env)
        self.assertEqual([M2], self.where(userid))
        user = self.user(userid)
        self.assertEqual('on', user['power'])
        # Devices and NICs came along, still coupled.
        self.assertEqual(['0100'], sorted(user['minidisks']))
        self.assertTrue(user['nics']['1000']['coupled_active'])
        self.assertEqual('VSW1', user['nics']['1000']['vswitch'])
        self.assertIn('relocated from %s to %s' % (M1, M2), user['console'])
        # The source's connector no longer lists it...
        self.assertNotIn(userid, self.c1.ok('GET', '/guests'))
        # ...and refuses calls for it (its record is marked migrated).
        status, _ = self.c1.call('POST', '/guests/%s/action' % userid,
                                 {'action': 'stop'})
        self.assertEqual(404, status)
        self.assertEqual([M2], self.where(userid))
        # The destination's connector manages it once registered.
        self.c2.action(userid, 'register_vm', meta='rhel8', net_set='1')
        self.assertIn(userid, self.c2.ok('GET', '/guests'))
        self.assertEqual('on', self.c2.ok(
            'GET', '/guests/%s/power_state' % userid))

        # Stopped, the guest (one shared directory entry) can log on at
        # either member: member 1's connector takes it back by
        # registering it again (its record was marked migrated).
        self.c2.action(userid, 'stop')
        self.assertEqual([], self.where(userid))
        self.c1.action(userid, 'register_vm', meta='rhel8', net_set='1')
        self.c1.action(userid, 'start')
        self.assertEqual([M1], self.where(userid))
        # While it runs at member 1, member 2's start finds it active
        # (200/8, zvmsdk's "already started"): it stays where it is.
        self.c2.action(userid, 'start')
        self.assertEqual([M1], self.where(userid))

    def assertRefused(self, conn, userid, dest, details, source=M1):
        for operation in ('test', 'move'):
            status, env = self.migrate(conn, userid, dest, operation)
            self.assertEqual(500, status, env)
            self.assertIn(details, env['errmsg'])
            self.assertEqual([source], self.where(userid))

    def test_relocate_refused_when_destination_is_source(self):
        userid = self.running_guest()
        self.assertRefused(self.c1, userid, M1, 'the destination is the '
                                                'source system')

    def test_relocate_refused_to_a_system_outside_the_cluster(self):
        userid = self.running_guest()
        self.assertRefused(self.c1, userid, 'ZVMLAB09',
                           'ZVMLAB09 is not a member of SSI cluster')

    def test_relocate_refused_without_grant_at_destination(self):
        userid = self.running_guest(grant_on=(M1,))
        self.assertRefused(self.c1, userid, M2, 'is not authorized to '
                                                'VSWITCH VSW1 on %s' % M2)

    def test_relocate_refused_without_vswitch_at_destination(self):
        self.lab.zvm.set_member(M1, vswitches=['VSW8'])
        self.addCleanup(self.lab.zvm.set_member, M1,
                        remove_vswitches=['VSW8'])
        userid = self.running_guest()
        # Couple the running NIC to a vswitch member 2 does not have.
        self.c1.ok('PUT', '/vswitches/VSW8',
                   {'vswitch': {'grant_userid': userid}})
        self.c1.ok('PUT', '/guests/%s/nic/1000' % userid, {
            'info': {'couple': False, 'active': True}})
        self.c1.ok('PUT', '/guests/%s/nic/1000' % userid, {
            'info': {'couple': True, 'vswitch': 'VSW8', 'active': True}})
        self.assertRefused(self.c1, userid, M2, 'VSWITCH VSW8, which is not '
                                                'defined on %s' % M2)

    def test_relocate_refused_when_destination_lacks_memory(self):
        userid = self.running_guest()
        self.lab.zvm.set_member(M2, memory_mb=512)
        self.addCleanup(self.lab.zvm.set_member, M2, memory_mb=262144)
        self.assertRefused(self.c1, userid, M2, '%s has too little storage'
                           % M2)

    def test_relocate_refused_when_a_dedicated_fcp_is_offline_there(self):
        userid, conn = self.guest_with_volume(
            self.c1, 'S', '500507680b21ac41', '0x0001000000000000',
            '/dev/sdz')
        self.assertIn('sdz', self.lab.zvm.volumes(userid)['scsi_disks'])
        rdev = conn['zvm_fcp'][0].upper()
        self.lab.zvm.set_member(M2, fcps_offline=[rdev])
        self.addCleanup(self.lab.zvm.set_member, M2, fcps_offline=[])
        self.assertRefused(self.c1, userid, M2, 'dedicated device %s' % rdev)
        # With the device back online there, nothing stands in the way.
        self.lab.zvm.set_member(M2, fcps_offline=[])
        status, env = self.migrate(self.c1, userid, M2, 'test')
        self.assertEqual(200, status, env)

    def test_relocate_refused_when_not_logged_on_here(self):
        userid = self.new_userid('S')
        self.c1.create_guest(userid)
        self.assertEqual(0, self.lab.zvm.logon_at(M2, userid)['rc'])
        # Member 1's connector sees it on ("userid - SSI"), but member
        # 1's CP does not have it logged on.
        status, env = self.migrate(self.c1, userid, M2, 'move')
        self.assertEqual(500, status, env)
        self.assertIn('not logged on', env['errmsg'])
        self.assertEqual([M2], self.where(userid))

    def test_member_cannot_stop_a_guest_logged_on_elsewhere(self):
        userid = self.new_userid('S')
        self.c1.create_guest(userid)
        self.lab.zvm.logon_at(M2, userid)
        # SMAPI at member 1 answers "not active" (200/12), which zvmsdk
        # takes for "already stopped": the guest runs on at member 2.
        self.c1.action(userid, 'stop')
        self.assertEqual([M2], self.where(userid))
        self.assertEqual('on', self.user(userid)['power'])

    def test_relocate_of_a_stopped_guest_is_refused_by_the_connector(self):
        userid = self.new_userid('S')
        self.c1.create_guest(userid)
        status, env = self.migrate(self.c1, userid, M2, 'test')
        self.assertEqual(409, status, env)
        self.assertEqual([], self.where(userid))


class TestFailedMember(SSITestCase):

    def test_failed_member_loses_its_guests_and_connector(self):
        on_2 = self.running_guest(self.c2, grant_on=(M2,))
        on_1 = self.running_guest(self.c1, grant_on=(M1,))
        self.assertEqual([M2], self.where(on_2))
        self.lab.zvm.fail_member(M2)

        self.assertEqual('off', self.user(on_2)['power'])
        self.assertEqual([M1], self.where(on_1))
        members = self.lab.zvm.members()['members']
        self.assertTrue(members[M2]['failed'])
        self.assertEqual([], members[M2]['guests'])
        self.assertRaises(requests.ConnectionError, self.c2.call,
                          'GET', '/guests', timeout=5)
        self.assertIn('member_state = Down', self.c1.ok('GET', '/host/ssi'))
        # The shared directory keeps the guest for an evacuation.
        self.assertIn('0100', self.user(on_2)['minidisks'])


class TestCommand(testtools.TestCase):

    def test_members_2_prints_both_connectors_and_their_tokens(self):
        state = tempfile.mkdtemp(prefix='nova-zvm-lab-cli-')
        self.addCleanup(shutil.rmtree, state, True)
        env = {k: v for k, v in os.environ.items()
               if k not in fixture.PROXY_VARIABLES}
        proc = subprocess.Popen(
            [sys.executable, '-m', 'nova_zvm.lab', '--members', '2',
             '--state-dir', state], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=env)
        self.addCleanup(self._kill, proc)
        # Header, then per member its URL and token file.
        lines = [proc.stdout.readline().strip() for _ in range(5)]
        self.assertEqual('nova-zvm lab: SSI cluster of 2 members', lines[0])
        session = requests.Session()
        session.trust_env = False
        for name, url_line, token_line in ((M1, lines[1], lines[2]),
                                           (M2, lines[3], lines[4])):
            self.assertTrue(url_line.startswith('member %s: ' % name),
                            lines)
            url = url_line.rsplit(' ', 1)[1]
            with open(token_line.rsplit(' ', 1)[1]) as f:
                admin = f.read()
            r = session.post(url + '/token', timeout=10,
                             headers={'X-Admin-Token': admin})
            self.assertEqual(200, r.status_code)
            host = session.get(url + '/host', timeout=10, headers={
                'X-Auth-Token': r.headers['X-Auth-Token']}).json()
            self.assertEqual(name, host['output']['zvm_host'])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(20))
        self.assertRaises(requests.ConnectionError, session.get,
                          url + '/', timeout=5)

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()


class TestLogonSeenWhole(testtools.TestCase):
    """A member's CP never sees its own guest's logon half done.

    zvmsdk's check_guests_exist_in_db (run before most guest calls) asks
    CP ``QUERY userid`` and marks a guest migrated in its database when CP
    answers "- SSI": a query that ran while the guest was logging on at
    this member, and saw it logged on at another, lost the guest from this
    member's connector.
    """

    def test_query_during_logon_sees_the_guest_here(self):
        zvm = fake_zvm.FakeZVM()
        zvm.storage = storage.StorageArray()
        cluster = ssi.Cluster(zvm, 2)
        state = tempfile.mkdtemp(prefix='nova-zvm-lab-ssi-')
        self.addCleanup(shutil.rmtree, state, True)
        paths = {'state': state, 'spool': state}
        here = cluster.dispatcher(M2, paths)
        zvm.new_user('LOSTG1', 1, 512, 2, 1024, 'OSDFLT')
        answers, threads = [], []

        def query():
            try:
                answers.append(here.run(['vmcp', 'q', 'LOSTG1']))
            except fake_zvm.CommandFailed as e:
                answers.append(e.output)

        boot = guestnet.boot

        def boot_with_a_query(*args):
            # Another request of this member's connector, mid-logon.
            other = threading.Thread(target=query)
            threads.append(other)
            other.start()
            other.join(0.5)
            return boot(*args)

        self.useFixture(fixtures.MockPatchObject(guestnet, 'boot',
                                                 boot_with_a_query))
        here.run(['smcli', 'Image_Activate', '-T', 'LOSTG1'])
        for thread in threads:
            thread.join(10)

        self.assertEqual(M2, cluster.where('LOSTG1'))
        self.assertEqual(1, len(answers))
        self.assertNotIn(' - SSI', answers[0])
