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

"""Nova destroys a build that failed before its guest existed.

Found by the soak (nova_zvm/tests/soak): DirMaint answered "locked" to
guest_create beyond the client's retries; spawn failed and rolled back,
then nova's destroy logged an ERROR telling the operator to remove by hand
a guest that did not exist.
"""

import logging

import fixtures

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import spawn


class DestroyFailedBuildTest(spawn_base.SpawnTestCase):

    def test_destroy_after_create_failed_is_quiet(self):
        log = self.useFixture(fixtures.FakeLogger(name='nova_zvm',
                                                  level=logging.INFO))
        inst = self.instance()
        userid = inst.name.upper()
        # Locked on every attempt: the create fails, nothing is made.
        self.lab.zvm.inject_fault('Image_Create_DM', rc=400, rs=12,
                                  count=0)
        self.addCleanup(self.lab.zvm.clear_faults)
        image_meta = self.glance.add()
        manager = image.ImageManager(self.client, image_api=self.glance)
        self.assertRaises(zvm_exception.ZVMConnectorError, spawn.spawn,
                          self.client, self.virtapi, self.context, inst,
                          image_meta, [], 'secret', {}, [],
                          image_manager=manager)
        self.lab.zvm.clear_faults()

        spawn.destroy(self.client, self.context, inst, [])

        self.assertNotIn(userid, self.lab.zvm.state()['users'])
        self.assertNotIn('Not deleting guest', log.output)
