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

"""Cold migration and resize between the two members of an SSI cluster.

The guest's entry and disks are shared: the source stops the guest and
its connector forgets it, the destination's adopts and starts it. No disk
is created or deployed; confirm and revert leave the guest managed by
exactly one member.
"""

from nova.compute import power_state

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures
from nova_zvm.tests.functional import ssi_base

# What a deploy or a new disk would run: a move must run none of them.
COPYING_CALLS = ('smapi:Image_Create_DM', 'smapi:Image_Disk_Create_DM',
                 'zthin:unpackdiskimage')


class ColdMigrationTest(ssi_base.SSITestCase):

    def setUp(self):
        super().setUp()
        self.small = self._create_flavor(
            name='zvm.small', vcpu=1, memory_mb=1024, disk=1, ephemeral=0)
        self.large = self._create_flavor(
            name='zvm.large', vcpu=2, memory_mb=2048, disk=1, ephemeral=0)

    def boot_at(self, host, flavor_id):
        server = self._build_server(image_uuid=base.IMAGE_ID,
                                    flavor_id=flavor_id, networks='auto',
                                    host=host)
        server = self.api.post_server({'server': server})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, host)
        return server

    def _action(self, server, action, status, body=None):
        self.api.post_server_action(server['id'], {action: body})
        return self.wait_for_status(server, status)

    def assert_granted_only_at(self, server, member):
        userid = base.userid_of(server)
        for name in (ssi_base.M1, ssi_base.M2):
            grants = self.member_state(name)['vswitches'][
                zvm_fixtures.VSWITCH]['grants']
            self.assertEqual(name == member, userid in grants, name)

    def assert_running(self, server, vcpus, memory_mb):
        guest = self.zvm_guest(server)
        self.assertEqual('on', guest['power'])
        self.assertEqual((vcpus, memory_mb),
                         (guest['active_vcpus'], guest['active_memory_mb']))
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])

    def test_migrate_confirm_then_reboot_and_delete(self):
        server = self.boot_at(ssi_base.HOST1, self.small)
        disks_before = self.zvm_guest(server)['minidisks']
        self.lab.zvm.reset_calls()

        server = self._action(server, 'migrate', 'VERIFY_RESIZE',
                              {'host': ssi_base.HOST2})
        self.assert_managed_by(server, ssi_base.HOST2)
        self.assert_running(server, 1, 1024)
        self.assertEqual(disks_before, self.zvm_guest(server)['minidisks'])
        calls = self.lab.zvm.calls()
        for call in COPYING_CALLS:
            self.assertNotIn(call, calls)
        self.assert_granted_only_at(server, ssi_base.M2)

        server = self._action(server, 'confirmResize', 'ACTIVE')
        self.assert_managed_by(server, ssi_base.HOST2)
        self.assert_running(server, 1, 1024)

        # The new host runs everything from now on.
        self.lab.zvm.reset_calls()
        server = self._action(server, 'reboot', 'ACTIVE', {'type': 'HARD'})
        self.assertEqual([], self.lab.zvm.calls(member=ssi_base.M1))
        self.assert_managed_by(server, ssi_base.HOST2)
        userid = base.userid_of(server)
        self.delete_server(server)
        self.assertNotIn(userid, self.lab.zvm.state()['users'])
        self.assertEqual({}, self.owner_records_at(ssi_base.HOST2))

    def test_migrate_and_revert(self):
        server = self.boot_at(ssi_base.HOST1, self.small)
        server = self._action(server, 'migrate', 'VERIFY_RESIZE',
                              {'host': ssi_base.HOST2})
        self.assert_managed_by(server, ssi_base.HOST2)

        server = self._action(server, 'revertResize', 'ACTIVE')
        self._wait_for_migration_status(server, ['reverted'])
        self.assert_managed_by(server, ssi_base.HOST1)
        self.assert_running(server, 1, 1024)
        self.assert_granted_only_at(server, ssi_base.M1)

        userid = base.userid_of(server)
        self.delete_server(server)
        self.assertNotIn(userid, self.lab.zvm.state()['users'])

    def test_resize_to_the_other_member(self):
        server = self.boot_at(ssi_base.HOST1, self.small)
        server = self._action(server, 'resize', 'VERIFY_RESIZE',
                              {'flavorRef': self.large})
        self.assert_managed_by(server, ssi_base.HOST2)
        self.assert_running(server, 2, 2048)
        server = self._action(server, 'confirmResize', 'ACTIVE')
        self.assert_managed_by(server, ssi_base.HOST2)
        self.assert_running(server, 2, 2048)
        self.delete_server(server)

    def test_migrate_stopped_server_stays_stopped(self):
        server = self.boot_at(ssi_base.HOST1, self.small)
        server = self._action(server, 'os-stop', 'SHUTOFF')
        server = self._action(server, 'migrate', 'VERIFY_RESIZE',
                              {'host': ssi_base.HOST2})
        self.assertEqual('off', self.zvm_guest(server)['power'])
        self.assertEqual([ssi_base.M2], self.registered_at(server))
        self.assertEqual([ssi_base.HOST2], self.owners_of(server))
        server = self._action(server, 'confirmResize', 'SHUTOFF')
        # Started from its new member.
        server = self._action(server, 'os-start', 'ACTIVE')
        self.assert_managed_by(server, ssi_base.HOST2)
        self.delete_server(server)
