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

"""A failed build's guest is deleted although the first deletes fail.

Found by the 30-minute soak (seed 20261201): guest_create failed at the
minidisk step (DirMaint), the rollback's delete failed (the connector was
down), nova's destroy failed too (DirMaint failed Image_Delete_DM); nova
then cleared the instance's host, the user's delete never reached the
driver and the guest outlived its server.
"""

import fixtures
from oslo_utils import uuidutils

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import ownership
from nova_zvm.virt import spawn
from nova_zvm.virt import teardown


class FailedBuildCleanupTest(spawn_base.SpawnTestCase):

    def setUp(self):
        super().setUp()
        # Same number of attempts, no waiting.
        self.useFixture(fixtures.MonkeyPatch(
            'nova_zvm.virt.teardown.DELETE_RETRY_DELAYS',
            (0,) * len(teardown.DELETE_RETRY_DELAYS)))
        self.addCleanup(self.lab.zvm.clear_faults)
        self.image_meta = self.glance.add()
        self.manager = image.ImageManager(self.client, image_api=self.glance)

    def _failed_spawn(self, inst, vifs):
        # DirMaint fails the minidisk step of guest_create: the user is
        # in the directory (and the connector's database) without disks.
        self.lab.zvm.inject_fault('Image_Disk_Create_DM', rc=596, rs=3610)
        err = self.assertRaises(zvm_exception.ZVMConnectorError,
                                spawn.spawn, self.client, self.virtapi,
                                self.context, inst, self.image_meta, [],
                                'secret', {}, vifs,
                                image_manager=self.manager)
        # The build's own error, not one from its cleanup.
        self.assertEqual('guest_create', err.api)

    def _nothing_left(self, userid, pools_before):
        state = self.lab.zvm.state()
        self.assertNotIn(userid, state['users'])
        for name, vsw in state['vswitches'].items():
            self.assertNotIn(userid, vsw.get('grants', {}), name)
        self.assertEqual(pools_before,
                         {n: p['free'] for n, p in state['pools'].items()},
                         'minidisk space not returned')
        self.assertNotIn(userid, [u.upper()
                                  for u in self.client.guest_list()])
        self.assertEqual([], self.local_files())

    def _pools(self):
        return {n: p['free']
                for n, p in self.lab.zvm.state()['pools'].items()}

    def test_rollback_repeats_a_failed_delete(self):
        inst, userid, vifs, pools = self._new_guest()
        # The deletes fail as many times as they may: the last repeat wins.
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=596, rs=3610,
                                  count=len(teardown.DELETE_RETRY_DELAYS))
        self._failed_spawn(inst, vifs)
        self._nothing_left(userid, pools)

        spawn.destroy(self.client, self.context, inst, vifs)
        self._nothing_left(userid, pools)

    def test_destroy_deletes_what_the_rollback_could_not(self):
        inst, userid, vifs, pools = self._new_guest()
        # Every delete of the rollback fails: the guest stays for now.
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=596, rs=3610,
                                  count=len(teardown.DELETE_RETRY_DELAYS) + 1)
        self._failed_spawn(inst, vifs)
        self.assertIn(userid, self.lab.zvm.state()['users'])

        # nova's destroy of the failed build (its first delete fails too).
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=100, rs=0)
        spawn.destroy(self.client, self.context, inst, vifs)
        self._nothing_left(userid, pools)

    def test_delete_gives_up_after_its_attempts(self):
        inst = self.instance()
        userid = inst.name.upper()
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=596, rs=3610,
                                  count=0)
        self._failed_spawn(inst, [])
        err = self.assertRaises(zvm_exception.ZVMFailure, spawn.destroy,
                                self.client, self.context, inst, [])
        self.assertEqual(596, err.rc)
        self.assertIn(userid, self.lab.zvm.state()['users'])

        self.lab.zvm.clear_faults()
        spawn.destroy(self.client, self.context, inst, [])
        self.assertNotIn(userid, self.lab.zvm.state()['users'])

    def _new_guest(self):
        """An instance, its userid, one VIF and the disk pools before."""
        inst = self.instance()
        return (inst, inst.name.upper(), [self.vif(0, physnet='physnet1')],
                self._pools())

    def _listed(self, userid):
        return userid in [u.upper() for u in self.client.guest_list()]

    def test_destroy_deletes_an_own_guest_the_connector_lost(self):
        # The connector answers 404 to guest_delete for a user in z/VM's
        # directory that is not in its database, and would keep it.
        inst, userid, vifs, pools = self._new_guest()
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=596, rs=3610,
                                  count=len(teardown.DELETE_RETRY_DELAYS) + 1)
        self._failed_spawn(inst, vifs)
        self.client.guest_deregister(userid)
        self.assertIn(userid, self.lab.zvm.state()['users'])
        self.assertFalse(self._listed(userid))

        spawn.destroy(self.client, self.context, inst, vifs)
        self._nothing_left(userid, pools)
        self.assertIsNone(ownership.OwnerRegistry().get(userid))

    def test_destroy_of_an_own_guest_gone_everywhere_succeeds(self):
        inst = self.instance()
        userid = inst.name.upper()
        ownership.OwnerRegistry().set(userid, inst.uuid)
        spawn.destroy(self.client, self.context, inst, [])
        self.assertNotIn(userid, self.lab.zvm.state()['users'])
        self.assertFalse(self._listed(userid))
        self.assertIsNone(ownership.OwnerRegistry().get(userid))

    def test_foreign_guest_the_connector_lost_is_left_alone(self):
        inst = self.instance()
        userid = inst.name.upper()
        self.client.guest_create(userid, 1, 512, disk_list=[
            {'size': '1g', 'is_boot_disk': True}])
        self.client.guest_deregister(userid)
        ownership.OwnerRegistry().set(userid, uuidutils.generate_uuid())
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIn(userid, self.lab.zvm.state()['users'])
        self.assertFalse(self._listed(userid))
