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


"""The directory starts with the system's own users, as a real one does."""

from nova_zvm.lab import sysusers
from nova_zvm.tests.unit.lab import base
from nova_zvm.tests.unit.lab import test_strict_smapi

SOME_SYSTEM_USERS = {'MAINT', 'OPERATOR', 'DIRMAINT', 'VSMGUARD', 'VSMWORK1',
                     'TCPIP', 'OPNCLOUD'}


class TestSystemUsersInSMAPI(test_strict_smapi.SMAPITestCase):

    def test_name_query_lists_them_and_state_marks_them(self):
        (rc, body) = self.call('Image_Name_Query_DM', '-T', 'OPNCLOUD')
        self.assertEqual((0, 0, 0), rc)
        self.assertLessEqual(SOME_SYSTEM_USERS, set(body.split()))
        state = self.zvm.state()
        self.assertTrue(all(state['users'][u]['system']
                            for u in SOME_SYSTEM_USERS))
        self.assertEqual({}, state['guests'])
        self.assertEqual(set(sysusers.SYSTEM_USERS) | {'OPNCLOUD'},
                         set(state['users']))

    def test_directory_changes_are_refused_100_12(self):
        before = self.zvm.state()['users']['MAINT']
        for function, args in [
                ('Image_Delete_DM', []),
                ('Image_IPL_Set_DM', ['-s', '0100']),
                ('Image_Disk_Create_DM', ['-v', '0100', '-t', '3390',
                                          '-a', 'AUTOG', '-r', 'POOL1',
                                          '-u', '1', '-z', '10']),
                ('Image_Lock_DM', [])]:
            rc, out = self.call(function, '-T', 'MAINT', *args)
            self.assertEqual((100, 12), rc[1:], (function, out))
        self.assertEqual(before, self.zvm.state()['users']['MAINT'])
        # Creating one is DirMaint's "already defined".
        rc, _ = self.call('Image_Create_DM', '-T', 'MAINT', '-f', '/none')
        self.assertEqual((400, 8), rc[1:])


class TestSystemUsersThroughConnector(base.LabTestCase):

    def test_directory_query_shows_them_guest_list_does_not(self):
        userid = self.new_userid()
        self.conn.create_guest(userid)
        directory = set(self.conn.ok('GET', '/host/guests'))
        self.assertLessEqual(SOME_SYSTEM_USERS | {userid}, directory)
        # The connector lists only the guests in its own database.
        guests = set(self.conn.ok('GET', '/guests'))
        self.assertIn(userid, guests)
        self.assertEqual(set(), guests & set(self.lab.zvm.state()['users'])
                         - set(self.lab.zvm.state()['guests']))
        self.conn.ok('DELETE', '/guests/%s' % userid)

    def test_delete_of_maint_is_refused_and_changes_nothing(self):
        before = self.lab.zvm.state()['users']['MAINT']
        self.lab.zvm.reset_calls()
        status, env = self.conn.call('DELETE', '/guests/MAINT')
        # zvmsdk's guest_delete refuses a user not in its database that
        # exists on z/VM (SDKObjectNotExistError: 404).
        self.assertEqual(404, status, env)
        self.assertIn('MAINT', env['errmsg'])
        self.assertNotIn('smapi:Image_Delete_DM', self.lab.zvm.calls())
        self.assertEqual(before, self.lab.zvm.state()['users']['MAINT'])

    def test_create_over_maint_fails_and_leaves_it_whole(self):
        before = self.lab.zvm.state()['users']['MAINT']
        status, env = self.conn.call('POST', '/guests', {'guest': {
            'userid': 'MAINT', 'vcpus': 1, 'memory': 512,
            'disk_list': [{'size': '1g', 'is_boot_disk': True}]}})
        self.assertNotEqual(200, status)
        self.assertEqual(before, self.lab.zvm.state()['users']['MAINT'])
        self.assertNotIn('MAINT', self.conn.ok('GET', '/guests'))
