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

"""The migration and evacuate modules on a single system and an SSI lab."""

import fixtures
from nova import exception as nova_exception
from nova import objects
from oslo_utils import timeutils

from nova_zvm.client import ZVMClient
from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.virt import evacuate
from nova_zvm.virt import migration
from nova_zvm.virt import ownership
from nova_zvm.virt import power
from nova_zvm.virt import ssi


def guest_with_nic(case, power='off'):
    """A guest with one NIC (register_vm wants one)."""
    inst = case.instance()
    userid = case.userid(inst)
    case.client.guest_create(userid, 1, 512, disk_list=[])
    case.client.guest_create_nic(userid, vdev='1000',
                                 mac_addr='02:00:00:00:%02x:%02x' % (
                                     inst.id // 256, inst.id % 256))
    if power == 'on':
        case.client.guest_start(userid)
    inst.launched_at = timeutils.utcnow()
    return inst


def image_meta():
    return objects.ImageMeta.from_dict(
        {'disk_format': 'raw', 'properties': {'os_distro': 'rhel8'}})


class SingleSystemTestCase(driver_base.DriverTestCase):

    def test_not_in_an_ssi(self):
        self.assertEqual((None, {}), ssi.cluster(self.client))
        err = self.assertRaises(nova_exception.MigrationPreCheckError,
                                migration.check_same_ssi, self.client,
                                'ZVMLAB01', 'OTHER')
        self.assertIn('not a member of an SSI cluster', str(err))

    def test_shared_directory_only_on_the_same_system(self):
        data = migration.shared_directory_data(self.client, 'zvmlab01')
        self.assertEqual({'ssi': None, 'system': 'ZVMLAB01'}, data)
        self.assertTrue(migration.shares_directory(self.client, 'ZVMLAB01',
                                                   data))
        self.assertFalse(migration.shares_directory(self.client, 'OTHER',
                                                    data))
        self.assertFalse(migration.shares_directory(self.client, 'OTHER',
                                                    None))

    def test_evacuated_guest_is_not_on_disk_outside_an_ssi(self):
        inst = self.guest('off')
        self.assertFalse(evacuate.instance_on_disk(self.client, inst))

    def test_release_and_adopt_keep_the_guest(self):
        inst = guest_with_nic(self)
        userid = self.userid(inst)
        owners = ownership.OwnerRegistry()
        owners.set(userid, inst.uuid)

        migration.release(self.client, self.driver._power, inst, [])
        self.assertNotIn(userid, self.client.guest_list())
        self.assertIsNone(owners.get(userid))
        # The directory entry is untouched.
        self.assertIn(userid, self.lab.zvm.state()['users'])
        # Releasing again is harmless.
        migration.release(self.client, self.driver._power, inst, [])

        migration.adopt(self.client, self.driver._power, inst, image_meta(),
                        [])
        self.assertIn(userid, self.client.guest_list())
        self.assertEqual(inst.uuid, owners.get(userid))
        # Managed again: it starts and can be destroyed.
        self.driver.power_on(self.context, inst, [])
        self.assertEqual('on', self.zvm_power(inst))
        self.driver.destroy(self.context, inst, [])
        self.assertNotIn(userid, self.lab.zvm.state()['users'])

    def test_rebuild_is_novas_own_unless_evacuating_in_an_ssi(self):
        inst = guest_with_nic(self)
        for evacuate_ in (False, True):
            self.assertRaises(NotImplementedError, self.driver.rebuild,
                              self.context, inst, image_meta(), [], None,
                              {}, [], None, None, network_info=[],
                              evacuate=evacuate_)
        self.assertIn(self.userid(inst), self.client.guest_list())

    def test_shared_storage_check_through_the_driver(self):
        data = self.driver.check_instance_shared_storage_local(
            self.context, self.instance())
        self.assertTrue(self.driver.check_instance_shared_storage_remote(
            self.context, data))
        self.assertFalse(self.driver.check_instance_shared_storage_remote(
            self.context, dict(data, system='ELSEWHERE')))

    def test_destroy_without_disks_keeps_the_guest(self):
        inst = self.guest('on')
        userid = self.userid(inst)
        self.driver.destroy(self.context, inst, [], destroy_disks=False)
        self.assertEqual('on', self.lab.zvm.state()['users'][userid]['power'])
        self.assertNotIn(userid, self.client.guest_list())
        self.assertNotIn(inst.uuid, self.driver.list_instance_uuids())


class SSITestCase(driver_base.DriverTestCase):

    lab_kwargs = {'members': 2}

    def test_members_of_the_cluster(self):
        name, members = ssi.cluster(self.client)
        self.assertEqual('LABSSI', name)
        self.assertEqual({'ZVMLAB01': 'Joined', 'ZVMLAB02': 'Joined'},
                         members)
        migration.check_same_ssi(self.client, 'ZVMLAB01', 'zvmlab02')
        err = self.assertRaises(nova_exception.MigrationPreCheckError,
                                migration.check_same_ssi, self.client,
                                'ZVMLAB01', 'ZVMLAB09')
        self.assertIn('not a member of SSI cluster LABSSI', str(err))

    def test_directory_is_shared_between_members(self):
        data = migration.shared_directory_data(self.client, 'ZVMLAB02')
        self.assertTrue(migration.shares_directory(self.client, 'ZVMLAB01',
                                                   data))

    def second_member(self):
        [second] = [m for m in self.lab.member_connectors
                    if m['name'] == 'ZVMLAB02']
        other = ZVMClient(second['url'], token_file=second['token_file'],
                          ca_file=second.get('ca_file'), max_retries=0)
        self.addCleanup(other.close)
        return other

    def bdms(self, *volume_ids):
        """The instance's block device mappings (nova's database)."""
        found = objects.BlockDeviceMappingList(objects=[
            objects.BlockDeviceMapping(source_type='volume',
                                       destination_type='volume',
                                       volume_id=v) for v in volume_ids])
        self.useFixture(fixtures.MockPatch(
            'nova.objects.BlockDeviceMappingList.get_by_instance_uuid',
            return_value=found))

    def test_guest_with_volumes_is_not_evacuated(self):
        inst = self.guest('off')
        self.bdms('vol-1')
        err = self.assertRaises(nova_exception.InstanceFaultRollback,
                                evacuate.instance_on_disk,
                                self.second_member(), inst)
        self.assertIn('vol-1', str(err.inner_exception))
        self.assertIn('Detach the volumes first', str(err.inner_exception))
        # Nothing changed: the first member still manages the guest.
        self.assertIn(self.userid(inst), self.client.guest_list())

    def test_guest_with_volumes_is_not_moved(self):
        inst = self.guest('on')
        self.bdms('vol-1', 'vol-2')
        err = self.assertRaises(nova_exception.MigrationPreCheckError,
                                migration.check_no_volumes, self.context,
                                inst, 'ZVMLAB01')
        self.assertIn('(vol-1, vol-2)', str(err))
        self.bdms()
        migration.check_no_volumes(self.context, inst, 'ZVMLAB01')

    def test_guest_of_a_member_is_on_disk_at_the_other(self):
        inst = self.guest('off')
        other = self.second_member()
        self.bdms()
        self.assertNotIn(self.userid(inst), other.guest_list())
        self.assertTrue(evacuate.instance_on_disk(other, inst))
        self.assertFalse(evacuate.instance_on_disk(other, self.instance()))

    def test_hand_over_a_stopped_guest_to_the_other_member(self):
        inst = guest_with_nic(self)
        userid = self.userid(inst)
        other = self.second_member()
        migration.release(self.client, self.driver._power, inst, [])
        migration.adopt(other, power.PowerOps(other), inst, image_meta(), [])
        self.assertNotIn(userid, self.client.guest_list())
        self.assertIn(userid, other.guest_list())
        other.guest_start(userid)
        self.assertIn(userid, self.lab.zvm.member('ZVMLAB02')['guests'])
        self.assertNotIn(userid, self.lab.zvm.member('ZVMLAB01')['guests'])
        other.guest_stop(userid)
        other.guest_delete(userid)
        self.assertNotIn(userid, self.lab.zvm.state()['users'])
