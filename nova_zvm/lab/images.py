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

"""z/VM disk image files: the header zvmsdk reads, and whole small images.

The lab writes these for creatediskimage (a capture) and tests, the demo
and the benchmarks hand them to the Cloud Connector as images to import.
"""

import gzip
import re

# Header layout read back by zvmsdk (hexdump, fixed offsets): bytes 20-31
# hold a right-aligned size, 33-35 the unit, and the text names CKD/FBA.
HEADER_LEN = 64

_DEFAULT_UNITS = {'CKD': 'CYL', 'FBA': 'BLK'}


def _kind(disk_type):
    # The lab's disks say ECKD; image headers (and callers) say CKD.
    return 'CKD' if disk_type in ('CKD', 'ECKD') else 'FBA'


def image_header(disk_type, size, unit, compression=6):
    """The 64-byte header of an image of a ``disk_type`` minidisk."""
    text = 'z/VM %s Disk Image:%12d %s HLen: 0064 GZIP: %d' % (
        _kind(disk_type), size, unit, compression)
    return text.ljust(HEADER_LEN - 1).encode() + b'\n'


def parse_header(data):
    """(type, size, unit) from an image header, or None if it is not one."""
    text = data[:HEADER_LEN].decode('ascii', 'replace')
    m = re.match(r'z/VM (CKD|FBA) Disk Image:\s*(\d+) (CYL|BLK)', text)
    if not m:
        return None
    return ('ECKD' if m.group(1) == 'CKD' else 'FBA', int(m.group(2)),
            m.group(3))


def build_image(disk_type='CKD', size=10, unit=None, payload=b'',
                compression=6):
    """The bytes of a whole image file: header, then the gzip'd payload.

    ``disk_type`` is CKD (or ECKD) or FBA; ``unit`` defaults to CYL for
    CKD and BLK for FBA.
    """
    unit = unit or _DEFAULT_UNITS[_kind(disk_type)]
    return (image_header(disk_type, size, unit, compression) +
            gzip.compress(payload, compression))
