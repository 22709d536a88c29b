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

"""A smoke run of the benchmark, so that ``tox -e bench`` cannot rot.

One repetition, few guests, no latency: it checks that every figure is
measured for both drivers and that the numbers mean what they say, not how
fast anything is.
"""

import json
import os
import subprocess
import sys

import fixtures
import testtools

# Generous: the run takes ~40 s alone on a 2-core machine.
# A loaded 2-core CI machine (the default run) needs the headroom.
TIMEOUT = 420


class BenchSmokeTest(testtools.TestCase):
    """``python -m nova_zvm.bench --smoke``, as ``tox -e bench-smoke`` runs it.

    It runs in a process of its own: nova's concurrency mode is fixed per
    process, and a test process that imported nova's test helpers is
    monkey patched with eventlet.
    """

    def setUp(self):
        super().setUp()
        self.out = self.useFixture(fixtures.TempDir()).path
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1')
        proc = subprocess.run(
            [sys.executable, '-m', 'nova_zvm.bench', '--smoke',
             '--output-dir', self.out],
            env=env, capture_output=True, text=True, timeout=TIMEOUT)
        self.output = proc.stdout + proc.stderr[-4000:]
        self.assertEqual(0, proc.returncode, self.output)
        with open(os.path.join(self.out, 'results.json')) as f:
            self.document = json.load(f)
        self.figures = {f['key']: f for f in self.document['figures']}

    def figure(self, key):
        self.assertIn(key, self.figures, self.output)
        return self.figures[key]

    def test_smoke_run_measures_both_drivers_sanely(self):
        meta = self.document['meta']
        self.assertTrue(meta['smoke'])
        self.assertEqual([], meta['errors'])

        # Every figure has a positive number for both drivers, and a ratio.
        for key in ('client.http.rate', 'client.https.rate',
                    'ops.spawn_new_image.wall', 'ops.destroy.wall',
                    'ops.power_off.calls', 'burst.wall', 'burst.calls',
                    'power_sync.wall', 'power_sync.calls', 'periodic.calls',
                    'cost.cpu', 'cost.rss'):
            f = self.figure(key)
            self.assertGreater(f['ours'], 0, key)
            self.assertGreater(f['intree'], 0, key)
            self.assertAlmostEqual(f['ours'] / f['intree'], f['ratio'])

        # Interfaces: nova-zvm only (the in-tree driver has none).
        for key in ('interfaces.attach_interface.calls',
                    'interfaces.detach_interface.calls'):
            f = self.figure(key)
            self.assertGreater(f['ours'], 0, key)
            self.assertIsNone(f['intree'], key)

        # Cold migration in an SSI against capture and redeploy: both
        # nova-zvm's, both measured; only the redeploy copies the disk.
        for key in ('cold_migration.ssi_wall', 'cold_migration.ssi_calls',
                    'cold_migration.redeploy_wall',
                    'cold_migration.redeploy_calls'):
            self.assertGreater(self.figure(key)['ours'], 0, key)
        ssi = self.figure('cold_migration.ssi_calls')['rest_calls']['ours']
        redeploy = self.figure(
            'cold_migration.redeploy_calls')['rest_calls']['ours']
        self.assertIn('guest_register', ssi)
        for copying in ('guest_capture', 'guest_deploy'):
            self.assertNotIn(copying, ssi)
            self.assertIn(copying, redeploy)

        # The in-tree driver's call pattern is known: one guest_list, then
        # one power-state query per guest; three host_get_info per cycle;
        # zvmconnector's RESTClient asks for a token before every call.
        guests = self.figure('power_sync.correct')['target'].split()[-1]
        self.assertEqual(int(guests) + 1,
                         self.figure('power_sync.calls')['intree'])
        self.assertEqual(3, self.figure('periodic.host_info')['intree'])
        self.assertEqual(2, self.figure('client.http.requests')['intree'])
        # Both drivers got every guest's state right and spawned them all.
        self.assertEqual(int(guests),
                         self.figure('power_sync.correct')['ours'])
        self.assertEqual(int(guests),
                         self.figure('power_sync.correct')['intree'])
        self.assertEqual(0, self.figure('burst.failed')['ours'])
        self.assertEqual(0, self.figure('burst.failed')['intree'])
        self.assertEqual(self.figure('burst.imports')['intree'],
                         self.figure('burst.imports')['ours'])
        # Where the numbers come from is kept.
        self.assertIn('GET /guests/{id}/power_state',
                      self.figure('power_sync.calls')['rest_calls']['intree'])

        with open(os.path.join(self.out, 'results.md')) as f:
            table = f.read()
        self.assertIn("auth='none'", table)
        self.assertIn('| burst of ', table)
        self.assertTrue(os.path.exists(os.path.join(self.out,
                                                    'results.csv')))
