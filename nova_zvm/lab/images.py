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

"""z/VM disk image files as z/VM's own zthin scripts write and read them.

The lab's ``creatediskimage`` writes these on a capture, its
``unpackdiskimage`` accepts only these, and tests, the demo, the
benchmarks and devstack's sample image build theirs here, so every caller
uses the real format.

Source: ``creatediskimage`` and ``unpackdiskimage`` in
openmainframeproject/feilong, ``zthin-parts/zthin/bin/``. The header is
a 20-byte tag (``xCAT CKD Disk Image:``, ``xCAT FBA Disk Image:`` or
``xCAT FCP Disk Image:``), the disk size and unit right-aligned in 16
bytes (``        3338 CYL``), `` HLen: 0055`` and `` GZIP: <level>``
(55 bytes in all), padded with blanks (``printf "%-512s"``) to one
512-byte block; the disk's contents, gzip'd unless the level is 0,
follow. ``unpackdiskimage`` compares the first 20 bytes with those tags
and answers "Disk image type not recognized" to anything else.
"""

import gzip

# One header block; HLen counts the header's text without the padding.
HEADER_LEN = 512
HLEN = 55

TAGS = {'CKD': 'xCAT CKD Disk Image:', 'FBA': 'xCAT FBA Disk Image:',
        'FCP': 'xCAT FCP Disk Image:'}
# The lab's disk types for each tag (pools say ECKD, images say CKD).
_DISK_TYPES = {'CKD': 'ECKD', 'FBA': 'FBA', 'FCP': 'FCP'}
_DEFAULT_UNITS = {'CKD': 'CYL', 'FBA': 'BLK', 'FCP': 'BLK'}


def _kind(disk_type):
    kind = 'CKD' if disk_type in ('CKD', 'ECKD') else disk_type
    if kind not in TAGS:
        raise ValueError('disk type must be CKD, ECKD, FBA or FCP, not %r'
                         % disk_type)
    return kind


def image_header(disk_type, size, unit=None, compression=6):
    """The 512-byte header block of an image of a ``disk_type`` disk."""
    kind = _kind(disk_type)
    unit = unit or _DEFAULT_UNITS[kind]
    text = '%s%16s HLen: %04d GZIP: %d' % (
        TAGS[kind], '%d %s' % (size, unit), HLEN, compression)
    return text.ljust(HEADER_LEN).encode('ascii')


def parse_header(data):
    """(disk type, size, unit, gzip level) of an image, or None.

    Read as ``unpackdiskimage`` reads it: the tag in bytes 0-19, the size
    and unit in bytes 20-35, ``HLen:`` at byte 37 and the compression
    level at byte 54.
    """
    text = data[:HEADER_LEN].decode('ascii', 'replace')
    kind = next((k for k, tag in TAGS.items() if text[:20] == tag), None)
    if kind is None:
        return None
    fields = text[20:36].split()
    if len(fields) != 2 or not fields[0].isdigit():
        return None
    level = 6
    if text[37:42] == 'HLen:' and text[54:55].isdigit():
        level = int(text[54])
    return _DISK_TYPES[kind], int(fields[0]), fields[1], level


def build_image(disk_type='CKD', size=10, unit=None, payload=b'',
                compression=6):
    """The bytes of a whole image file: the header block, then the disk.

    ``disk_type`` is CKD (or ECKD), FBA or FCP; ``unit`` defaults to CYL
    for CKD and BLK otherwise. The payload is gzip'd at ``compression``
    (0: stored as it is, as ``creatediskimage`` does).
    """
    body = gzip.compress(payload, compression) if compression else payload
    return image_header(disk_type, size, unit, compression) + body
