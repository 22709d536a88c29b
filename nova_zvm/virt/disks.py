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

from nova.virt import driver as nova_driver

from nova_zvm import conf

CONF = conf.CONF

DEFAULT_EPHEMERAL_FORMAT = 'ext4'
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


def plan(client, instance, image_name, block_device_info=None):
    """The guest's disks.

    :returns: ``(disk_list for guest_create, ephemeral configuration for
        guest_config_minidisks)``
    """
    flavor = instance.flavor
    if flavor.root_gb:
        root_size = '%dg' % flavor.root_gb
    else:
        # root_gb 0: the disk is as large as the image's own disk.
        root_size = str(client.image_get_root_disk_size(image_name))
    disk_list = [_with_pool({'size': root_size, 'is_boot_disk': True})]

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
    return disk_list, configs
