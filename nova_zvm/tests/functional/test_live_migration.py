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

"""Live migration between the two members of the lab's SSI cluster.

Through nova's API: ``os-migrateLive`` moves a running server from
compute1 (ZVMLAB01) to compute2 (ZVMLAB02) and back, and every refusal
leaves the server where it was, running and managed by one host.
"""

import time

from nova import context as nova_context
from nova import objects
from nova.tests.functional.api import client

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures
from nova_zvm.tests.functional import ssi_base

HOST1, HOST2 = ssi_base.HOST1, ssi_base.HOST2
M1, M2 = ssi_base.M1, ssi_base.M2
VSWITCH = zvm_fixtures.VSWITCH


class LiveMigrationTest(ssi_base.SSITestCase):

    # As in production: the API answers 202 and the migration runs behind
    # it (a refused check then cannot fail the API call itself).
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        # Userids restart with each test's database: no grant a former
        # test made at ZVMLAB02 may authorize this test's guest.
        self.lab.zvm.set_member(M2, remove_vswitches=[VSWITCH])
        self.lab.zvm.set_member(M2, vswitches=[VSWITCH])
        self.flavor_id = self._create_flavor(
            name='zvm.lm', vcpu=1, memory_mb=1024, disk=2)

    def boot_at(self, host):
        server = self._build_server(image_uuid=base.IMAGE_ID,
                                    flavor_id=self.flavor_id,
                                    networks='auto',
                                    az='nova:%s' % host)
        server = self.api.post_server({'server': server})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, host)
        return server

    def authorize_everywhere(self, server):
        """Authorize the guest on VSW1 at every member.

        The cluster-wide authorization the SSI guide asks for (an ESM
        profile, or SET VSWITCH GRANT on each member).
        """
        for member in (M1, M2):
            self.lab.zvm.set_member(member, grants={
                VSWITCH: [base.userid_of(server)]})

    def live_migrate(self, server, host, block_migration='auto'):
        self.api.post_server_action(server['id'], {'os-migrateLive': {
            'host': host, 'block_migration': block_migration}})

    def migrate_to(self, server, host):
        self.live_migrate(server, host)
        self.wait_for_migration(server, 'completed')
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, host)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        return server

    def wait_for_migration(self, server, *statuses):
        """The server's migration once it has one of ``statuses``."""
        deadline = time.monotonic() + self.WAIT_TIMEOUT
        while True:
            # The newest of the server's migrations.
            migration = max((m for m in self.api.api_get(
                '/os-migrations').body['migrations']
                if m['instance_uuid'] == server['id']),
                key=lambda m: m['id'], default=None)
            if migration and migration['status'] in statuses:
                return migration
            if time.monotonic() > deadline:
                self.fail('migration of %s not %s after %ss: %s' % (
                    server['id'], statuses, self.WAIT_TIMEOUT, migration))
            time.sleep(0.2)

    def assert_refused(self, server, why):
        """The migration failed naming ``why``; the server is unchanged."""
        self.wait_for_migration(server, 'error')
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, HOST1)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        self.assertIn(why, self.check_errors(server))
        return server

    def check_errors(self, server):
        """What the instance action events of the last migration say.

        nova's scheduler tries other hosts after a refused check and then
        reports "No valid host"; the refusal's own message is in the event
        of the compute host that refused (``openstack server event show``).
        """
        ctxt = nova_context.get_admin_context()
        action = objects.InstanceActionList.get_by_instance_uuid(
            ctxt, server['id'])[0]
        events = objects.InstanceActionEventList.get_by_action(
            ctxt, action.id)
        return '\n'.join('%s: %s %s' % (
            e.event, e.details or '', e.traceback or '') for e in events)

    def test_live_migrate_and_back_then_operate_from_the_new_host(self):
        server = self.boot_at(HOST1)
        self.authorize_everywhere(server)
        userid = base.userid_of(server)
        disks_before = self.zvm_guest(server)['minidisks']
        usage = self._get_provider_usages(self.node_uuid_of(HOST1))

        server = self.migrate_to(server, HOST2)
        # Nothing was copied: the same directory entry and disks.
        self.assertEqual(disks_before, self.zvm_guest(server)['minidisks'])
        self.assertTrue(
            self.zvm_guest(server)['nics']['1000']['coupled_active'])
        self.assertEqual(
            [f'{userid}.1000'],
            self.member_state(M2)['vswitches'][VSWITCH]['couplings'])
        # Placement moved the server's usage to the destination.
        self.assertEqual(usage, self._get_provider_usages(
            self.node_uuid_of(HOST2)))
        self.assertEqual({'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0},
                         self._get_provider_usages(self.node_uuid_of(HOST1)))

        server = self.migrate_to(server, HOST1)
        server = self.migrate_to(server, HOST2)

        # Every later operation runs at compute2 and its connector.
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'HARD'}})
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, HOST2)
        self.assertEqual('on', self.zvm_guest(server)['power'])

        image_id = self.api.post_server_action(
            server['id'], {'createImage': {'name': 'moved'}})['image_id']
        server = self.wait_for_status(server, 'ACTIVE')
        self.assertEqual('active', self.glance.show(None, image_id)[
            'status'])
        self.assertTrue(self.glance.image_data(image_id).startswith(
            b'xCAT CKD Disk Image:'))
        self.assert_managed_by(server, HOST2)

        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))
        self.assertEqual([], self.registered_at(server))
        self.assertEqual([], self.owners_of(server))

    def test_refused_outside_an_ssi_cluster(self):
        server = self.boot_at(HOST1)
        self.authorize_everywhere(server)
        # ZVMLAB02's SSI_Query fails: as on a z/VM outside any cluster.
        self.lab.zvm.inject_fault('SSI_Query', rc=4, rs=3010, count=0,
                                  member=M2)
        self.live_migrate(server, HOST2)
        self.assert_refused(server, 'is not a member of an SSI cluster')

    def test_refused_when_the_destination_lacks_the_vswitch(self):
        server = self.boot_at(HOST1)
        self.lab.zvm.set_member(M2, remove_vswitches=[VSWITCH])
        self.addCleanup(self.lab.zvm.set_member, M2, vswitches=[VSWITCH])
        self.live_migrate(server, HOST2)
        self.assert_refused(server, 'which SSI member %s does not define'
                            % M2)

    def test_refused_when_the_destination_does_not_authorize_the_guest(
            self):
        server = self.boot_at(HOST1)
        self.live_migrate(server, HOST2)
        self.assert_refused(server, 'is not authorized on vswitch %s'
                            % VSWITCH)

    def test_refused_for_block_migration(self):
        server = self.boot_at(HOST1)
        self.authorize_everywhere(server)
        self.live_migrate(server, HOST2, block_migration=True)
        self.assert_refused(server, 'block migration is not supported')

    def test_refused_for_a_stopped_server(self):
        server = self.boot_at(HOST1)
        self.authorize_everywhere(server)
        # nova itself refuses a server it knows to be stopped...
        self.api.post_server_action(server['id'], {'os-stop': {}})
        server = self.wait_for_status(server, 'SHUTOFF')
        ex = self.assertRaises(client.OpenStackApiException,
                               self.live_migrate, server, HOST2)
        self.assertEqual(409, ex.response.status_code)
        self.api.post_server_action(server['id'], {'os-start': {}})
        server = self.wait_for_status(server, 'ACTIVE')

        # ...and the driver one stopped behind nova's back.
        self.lab.zvm.set_power(base.userid_of(server), 'off')
        self.live_migrate(server, HOST2)
        self.wait_for_migration(server, 'error')
        server = self.wait_for_status(server, 'ACTIVE')
        self.assertIn('only a running guest can be relocated',
                      self.check_errors(server))
        self.assertEqual(HOST1, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([M1], self.registered_at(server))
        self.assertEqual([HOST1], self.owners_of(server))
        self.assertEqual('off', self.zvm_guest(server)['power'])

    def test_failed_relocation_leaves_the_server_at_the_source(self):
        server = self.boot_at(HOST1)
        self.authorize_everywhere(server)
        # The second VMRELOCATE (MOVE; the first is the source's TEST).
        self.lab.zvm.inject_fault('VMRELOCATE', rc=8, rs=3000, nth=2,
                                  member=M1)
        self.live_migrate(server, HOST2)
        self.wait_for_migration(server, 'failed', 'error')
        server = self.wait_for_status(server, 'ACTIVE')
        self.assert_managed_by(server, HOST1)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        self.assertEqual([], self.member_state(M2)['guests'])

        # And it migrates once z/VM lets it.
        self.lab.zvm.clear_faults()
        self.migrate_to(server, HOST2)
