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

"""Pre-flight checks of a spawn: everything that can be refused is refused
here, before the first call that changes z/VM.

Each error says what is wrong and what fixes it (the image property or the
option to set).
"""

import re

from nova import exception
from oslo_utils import units

from nova_zvm.virt import network
from nova_zvm.virt import userid as zvm_userid

# The distributions whose network configuration the Cloud Connector can
# write into a guest, with the releases it knows: a family is recognised by
# the start of the os_distro value, the release by the digits after it.
# RHCOS is left out: the connector deploys it from an Ignition file, not
# from a config drive.
_FAMILIES = (
    # (prefixes, connector name, releases)
    (('rhel', 'redhat', 'red hat'), 'rhel', ('6', '7', '8', '9')),
    (('sles', 'suse'), 'sles', ('11', '12', '15')),
    (('ubuntu',), 'ubuntu', ('16', '20', '22')),
)

SUPPORTED_HINT = ("set the image property os_distro to a distribution and "
                  "release the connector knows: rhel6-9, sles11, sles12, "
                  "sles15, ubuntu16, ubuntu20 or ubuntu22 (e.g. "
                  "os_distro=rhel8.6)")

_VERSION = re.compile(r'^[\s_-]*(\d+(?:\.\d+)*)')


def _unacceptable(image_meta, reason):
    return exception.ImageUnacceptable(image_id=image_meta.id, reason=reason)


def connector_os_version(image_meta):
    """The ``os_version`` the Cloud Connector expects for this image.

    ``os_distro`` carries the release (``rhel8.6``, ``sles15``): nova's
    image metadata has no separate version property.

    :raises ImageUnacceptable: os_distro missing or not configurable
    """
    props = image_meta.properties
    distro = (props.get('os_distro') or '').strip().lower()
    if not distro:
        raise _unacceptable(
            image_meta, "the image property os_distro is missing; the z/VM "
            "Cloud Connector needs it to configure the guest's network; "
            + SUPPORTED_HINT)
    for prefixes, family, releases in _FAMILIES:
        prefix = next((p for p in prefixes if distro.startswith(p)), None)
        if prefix is None:
            continue
        rest = distro[len(prefix):]
        match = _VERSION.match(rest)
        version = match.group(1) if match else ''
        if version.split('.')[0] in releases:
            return family + version
        raise _unacceptable(
            image_meta, "os_distro %r names no release the z/VM Cloud "
            "Connector can configure; %s"
            % (props.get('os_distro'), SUPPORTED_HINT))
    raise _unacceptable(
        image_meta, "os_distro %r is not a distribution the z/VM Cloud "
        "Connector can configure; %s" % (props.get('os_distro'),
                                         SUPPORTED_HINT))


def check_disk_format(image_meta):
    disk_format = image_meta.obj_attr_is_set('disk_format') and \
        image_meta.disk_format
    if disk_format != 'raw':
        raise _unacceptable(
            image_meta, "disk_format is %r but z/VM deploys only raw disk "
            "images; upload the image with disk_format=raw (a z/VM disk "
            "image made by the Cloud Connector's capture)" % disk_format)


def check_root_disk(instance, image_meta):
    """The flavor's root disk must hold the image (root_gb 0: image size)."""
    root_gb = instance.flavor.root_gb
    size = image_meta.size if image_meta.obj_attr_is_set('size') else None
    if root_gb and size and size > root_gb * units.Gi:
        raise _unacceptable(
            image_meta, "the image is %(size)d bytes but flavor %(flavor)s "
            "has a root disk of %(root)d GiB; use a flavor with root_gb of "
            "at least %(need)d" % {
                'size': size, 'flavor': instance.flavor.name,
                'root': root_gb, 'need': -(-size // units.Gi)})


def _disk_bytes(size):
    """Bytes of a connector disk size: '10g', '512m', or units (bare)."""
    text = str(size).lower()
    if text.endswith('g'):
        return int(text[:-1]) * units.Gi
    if text.endswith('m'):
        return int(text[:-1]) * units.Mi
    return None


def check_disks_fit(instance, disk_list, limit, unit_bytes):
    """Each minidisk must fit in one volume of the disk pool.

    DirMaint places a minidisk inside one volume, never across two (it
    answers 408/24 otherwise), so a flavor whose root or ephemeral disk
    is larger than the pool's largest volume can never be built here.

    :param limit: ``(units, unit)`` of the largest volume, or None
    :raises InvalidInput: naming the disk, the limit and the fix
    """
    if not limit:
        return
    count, unit = limit
    per_unit = unit_bytes[unit]
    max_bytes = count * per_unit
    for index, disk in enumerate(disk_list):
        size = disk['size']
        need = _disk_bytes(size)
        if need is None:
            # Bare units (an image-sized root disk): same unit as the pool.
            need = int(size) * per_unit
        # The connector rounds up to whole cylinders or blocks.
        if -(-need // per_unit) <= count:
            continue
        what = ('root disk' if disk.get('is_boot_disk') else
                'swap disk' if disk.get('format') == 'swap' else
                'ephemeral disk')
        raise exception.InvalidInput(reason=(
            "the %(what)s of flavor %(flavor)s (%(need).1f GiB) is larger "
            "than the largest volume of the z/VM disk pool (%(count)d "
            "%(unit)s, %(max)d GiB): z/VM places each minidisk inside one "
            "volume; use a flavor whose root and ephemeral disks are at "
            "most %(max)d GiB (a root_gb of 0 sizes the root disk from the "
            "image), or add larger volumes to the disk pool" % {
                'what': what, 'flavor': instance.flavor.name,
                'need': need / units.Gi, 'count': count, 'unit': unit,
                'max': max_bytes // units.Gi}))


def check_flavor_disks(instance, limit, unit_bytes):
    """The flavor's own disk sizes against the largest volume, early.

    Runs before the image is imported; an image-sized root disk (root_gb
    0) is checked once its size is known (``disks.plan``).
    """
    flavor = instance.flavor
    disks = []
    if flavor.root_gb:
        disks.append({'size': '%dg' % flavor.root_gb, 'is_boot_disk': True})
    if flavor.ephemeral_gb:
        disks.append({'size': '%dg' % flavor.ephemeral_gb})
    if flavor.swap:
        disks.append({'size': '%dm' % flavor.swap, 'format': 'swap'})
    check_disks_fit(instance, disks, limit, unit_bytes)


def check_spawn(instance, image_meta, network_info):
    """Run every pre-flight check of a spawn.

    :returns: ``(userid, connector os_version, NIC plans)``
    :raises InvalidInput: bad userid or unmapped physical network
    :raises ImageUnacceptable: bad disk_format, os_distro or size
    """
    userid = zvm_userid.for_instance(instance)
    check_disk_format(image_meta)
    os_version = connector_os_version(image_meta)
    check_root_disk(instance, image_meta)
    nics = network.plan_nics(network_info or [])
    return userid, os_version, nics
