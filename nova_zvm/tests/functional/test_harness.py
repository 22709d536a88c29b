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

"""The harness itself, on nova's fake driver: no lab, no ZVMDriver."""

from nova.tests import fixtures as nova_fixtures

from nova_zvm.tests.functional import base


class FakeDriverHarnessTest(base.ZVMTestCase):
    USE_LAB = False
    compute_driver = 'fake.MediumFakeDriver'

    def test_boot_and_delete(self):
        image_id = nova_fixtures.GlanceFixture.image1['id']
        server = self.boot_server(image_uuid=image_id)
        rp_uuid = self.compute_node_uuid()
        # From microversion 2.47 the server embeds its flavor.
        self.assertFlavorMatchesUsage(rp_uuid, server['flavor'])

        self.delete_server(server)
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))
