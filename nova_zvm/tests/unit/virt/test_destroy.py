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

"""Destroy on the lab: idempotent, and it leaves nothing behind."""

import os

from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import configdrive
from nova_zvm.virt import image
from nova_zvm.virt import ownership
from nova_zvm.virt import spawn


class TestDestroy(spawn_base.SpawnTestCase):

    def _spawned(self, vifs):
        inst = self.instance()
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.glance.add(), [], None, {}, vifs,
                    image_manager=image.ImageManager(
                        self.client, image_api=self.glance))
        return inst

    def _pools(self):
        return {n: p['free'] for n, p in
                self.lab.zvm.state()['pools'].items()}

    def test_destroy_of_an_absent_guest_succeeds(self):
        inst = self.instance()
        spawn.destroy(self.client, self.context, inst, [self.vif(0)])
        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNone(self.user(inst.name))

    def test_destroy_with_an_invalid_name_succeeds(self):
        self.conf.config(instance_name_template='instance-%08x')
        self.lab.zvm.reset_rest_calls()
        spawn.destroy(self.client, self.context, self.instance(), [])
        self.assertEqual([], self.changing_rest_calls())

    def test_destroy_removes_guest_disks_and_grants(self):
        pools = self._pools()
        vifs = [self.vif(0), self.vif(1, physnet='physnet2', vlan=9)]
        inst = self._spawned(vifs)
        self.assertEqual({'VSW1': None, 'VSW2': 9}, self.grants(inst.name))
        spawn.destroy(self.client, self.context, inst, vifs)
        self.assertIsNone(self.user(inst.name))
        self.assertEqual({}, self.grants(inst.name))
        self.assertEqual(pools, self._pools())
        # and again: idempotent
        spawn.destroy(self.client, self.context, inst, vifs)

    def test_destroy_revokes_a_grant_without_a_coupled_nic(self):
        # A spawn interrupted after granting (compute crash): the connector
        # knows of no NIC coupled to the vswitch, so it will not revoke.
        inst = self.instance()
        self.client.guest_create(inst.name.upper(), 1, 512, disk_list=[
            {'size': '1g', 'is_boot_disk': True}])
        self.client.vswitch_grant_user('VSW2', inst.name.upper())
        # as the interrupted spawn recorded it before guest_create
        ownership.OwnerRegistry().set(inst.name.upper(), inst.uuid)
        self.assertEqual({'VSW2': None}, self.grants(inst.name))
        spawn.destroy(self.client, self.context, inst,
                      [self.vif(0, physnet='physnet2')])
        self.assertEqual({}, self.grants(inst.name))
        self.assertIsNone(self.user(inst.name))

    def test_destroy_removes_the_local_config_drive(self):
        inst = self._spawned([])
        # as left by a spawn that died before uploading it
        path = configdrive.local_path(inst)
        os.makedirs(os.path.dirname(path))
        with open(path, 'wb') as f:
            f.write(b'iso')
        spawn.destroy(self.client, self.context, inst, [])
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(configdrive.instance_dir(inst)))
        self.assertEqual([], self.local_files())

    def test_cleanup_local_keeps_foreign_files(self):
        inst = self.instance()
        path = configdrive.local_path(inst)
        os.makedirs(os.path.dirname(path))
        for name in (path, os.path.join(os.path.dirname(path), 'other')):
            with open(name, 'wb') as f:
                f.write(b'x')
        spawn.cleanup_local(inst)
        self.assertEqual([os.path.join(configdrive.instance_dir(inst),
                                       'other')], self.local_files())
