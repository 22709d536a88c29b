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

"""A failed spawn or a destroy never deletes a guest that is not ours."""

import os
import stat

from nova import exception as nova_exception
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import ownership
from nova_zvm.virt import spawn


class TestOwnership(spawn_base.SpawnTestCase):

    def _spawn(self, inst):
        image_meta = self.glance.add()
        manager = image.ImageManager(self.client, image_api=self.glance)
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    image_meta, [], 'secret', {}, [],
                    image_manager=manager)

    def _foreign_guest(self, userid):
        """A guest someone else made (another nova, an operator)."""
        self.client.guest_create(userid, 1, 512, disk_list=[
            {'size': '1g', 'is_boot_disk': True}])
        return self.user(userid)

    def test_spawn_over_a_foreign_guest_then_destroy_keeps_it(self):
        inst = self.instance()
        userid = inst.name.upper()
        before = self._foreign_guest(userid)
        self.assertRaises(nova_exception.InstanceExists, self._spawn, inst)
        # nova destroys the failed build
        spawn.destroy(self.client, self.context, inst, [])
        self.assertEqual(before['minidisks'], self.user(userid)['minidisks'])

    def test_create_conflict_in_spawn_keeps_the_other_guest(self):
        # The userid is taken but the connector's guest list does not show
        # it (a directory entry made outside the connector): the check
        # before the create passes, the create answers 409.
        inst = self.instance()
        userid = inst.name.upper()
        before = self._foreign_guest(userid)
        self.client.guest_deregister(userid)
        self.assertRaises(nova_exception.InstanceExists, self._spawn, inst)
        self.assertEqual(before['minidisks'], self.user(userid)['minidisks'])
        self.assertIsNone(ownership.OwnerRegistry().get(userid))
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNotNone(self.user(userid))

    def test_destroy_refuses_a_guest_recorded_for_another_instance(self):
        inst = self.instance()
        inst.launched_at = timeutils.utcnow()
        userid = inst.name.upper()
        self._foreign_guest(userid)
        ownership.OwnerRegistry().set(userid, uuidutils.generate_uuid())
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNotNone(self.user(userid))

    def test_unrecorded_guest_of_a_launched_instance_is_deleted(self):
        # Made by nova's in-tree driver or an older nova-zvm: accepted for
        # an instance nova launched.
        inst = self.instance()
        inst.launched_at = timeutils.utcnow()
        userid = inst.name.upper()
        self._foreign_guest(userid)
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNone(self.user(userid))
        self.assertIsNone(ownership.OwnerRegistry().get(userid))

    def test_unrecorded_guest_of_a_never_launched_instance_is_kept(self):
        inst = self.instance()
        inst.launched_at = None
        userid = inst.name.upper()
        self._foreign_guest(userid)
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNotNone(self.user(userid))

    def test_own_guest_is_recorded_privately_and_deleted(self):
        inst = self.instance()
        self._spawn(inst)
        userid = inst.name.upper()
        owners = ownership.OwnerRegistry()
        self.assertEqual(inst.uuid, owners.get(userid))
        self.assertEqual(0o700, stat.S_IMODE(os.stat(owners.path).st_mode))
        self.assertEqual(0o600, stat.S_IMODE(
            os.stat(os.path.join(owners.path, userid)).st_mode))
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNone(self.user(userid))
        self.assertIsNone(owners.get(userid))

    def test_half_created_own_guest_is_deleted(self):
        # guest_create fails after the directory entry was made (a disk):
        # the entry is this spawn's and goes.
        inst = self.instance()
        userid = inst.name.upper()
        self.lab.zvm.inject_fault('Image_Disk_Create_DM', rc=8, rs=99)
        self.assertRaises(zvm_exception.ZVMConnectorError, self._spawn, inst)
        self.assertIsNone(self.user(userid))
        self.assertIsNone(ownership.OwnerRegistry().get(userid))
