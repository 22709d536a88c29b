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

"""Figures, their ratios and targets; results.json and results.md.

Every ratio is nova-zvm's figure divided by the in-tree driver's, both
measured in the same run: the median of the ratios of each repetition. A
target is written on that ratio (``>= 1.5`` for calls per second, ``<= 0.5``
for a wall time) or on nova-zvm's own figure (``ours <= 2`` REST calls).
"""

import csv
import json
import operator
import os
import statistics

OPS = {'>=': operator.ge, '<=': operator.le, '==': operator.eq}

# Issue 17: a wall time within 1.1x of its floor.
FLOOR_TARGET = 1.1


def median(samples):
    samples = [s for s in samples if s is not None]
    return statistics.median(samples) if samples else None


class Target(object):
    """A bar on the ratio (``on='ratio'``) or on our figure (``'ours'``)."""

    def __init__(self, op, value, on='ratio', text=None):
        self.op = op
        self.value = value
        self.on = on
        self.text = text or ('%s %s %s' % (
            'ratio' if on == 'ratio' else 'nova-zvm', op, _fmt(value)))

    def met(self, figure):
        subject = figure.ratio if self.on == 'ratio' else figure.ours
        if subject is None:
            return None
        return bool(OPS[self.op](subject, self.value))


class Figure(object):
    """One line of the table: a quantity for both drivers."""

    def __init__(self, key, title, unit, ours, intree, target=None,
                 samples=None, note=None, detail=None, floor=None,
                 floor_detail=None):
        self.key = key
        self.title = title
        self.unit = unit
        self.ours = ours
        self.intree = intree
        self.target = target
        self.samples = samples or {}
        self.note = note
        # What the REST calls were, per driver.
        self.detail = detail
        # The least time the lab's z/VM allows, per driver (floor.py),
        # and how it was bound.
        self.floor = floor or {}
        self.floor_detail = floor_detail

    def over_floor(self, driver):
        """The driver's figure / its floor (None without one)."""
        value = getattr(self, driver)
        bottom = self.floor.get(driver)
        if value is None or not bottom:
            return None
        return value / bottom

    @property
    def floor_met(self):
        """nova-zvm within FLOOR_TARGET of its floor (None: no floor)."""
        ratio = self.over_floor('ours')
        return None if ratio is None else ratio <= FLOOR_TARGET

    @property
    def ratio(self):
        """Median of the per-repetition ratios, else ratio of the medians.

        Each repetition measures both drivers back to back, so the ratio
        within a repetition cancels the drift of a shared machine that a
        ratio of two medians, taken at different moments, keeps.
        """
        ours = self.samples.get('ours') or []
        intree = self.samples.get('intree') or []
        if (ours and len(ours) == len(intree)
                and all(isinstance(v, (int, float)) and v
                        for v in ours + intree)):
            return median([a / b for a, b in zip(ours, intree)])
        return self.ratio_of_medians

    @property
    def ratio_of_medians(self):
        if self.ours is None or self.intree in (None, 0):
            return None
        return self.ours / self.intree

    @property
    def met(self):
        return self.target.met(self) if self.target else None

    def to_dict(self):
        return {'key': self.key, 'title': self.title, 'unit': self.unit,
                'ours': self.ours, 'intree': self.intree,
                'ratio': self.ratio,
                'ratio_of_medians': self.ratio_of_medians,
                'target': self.target.text if self.target else None,
                'met': self.met, 'note': self.note,
                'samples': self.samples, 'rest_calls': self.detail,
                'floor': self.floor or None,
                'over_floor': {d: self.over_floor(d)
                               for d in sorted(self.floor)} or None,
                'floor_target': ('nova-zvm / floor <= %g' % FLOOR_TARGET
                                 if self.floor else None),
                'floor_met': self.floor_met,
                'floor_detail': self.floor_detail}


def from_samples(key, title, unit, samples, target=None, note=None,
                 detail=None, floor=None, floor_detail=None):
    """A figure whose value for each driver is the median of its samples."""
    return Figure(key, title, unit,
                  median(samples.get('ours', [])),
                  median(samples.get('intree', [])),
                  target=target, samples=samples, note=note, detail=detail,
                  floor=floor, floor_detail=floor_detail)


def _fmt(value):
    if value is None:
        return 'n/a'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 100:
        return '%.0f' % value
    if abs(value) >= 10:
        return '%.1f' % value
    if abs(value) >= 1:
        return '%.2f' % value
    return '%.3f' % value


def _ratio(value):
    return 'n/a' if value is None else '%.2fx' % value


def _met(value):
    return {True: 'yes', False: '**no**', None: ''}[value]


