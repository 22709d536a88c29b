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

import fixtures
import testtools

from nova_zvm.bench import cli
from nova_zvm.bench import report


class BenchSmokeTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.out = self.useFixture(fixtures.TempDir()).path
        self.args = cli.parse_args(['--smoke', '--output-dir', self.out])
        figures, self.meta = cli.run(self.args)
        report.write(self.out, figures, self.meta)
        self.figures = {f.key: f for f in figures}

    def figure(self, key):
        self.assertIn(key, self.figures, self.meta['errors'])
        return self.figures[key]

    def test_smoke_run_measures_both_drivers_sanely(self):
        args = self.args
        self.assertEqual([], self.meta['errors'])

        # Every figure has a positive number for both drivers.
        for key in ('client.http.rate', 'client.https.rate',
                    'ops.spawn_new_image.wall', 'ops.destroy.wall',
                    'ops.power_off.calls', 'burst.wall', 'burst.calls',
                    'power_sync.wall', 'power_sync.calls', 'periodic.calls',
                    'cost.cpu', 'cost.rss'):
            f = self.figure(key)
            self.assertGreater(f.ours, 0, key)
            self.assertGreater(f.intree, 0, key)
            self.assertIsNotNone(f.ratio, key)

        # The in-tree driver's call pattern is known: one guest_list, then
        # one power-state query per guest; three host_get_info per cycle.
        self.assertEqual(args.guests + 1,
                         self.figure('power_sync.calls').intree)
        self.assertEqual(3, self.figure('periodic.host_info').intree)
        # zvmconnector's RESTClient asks for a token before every call.
        self.assertEqual(2, self.figure('client.http.requests').intree)
        # Both drivers got every guest's state right and spawned them all.
        self.assertEqual(args.guests, self.figure('power_sync.correct').ours)
        self.assertEqual(args.guests,
                         self.figure('power_sync.correct').intree)
        self.assertEqual(0, self.figure('burst.failed').ours)
        self.assertEqual(0, self.figure('burst.failed').intree)
        # Each spawn of a new image imports it once at least.
        self.assertGreaterEqual(self.figure('burst.imports').intree,
                                args.images)

        with open(os.path.join(self.out, 'results.json')) as f:
            document = json.load(f)
        self.assertTrue(document['meta']['smoke'])
        self.assertEqual(set(self.figures),
                         {f['key'] for f in document['figures']})
        with open(os.path.join(self.out, 'results.md')) as f:
            table = f.read()
        self.assertIn("auth='none'", table)
        self.assertIn('| burst of %d spawns' % args.burst, table)
