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

"""live_migration: the checks and the move, on a two-member SSI lab."""

from nova import exception as nova_exception
from nova.network import model as network_model
from nova import objects
from oslo_config import fixture as config_fixture

from nova_zvm import conf
from nova_zvm.tests.unit.virt import ssi_base
from nova_zvm.virt import live_migration
from nova_zvm.virt import power as zvm_power

CONF = conf.CONF
M1, M2 = ssi_base.M1, ssi_base.M2
VSWITCH = ssi_base.VSWITCH
SOURCE = {'hypervisor_hostname': M1}
DEST = {'hypervisor_hostname': M2}


class LiveMigrationTestCase(ssi_base.SSITestCase):

    def setUp(self):
        super().setUp()
        cfg = self.useFixture(config_fixture.Config(CONF))
        cfg.config(vswitch_mappings={'physnet1': VSWITCH}, group='zvm')
        cfg.config(vif_plugging_timeout=0, host='compute2')
        # Each test's guests are new: no grant of a former one at M2.
        self.lab.zvm.set_member(M2, remove_vswitches=[VSWITCH])
        self.lab.zvm.set_member(M2, vswitches=[VSWITCH])

    def migrating(self, authorized=True):
        """A running guest at M1 with its VIF in nova's network info."""
        inst, nw_info = self.running_guest(
            grant_on=(M1, M2) if authorized else (M1,))
        vif = network_model.VIF(
            id=nw_info[0]['id'], address=nw_info[0]['address'],
            network=network_model.Network(
                id='net', meta={'physical_network': 'physnet1'}))
        inst.info_cache = objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo([vif]))
        return inst

    def check_destination(self, inst, source=SOURCE, block=False):
        return live_migration.check_destination(
            self.clients[M2], inst, source, DEST, block_migration=block)

    def assertRefused(self, why, func, *args, **kwargs):
        err = self.assertRaises(nova_exception.MigrationPreCheckError,
                                func, *args, **kwargs)
        self.assertIn(why, str(err))
        return err

    def test_ssi_members(self):
        self.assertEqual(('LABSSI', {M1: 'Joined', M2: 'Joined'}),
                         live_migration.ssi_members(self.clients[M2]))

    def test_checks_pass_then_move_and_hand_over(self):
        inst = self.migrating()
        data = self.check_destination(inst)
        # A migrate_data nova's conductor can carry, naming the member.
        self.assertIsInstance(data, objects.HyperVLiveMigrateData)
        self.assertFalse(data.is_shared_instance_path)
        self.assertEqual(M2, data.migration.dest_node)
        self.assertIs(data, live_migration.check_source(
            self.clients[M1], inst, data, {'block_device_mapping': []}))
        self.assertIs(data, live_migration.pre_live_migration(
            self.clients[M2], inst, inst.get_network_info(), data))
        self.assertEqual([M1], self.where(inst))

        calls = []
        power = zvm_power.PowerOps(self.clients[M1])
        live_migration.live_migrate(
            self.clients[M1], power, self.context, inst, 'compute2',
            lambda *a: calls.append(('post',) + a),
            lambda *a: calls.append(('recover',) + a), False, data)
        self.assertEqual([('post', self.context, inst, 'compute2', False,
                           data)], calls)
        self.assertEqual([M2], self.where(inst))
        self.assertEqual([], self.managed_at(inst))

        live_migration.adopt(self.clients[M2], inst, inst.get_network_info())
        self.assertEqual([M2], self.managed_at(inst))
        self.assertEqual('on', self.clients[M2].guest_get_power_state(
            self.userid(inst)))

    def test_failed_move_recovers_at_the_source(self):
        inst = self.migrating()
        data = self.check_destination(inst)
        self.lab.zvm.inject_fault('VMRELOCATE', rc=8, rs=3000, member=M1)
        calls = []
        live_migration.live_migrate(
            self.clients[M1], zvm_power.PowerOps(self.clients[M1]),
            self.context, inst, 'compute2',
            lambda *a: calls.append('post'),
            lambda *a: calls.append('recover'), False, data)
        self.assertEqual(['recover'], calls)
        self.assertEqual([M1], self.where(inst))
        self.assertEqual([M1], self.managed_at(inst))
        # The destination's rollback leaves the source's guest alone.
        live_migration.rollback_at_destination(self.clients[M2], inst)
        self.assertEqual([M1], self.managed_at(inst))
        self.assertEqual('on', self.user(self.userid(inst))['power'])

    def test_block_migration_refused(self):
        self.assertRefused('block migration is not supported',
                           self.check_destination, self.migrating(),
                           block=True)

    def test_source_outside_the_cluster_refused(self):
        self.assertRefused('are not members of the same SSI cluster',
                           self.check_destination, self.migrating(),
                           source={'hypervisor_hostname': 'ZVMLAB09'})

    def test_missing_vswitch_refused(self):
        inst = self.migrating()
        self.lab.zvm.set_member(M2, remove_vswitches=[VSWITCH])
        self.assertRefused('VSW1, which SSI member ZVMLAB02 does not define',
                           self.check_destination, inst)
        self.assertEqual([M1], self.where(inst))

    def test_unauthorized_guest_refused(self):
        self.assertRefused('is not authorized on vswitch VSW1 at SSI member '
                           'ZVMLAB02', self.check_destination,
                           self.migrating(authorized=False))

    def test_too_little_memory_refused(self):
        inst = self.migrating()
        memory = self.lab.zvm.member(M2)['memory_mb']
        self.addCleanup(self.lab.zvm.set_member, M2, memory_mb=memory)
        self.lab.zvm.set_member(M2, memory_mb=256)
        self.assertRefused('the guest needs 512 MB', self.check_destination,
                           inst)

    def test_waiting_for_vif_events_refused(self):
        self.useFixture(config_fixture.Config(CONF)).config(
            vif_plugging_timeout=300)
        self.assertRefused('live_migration_wait_for_vif_plug = False',
                           self.check_destination, self.migrating())

    def test_stopped_guest_refused(self):
        inst = self.migrating()
        data = self.check_destination(inst)
        self.clients[M1].guest_stop(self.userid(inst))
        self.assertRefused('only a running guest can be relocated',
                           live_migration.check_source, self.clients[M1],
                           inst, data, None)

    def test_guest_with_volumes_refused(self):
        inst = self.migrating()
        data = self.check_destination(inst)
        self.assertRefused('has volumes attached',
                           live_migration.check_source, self.clients[M1],
                           inst, data, {'block_device_mapping': [{}]})

    def test_relocate_test_failure_refused_with_cp_details(self):
        inst = self.migrating()
        data = self.check_destination(inst)
        memory = self.lab.zvm.member(M2)['memory_mb']
        self.addCleanup(self.lab.zvm.set_member, M2, memory_mb=memory)
        # Enough by the connector's figures, too little for CP.
        self.lab.zvm.inject_fault('VMRELOCATE', rc=8, rs=3000, member=M1)
        err = self.assertRefused('VMRELOCATE TEST',
                                 live_migration.check_source,
                                 self.clients[M1], inst, data, None)
        self.assertIn('rc 8 rs 3000', str(err))
        self.assertEqual([M1], self.where(inst))
