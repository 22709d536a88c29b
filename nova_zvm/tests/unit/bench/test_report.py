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

"""The benchmark's arithmetic: medians, ratios, targets, the files."""

import csv
import json
import os

import fixtures
import testtools

from nova_zvm.bench import labs
from nova_zvm.bench import report


class FigureTest(testtools.TestCase):

    def test_value_is_the_median_and_ratio_is_ours_over_theirs(self):
        f = report.from_samples('k', 'title', 's',
                                {'ours': [3.0, 1.0, 2.0],
                                 'intree': [8.0, 4.0, 5.0, 100.0]})
        self.assertEqual(2.0, f.ours)
        self.assertEqual(6.5, f.intree)
        self.assertAlmostEqual(2.0 / 6.5, f.ratio)

    def test_paired_repetitions_give_the_median_of_their_ratios(self):
        # The machine was slow for both in the second repetition.
        f = report.from_samples('k', 'title', 'calls/s',
                                {'ours': [300.0, 100.0, 330.0],
                                 'intree': [100.0, 30.0, 100.0]})
        self.assertEqual(3.3, f.ratio)
        self.assertEqual(3.0, f.ratio_of_medians)

    def test_a_missing_driver_gives_no_ratio_and_no_verdict(self):
        f = report.from_samples('k', 'title', 's', {'intree': [1.0]},
                                target=report.Target('<=', 0.5))
        self.assertIsNone(f.ours)
        self.assertIsNone(f.ratio)
        self.assertIsNone(f.met)

    def test_targets_on_the_ratio_and_on_our_figure(self):
        faster = report.Figure('k', 't', 'calls/s', 300.0, 100.0,
                               target=report.Target('>=', 3.0))
        slower = report.Figure('k', 't', 'calls/s', 250.0, 100.0,
                               target=report.Target('>=', 3.0))
        calls = report.Figure('k', 't', 'calls', 3, 201,
                              target=report.Target('<=', 2, on='ours'))
        self.assertTrue(faster.met)
        self.assertFalse(slower.met)
        # 3 calls is far below the in-tree driver's, but not the bar.
        self.assertFalse(calls.met)


