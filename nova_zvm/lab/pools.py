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


"""Disk pools as DirMaint sees them: groups of volumes with free extents.

A pool is a group of volumes, and DirMaint's automatic allocation (AUTOG)
places each minidisk inside one volume, never across two (DirMaint's
reference; rc 408 rs 24 in feilong's rcdescriptions.c: "the maximum free
space among all DASDs in the storage pool is less than required space").
The default volume is a 3390-54 (65,520 cylinders, about 45 GiB), or as
many 512-byte FBA blocks.
"""

# 1 cylinder of 3390 = 737,280 bytes usable for the image formats here;
# one FBA block is 512 bytes.
CYL_BYTES = 737280
BLK_BYTES = 512
# A 3390 model 54 volume; the lab's default pool has this many of them.
CYL_PER_3390_54 = 65520
DEFAULT_VOLUMES = 16


def new_pool(spec, volids, total=None):
    """``(name, pool)`` from ``TYPE:NAME`` or ``TYPE:NAME:COUNTxSIZE``.

    ``volids`` is the set of volume ids in use (updated).
    """
    parts = spec.split(':')
    kind, name = parts[0].upper(), parts[1] if len(parts) > 1 else ''
    if kind not in ('ECKD', 'FBA') or not name or len(parts) > 3:
        raise ValueError('disk pool must be ECKD:NAME or FBA:NAME '
                         '(optionally :COUNTxSIZE), not %r' % spec)
    unit = 'CYL' if kind == 'ECKD' else 'BLK'
    volume_size = CYL_PER_3390_54 if kind == 'ECKD' else (
        CYL_PER_3390_54 * CYL_BYTES // BLK_BYTES)
    count = DEFAULT_VOLUMES
    if len(parts) == 3:
        count_text, _x, size_text = parts[2].lower().partition('x')
        count, volume_size = int(count_text), int(size_text)
    if total is not None:
        count = max(1, -(-int(total) // volume_size))
    name = name.upper()
    prefix = ('E' if kind == 'ECKD' else 'F') + name[:1]
    volumes = []
    for _i in range(count):
        volid = '%s%04d' % (prefix, len(volids))
        volids.add(volid)
        # Free extents: [start, length], by start.
        volumes.append({'volid': volid, 'size': volume_size,
                        'free': [[1, volume_size]]})
    return name, {'type': kind, 'unit': unit, 'volumes': volumes}


def allocate(pool, size):
    """Place ``size`` units in one volume of the pool (first fit).

    :returns: ``(volid, start)``, or False when no single volume has a
        free extent that large
    """
    for vol in pool['volumes']:
        for extent in vol['free']:
            if extent[1] >= size:
                start = extent[0]
                extent[0] += size
                extent[1] -= size
                vol['free'] = [e for e in vol['free'] if e[1]]
                return vol['volid'], start
    return False


def release(pool, disk):
    """Return a minidisk's extent to its volume (merging neighbours)."""
    vol = pool and next((v for v in pool['volumes']
                         if v['volid'] == disk.get('volume')), None)
    if vol is None:
        return
    extents = sorted(vol['free'] + [[disk['start'], disk['size']]])
    merged = [extents[0]]
    for start, length in extents[1:]:
        last = merged[-1]
        if last[0] + last[1] == start:
            last[1] += length
        else:
            merged.append([start, length])
    vol['free'] = merged


def view(pool):
    """A pool's figures: totals, and per volume its largest free run."""
    volumes = {v['volid']: {'size': v['size'],
                            'free': sum(e[1] for e in v['free']),
                            'largest_free': max([e[1] for e in v['free']]
                                                or [0])}
               for v in pool['volumes']}
    return {'type': pool['type'], 'unit': pool['unit'],
            'total': sum(v['size'] for v in volumes.values()),
            'free': sum(v['free'] for v in volumes.values()),
            'largest_free': max([v['largest_free']
                                 for v in volumes.values()] or [0]),
            'volume_size': max([v['size'] for v in volumes.values()] or [0]),
            'volumes': volumes}
