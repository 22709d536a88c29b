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

"""A guest's minidisks from its flavor and block device info.

The root disk comes first (the connector deploys the image onto it), then
the ephemeral disks, then swap. Sizes use the connector's notation: ``10g``
for GiB, ``512m`` for MiB, a bare number for cylinders or blocks.
"""

from nova import exception
from nova.virt import driver as nova_driver
from oslo_utils import units

from nova_zvm import conf
from nova_zvm.virt import validate

CONF = conf.CONF

DEFAULT_EPHEMERAL_FORMAT = 'ext4'
# Bytes per unit of a z/VM disk image: a 3390 cylinder of 4 KiB blocks,
# an FBA block.
UNIT_BYTES = {'CYL': 737280, 'BLK': 512}
# Formats the connector can put on a minidisk.
_FORMATS = ('ext2', 'ext3', 'ext4', 'xfs')


def _ephemeral_format(requested):
    fmt = (requested or CONF.default_ephemeral_format or
           DEFAULT_EPHEMERAL_FORMAT).lower()
    return fmt if fmt in _FORMATS else DEFAULT_EPHEMERAL_FORMAT


def _with_pool(disk):
    if CONF.zvm.disk_pool:
        disk['disk_pool'] = CONF.zvm.disk_pool
    return disk


def image_disk_size(client, image_name):
    """``(count, unit)`` of the image's root disk, e.g. ``(3338, 'CYL')``."""
    record = client.image_query(imagename=image_name)[0]
    count, _sep, unit = record['disk_size_units'].partition(':')
    return int(count), unit.upper()


def root_size(client, instance, image_meta, image_name):
    """The root disk's size; ImageUnacceptable if the image does not fit.

    A z/VM disk image records the size of the disk it was captured from,
    which is what it needs (its Glance size is the compressed file's).
    """
    count, unit = image_disk_size(client, image_name)
    root_gb = instance.flavor.root_gb
    if not root_gb:
        # root_gb 0: the disk is as large as the image's own disk.
        return str(count)
    unit_bytes = UNIT_BYTES.get(unit)
    # The connector rounds a size in GiB up to whole units.
    if unit_bytes and -(-root_gb * units.Gi // unit_bytes) < count:
        need = -(-count * unit_bytes // units.Gi)
        raise exception.ImageUnacceptable(
            image_id=image_meta.id,
            reason="the image's disk is %(count)d %(unit)s (%(need)d GiB) "
            "but flavor %(flavor)s has a root disk of %(root)d GiB; use a "
            "flavor with root_gb of at least %(need)d" % {
                'count': count, 'unit': unit, 'need': need,
                'flavor': instance.flavor.name, 'root': root_gb})
    return '%dg' % root_gb


def plan(client, instance, image_meta, image_name, block_device_info=None,
         volume_limit=None):
    """The guest's disks.

    :param volume_limit: ``(units, unit)`` of the disk pool's largest
        volume (``HostStats.disk_limit()``); None skips that check
    :returns: ``(disk_list for guest_create, ephemeral configuration for
        guest_config_minidisks)``
    :raises ImageUnacceptable: the root disk is smaller than the image's
    :raises InvalidInput: a disk is larger than any volume of the pool
    """
    flavor = instance.flavor
    root = root_size(client, instance, image_meta, image_name)
    disk_list = [_with_pool({'size': root, 'is_boot_disk': True})]

    ephemerals = nova_driver.block_device_info_get_ephemerals(
        block_device_info)
    if not ephemerals and flavor.ephemeral_gb:
        ephemerals = [{'size': flavor.ephemeral_gb, 'guest_format': None}]
    configs = []
    for index, eph in enumerate(ephemerals):
        fmt = _ephemeral_format(eph.get('guest_format'))
        disk_list.append(_with_pool({'size': '%dg' % eph['size'],
                                     'format': fmt}))
        configs.append({'format': fmt,
                        'mntdir': '/mnt/ephemeral%d' % index})

    swap = nova_driver.block_device_info_get_swap(block_device_info)
    swap_mb = swap.get('swap_size') or flavor.swap
    if swap_mb:
        disk_list.append(_with_pool({'size': '%dm' % swap_mb,
                                     'format': 'swap'}))
    validate.check_disks_fit(instance, disk_list, volume_limit, UNIT_BYTES)
    return disk_list, configs