def markdown(figures, meta):
    """The results table, with how it was measured above it."""
    lines = ['# nova-zvm vs nova\'s in-tree z/VM driver', '']
    lines.append('Run %(started)s UTC on %(host)s (%(cpus)s CPUs), '
                 'nova-zvm at %(source)s; repetitions: %(reps)s (burst '
                 '%(burst_reps)s; figures are medians).' % dict(
                     {'source': None, 'burst_reps': meta.get('reps')},
                     **meta))
    for update in meta.get('updates') or []:
        text = ('Updated %s UTC (nova-zvm at %s, profile %s, repetitions '
                '%s): %s.' % (update.get('started'), update.get('source'),
                              update.get('profile'), update.get('reps'),
                              ', '.join(update.get('figures') or [])))
        lines += ['', text]
    lines.append('')
    for note in meta.get('notes', []):
        lines.append('* ' + note)
    lines.append('')
    rows = table_rows(figures)
    lines.append('| %s |' % ' | '.join(rows[0]))
    lines.append('|---|---|' + '---:|' * 6 + '---|---|')
    for row, f in zip(rows[1:], figures):
        row[-1] = _met(f.met)
        lines.append('| %s |' % ' | '.join(row))
    notes = [f for f in figures if f.note]
    if notes:
        lines.append('')
        for f in notes:
            lines.append('* %s: %s' % (f.title, f.note))
    latency = meta.get('latency') or {}
    if latency:
        lines += ['', '## Latency profile (seconds per z/VM call)', '',
                  '| z/VM call | seconds |', '|---|---:|']
        lines += ['| %s | %g |' % item for item in sorted(latency.items())]
    for error in meta.get('errors') or []:
        lines += ['', '**Error:**', '', '```', error, '```']
    lines.append('')
    return '\n'.join(lines)


def table_rows(figures):
    """The table as rows of text, header first (for CSV and the docs)."""
    rows = [['figure', 'unit', 'nova-zvm', 'floor', 'nova-zvm / floor',
             'nova in-tree', 'in-tree / its floor',
             'ratio (nova-zvm / in-tree)', 'target', 'met']]
    for f in figures:
        floor = f.floor.get('ours')
        rows.append([f.title, f.unit, _fmt(f.ours),
                     _fmt(floor) if floor else '',
                     _ratio(f.over_floor('ours')) if f.floor else '',
                     _fmt(f.intree),
                     _ratio(f.over_floor('intree')) if f.floor else '',
                     _ratio(f.ratio), f.target.text if f.target else '',
                     _met(f.met).strip('*')])
    return rows


def write(output_dir, figures, meta):
    """results.json, results.md and results.csv (included by the docs)."""
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, 'results.csv'), 'w',
              newline='') as f:
        csv.writer(f).writerows(table_rows(figures))
    with open(os.path.join(output_dir, 'latency.csv'), 'w',
              newline='') as f:
        rows = [['z/VM call', 'seconds']]
        rows += [[name, '%g' % seconds] for name, seconds
                 in sorted((meta.get('latency') or {}).items())]
        csv.writer(f).writerows(rows)
    document = {'meta': meta, 'figures': [f.to_dict() for f in figures]}
    json_path = os.path.join(output_dir, 'results.json')
    md_path = os.path.join(output_dir, 'results.md')
    with open(json_path, 'w') as f:
        json.dump(document, f, indent=2, sort_keys=True, default=str)
        f.write('\n')
    with open(md_path, 'w') as f:
        f.write(markdown(figures, meta))
    return json_path, md_path


class StoredFigure(object):
    """A figure read back from results.json, as it was written.

    What an ``--update`` run keeps of the figures it did not measure: their
    values, ratios and verdicts as the earlier run computed them.
    """

    def __init__(self, data):
        self.data = data
        self.key = data['key']
        self.title = data['title']
        self.unit = data['unit']
        self.ours = data.get('ours')
        self.intree = data.get('intree')
        self.note = data.get('note')
        self.detail = data.get('rest_calls')
        self.samples = data.get('samples') or {}
        self.floor = data.get('floor') or {}
        self.ratio = data.get('ratio')
        self.met = data.get('met')
        self.floor_met = data.get('floor_met')
        self.target = (Target(None, None, text=data['target'])
                       if data.get('target') else None)

    def over_floor(self, driver):
        return (self.data.get('over_floor') or {}).get(driver)

    def to_dict(self):
        return self.data


def merge(output_dir, figures, meta, scenarios):
    """Earlier results in ``output_dir`` with this run's figures in them.

    Figures of ``scenarios`` (keys ``<scenario>.*``) and those with a key
    this run measured are replaced (in place; new ones are added at the
    end); the rest stay as the earlier run wrote them. The earlier run's
    meta stays the document's; this run is listed in its ``updates``.

    :returns: (figures, meta) to write
    """
    with open(os.path.join(output_dir, 'results.json')) as f:
        document = json.load(f)
    new = {f.key: f for f in figures}
    prefixes = tuple(s + '.' for s in scenarios)
    merged = []
    for data in document.get('figures', []):
        key = data['key']
        if key in new:
            merged.append(new.pop(key))
        elif not key.startswith(prefixes):
            merged.append(StoredFigure(data))
    merged.extend(f for f in figures if f.key in new)
    old = document.get('meta', {})
    update = {k: meta.get(k) for k in ('started', 'source', 'profile',
                                       'reps', 'command', 'duration_s')}
    update['figures'] = sorted(f.key for f in figures)
    old.setdefault('updates', []).append(update)
    old['errors'] = (old.get('errors') or []) + (meta.get('errors') or [])
    old['notes'] = (old.get('notes') or []) + [
        n for n in meta.get('notes') or [] if n not in old.get('notes', [])]
    return merged, old