class WriteTest(testtools.TestCase):

    def test_files_hold_the_table_the_notes_and_the_samples(self):
        out = self.useFixture(fixtures.TempDir()).path
        figures = [
            report.from_samples('burst.wall', 'burst: wall time', 's',
                                {'ours': [10.0], 'intree': [40.0]},
                                target=report.Target('<=', 0.5),
                                floor={'ours': 8.0, 'intree': 20.0}),
            report.from_samples('power_sync.calls', 'sync: REST calls',
                                'calls', {'ours': [2], 'intree': [201]},
                                detail={'ours': ['GET /guests']}),
        ]
        meta = {'started': '2026-11-24 09:00', 'host': 'h', 'cpus': 2,
                'reps': 5, 'notes': ["in-tree on a lab with auth='none'"],
                'latency': {'cp:*': 0.003}, 'errors': []}

        report.write(out, figures, meta)

        with open(os.path.join(out, 'results.json')) as f:
            document = json.load(f)
        self.assertEqual(meta, document['meta'])
        self.assertEqual(0.25, document['figures'][0]['ratio'])
        self.assertTrue(document['figures'][0]['met'])
        self.assertEqual({'ours': 1.25, 'intree': 2.0},
                         document['figures'][0]['over_floor'])
        # 1.25x of the floor misses 1.1x.
        self.assertFalse(document['figures'][0]['floor_met'])
        self.assertIsNone(document['figures'][1]['floor_met'])
        self.assertEqual({'ours': ['GET /guests']},
                         document['figures'][1]['rest_calls'])
        with open(os.path.join(out, 'results.md')) as f:
            table = f.read()
        self.assertIn('| burst: wall time | s | 10.0 | 8.00 | 1.25x | 40.0 | '
                      '2.00x | 0.25x | ratio <= 0.500 | yes |', table)
        self.assertIn("* in-tree on a lab with auth='none'", table)
        self.assertIn('| cp:* | 0.003 |', table)
        with open(os.path.join(out, 'results.csv')) as f:
            rows = list(csv.reader(f))
        self.assertEqual(3, len(rows))
        self.assertEqual('0.01x', rows[2][7])
        self.assertEqual('', rows[2][3])

    def test_update_replaces_the_rows_of_the_scenarios_run(self):
        out = self.useFixture(fixtures.TempDir()).path
        first = [
            report.from_samples('burst.wall', 'burst: wall time', 's',
                                {'ours': [10.0], 'intree': [40.0]},
                                target=report.Target('<=', 0.5),
                                floor={'ours': 8.0, 'intree': 20.0}),
            report.from_samples('cold_migration.gone', 'old row', 's',
                                {'ours': [1.0]}),
            report.from_samples('cold_migration.ssi_wall', 'cold: wall',
                                's', {'ours': [9.0]}),
        ]
        report.write(out, first, {'started': 'full run', 'host': 'h',
                                  'cpus': 2, 'reps': 5,
                                  'notes': ['a note'], 'errors': []})
        again = [
            report.from_samples('cold_migration.ssi_wall', 'cold: wall',
                                's', {'ours': [3.0]}),
            report.from_samples('cold_migration.redeploy_wall',
                                'redeploy: wall', 's', {'ours': [12.0]}),
        ]
        meta = {'started': 'update', 'source': 'abc', 'reps': 3,
                'notes': ['a note', 'new note'], 'errors': []}

        figures, merged = report.merge(out, again, meta, ['cold_migration'])
        report.write(out, figures, merged)

        with open(os.path.join(out, 'results.json')) as f:
            document = json.load(f)
        rows = {f['key']: f for f in document['figures']}
        # The burst row is kept as it was, verdicts and floors included.
        self.assertEqual(['burst.wall', 'cold_migration.ssi_wall',
                          'cold_migration.redeploy_wall'],
                         [f['key'] for f in document['figures']])
        self.assertTrue(rows['burst.wall']['met'])
        self.assertEqual({'ours': 1.25, 'intree': 2.0},
                         rows['burst.wall']['over_floor'])
        self.assertEqual(3.0, rows['cold_migration.ssi_wall']['ours'])
        self.assertEqual('full run', document['meta']['started'])
        self.assertEqual(['a note', 'new note'], document['meta']['notes'])
        [update] = document['meta']['updates']
        self.assertEqual(('update', 'abc'),
                         (update['started'], update['source']))
        with open(os.path.join(out, 'results.md')) as f:
            table = f.read()
        self.assertIn('| burst: wall time | s | 10.0 | 8.00 | 1.25x | 40.0 | '
                      '2.00x | 0.25x | ratio <= 0.500 | yes |', table)
        self.assertIn('| cold: wall | s | 3.00 |', table)
        self.assertIn('Updated update UTC (nova-zvm at abc', table)


class PatternTest(testtools.TestCase):

    def test_names_of_guests_and_images_are_folded(self):
        self.assertEqual('GET /guests/{id}/power_state',
                         labs.pattern('GET /guests/ZVM00101/power_state'))
        self.assertEqual('GET /images/{id}/root_disk_size',
                         labs.pattern('GET /images/abc-1/root_disk_size'))
        # Collections keep their names.
        self.assertEqual('GET /guests/stats',
                         labs.pattern('GET /guests/stats'))
        self.assertEqual('POST /guests/volumes',
                         labs.pattern('POST /guests/volumes'))
        self.assertEqual('GET /guests/interfacestats',
                         labs.pattern('GET /guests/interfacestats'))
        self.assertEqual('PUT /guests/{id}/interface',
                         labs.pattern('PUT /guests/ZVM00101/interface'))
        self.assertEqual('GET /volumes/conn/{id}',
                         labs.pattern('GET /volumes/conn/ZVM00101'))
        self.assertEqual('GET /volumes/fcptemplates',
                         labs.pattern('GET /volumes/fcptemplates'))
        self.assertEqual('GET /host', labs.pattern('GET /host'))
