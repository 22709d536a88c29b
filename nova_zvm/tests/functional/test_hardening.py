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

"""What a review of the driver against nova's contracts found, through
nova's API: foreign guests, 404s in a build, bad names, blind start-ups."""

from nova import context as nova_context
from nova import objects

from nova_zvm import client as zvm_client
from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures


class ForeignGuestTest(base.ZVMTestCase):

    def connector(self):
        client = zvm_client.ZVMClient(self.lab.url,
                                      token_file=self.lab.token_file,
                                      ca_file=self.lab.ca_file,
                                      max_retries=0)
        self.addCleanup(client.close)
        return client

    def test_build_into_a_taken_userid_keeps_the_other_guest(self):
        # Another nova (or a rebuilt database) has a guest under the userid
        # nova's first instance gets.
        userid = (base.INSTANCE_NAME_TEMPLATE % 1).upper()
        self.connector().guest_create(userid, 1, 512, disk_list=[
            {'size': '1g', 'is_boot_disk': True}])
        before = self.lab.zvm.state()['users'][userid]

        server = self.boot_server(expected_status='ERROR')
        self.assertEqual(userid, base.userid_of(server))
        self.assertIn('exists', server['fault']['message'])
        # nova destroyed the failed build: the other guest is untouched
        self.assertEqual(before['minidisks'],
                         self.zvm_guest(server)['minidisks'])
        self.delete_server(server)
        self.assertEqual(before['minidisks'],
                         self.zvm_guest(server)['minidisks'])

    def test_server_with_an_invalid_name_can_be_deleted(self):
        # The template overflows (as zvm%05x does at id 0x100000).
        self.flags(instance_name_template='zvm%09x')
        server = self.boot_server(expected_status='ERROR')
        self.assertIn('instance_name_template', server['fault']['message'])
        self.delete_server(server)


class MissingVswitchTest(base.ZVMTestCase):

    def _configure_driver(self):
        super()._configure_driver()
        # Mapped, but the vswitch does not exist on z/VM.
        self.flags(vswitch_mappings={zvm_fixtures.PHYSNET: 'NOVSW'},
                   group='zvm')

    def test_a_404_in_the_build_fails_it_with_a_fault(self):
        # Before: InstanceNotFound, which nova reads as "deleted during the
        # build": no fault, the server stayed in BUILD.
        server = self.boot_server(expected_status='ERROR')
        self.assertIn('NOVSW', server['fault']['message'])
        self.assertIsNone(self.zvm_guest(server))
        self.delete_server(server)


class BlindStartTest(base.ZVMTestCase):
    CAST_AS_CALL = False

    def connector_url(self):
        self.relay = self.useFixture(
            zvm_fixtures.ConnectorRelay(self.lab.url))
        return self.relay.url

    def test_interrupted_snapshot_recovered_with_the_connector_down(self):
        server = self.boot_server()
        # nova-compute died while uploading a snapshot
        ctxt = nova_context.get_admin_context()
        inst = objects.Instance.get_by_uuid(ctxt, server['id'])
        inst.task_state = 'image_uploading'
        inst.save()

        self.relay.down()
        self.compute = self.restart_compute_service(self.compute)
        server = self.api.get_server(server['id'])
        # Before: skipped, stuck in image_uploading for good.
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertEqual('ACTIVE', server['status'])

        self.relay.up()
        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))
