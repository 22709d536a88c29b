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

"""Table-driven rollback: fail every z/VM call a spawn makes, in turn.

A good spawn tells which SMAPI functions, CP commands and zthin scripts it
runs (``lab.zvm.calls()``). Then, for each of them (and each repetition of
it), a spawn runs with exactly that call failing; afterwards nothing of the
guest may remain on z/VM (directory entry, minidisks, NICs, grants) nor
locally (config drive, image files), and the error raised is the
connector's error for the failed step, not one from the cleanup.
"""

import collections
import logging

import fixtures
from testtools import content

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import spawn


# SMAPI calls whose failure zvmsdk logs and ignores (the guest's entry in
# the name list used by the connector's own bookkeeping).
TOLERATED_BY_ZVMSDK = {'smapi:Name_List_Add'}


class TestSpawnRollback(spawn_base.SpawnTestCase):

    def _spawn(self, instance, image_meta, vifs):
        manager = image.ImageManager(self.client, image_api=self.glance)
        spawn.spawn(self.client, self.virtapi, self.context, instance,
                    image_meta, [], 'secret', {}, vifs,
                    image_manager=manager)

    def _instance(self):
        # Every kind of disk, so that disk creation, formatting and the
        # ephemeral configuration are in the table too.
        return self.instance(ephemeral_gb=1, swap=256)

    def _vifs(self):
        return [self.vif(0, physnet='physnet1'),
                self.vif(1, physnet='physnet2', vlan=7)]

    def _nothing_left(self, userid, pools_before):
        state = self.lab.zvm.state()
        self.assertNotIn(userid.upper(), state['users'])
        for name, vsw in state['vswitches'].items():
            self.assertNotIn(userid.upper(), vsw.get('grants', {}), name)
        self.assertEqual(pools_before,
                         {n: p['free'] for n, p in state['pools'].items()},
                         'minidisk space not returned')
        self.assertEqual([], self.local_files())

    def _learn_calls(self, image_meta):
        """The z/VM calls of one good spawn (image already imported)."""
        inst = self._instance()
        self.lab.zvm.reset_calls()
        vifs = self._vifs()
        self._spawn(inst, image_meta, vifs)
        calls = self.lab.zvm.calls()
        spawn.destroy(self.client, self.context, inst, vifs)
        return calls

    def test_failure_at_every_call_leaves_nothing(self):
        image_meta = self.glance.add()
        # Import the image first: it is a cache, not part of a rollback.
        image.ImageManager(self.client, image_api=self.glance).ensure(
            self.context, image_meta)
        calls = self._learn_calls(image_meta)
        self.assertTrue(any(c.startswith('smapi:') for c in calls), calls)

        seen = collections.Counter()
        results = []
        for call in calls:
            seen[call] += 1
            nth = seen[call]
            state = self.lab.zvm.state()
            pools = {n: p['free'] for n, p in state['pools'].items()}
            inst = self._instance()
            vifs = self._vifs()
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(call, rc=8, rs=99, nth=nth)
            try:
                self._spawn(inst, image_meta, vifs)
            except zvm_exception.ZVMConnectorError as err:
                results.append((call, nth, 'raised %s' % err.api))
            except Exception as err:
                self.fail('%s #%d: not the connector error: %r'
                          % (call, nth, err))
            else:
                # zvmsdk absorbed this failure (e.g. a query it retries):
                # the spawn is whole; destroy must still clean it all up.
                results.append((call, nth, 'absorbed'))
                spawn.destroy(self.client, self.context, inst, vifs)
            finally:
                self.lab.zvm.clear_faults()
            self._nothing_left(inst.name, pools)
        self.addDetail('rollback-table', _text(results))
        # A failed SMAPI call must fail the spawn, except the few zvmsdk
        # itself treats as best effort.
        absorbed = [r for r in results if r[2] == 'absorbed' and
                    r[0].startswith('smapi:') and
                    r[0] not in TOLERATED_BY_ZVMSDK]
        self.assertEqual([], absorbed)

    def test_a_failing_cleanup_never_hides_the_original_error(self):
        logs = self.useFixture(fixtures.FakeLogger(
            name='nova_zvm.virt.spawn', level=logging.ERROR))
        image_meta = self.glance.add()
        inst = self._instance()
        vifs = self._vifs()
        self.lab.zvm.inject_fault('Image_Activate', rc=200, rs=12)
        # Every attempt of the rollback's delete fails (without waiting).
        self.useFixture(fixtures.MonkeyPatch(
            'nova_zvm.virt.teardown.DELETE_RETRY_DELAYS', (0, 0)))
        self.lab.zvm.inject_fault('Image_Delete_DM', rc=8, rs=77, count=3)
        err = self.assertRaises(zvm_exception.ZVMConnectorError,
                                self._spawn, inst, image_meta, vifs)
        self.assertEqual('guest_start', err.api)
        self.assertIn('could not delete guest %s' % inst.name.upper(),
                      logs.output)
        # The guest the cleanup could not remove is destroy's to remove.
        self.lab.zvm.clear_faults()
        pools = self.lab.zvm.state()['pools']
        self.assertIsNotNone(self.user(inst.name))
        spawn.destroy(self.client, self.context, inst, vifs)
        self.assertIsNone(self.user(inst.name))
        self.assertNotEqual(pools, self.lab.zvm.state()['pools'])


def _text(results):
    return content.text_content('\n'.join('%s #%d: %s' % r
                                          for r in results))
