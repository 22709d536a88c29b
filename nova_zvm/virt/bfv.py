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

"""Boot from volume: a guest that IPLs from an FCP LUN holding its image.

The root volume already holds a z/VM image (Cinder made it from Glance).
The steps, each undone on failure: write the LUN's bootmap through the
guest's FCP devices (``volume_refresh_bootmap``), define the guest with
the devices dedicated and LOADDEV pointing at the LUN, deploy without a
disk copy (only the config drive is punched), record the root volume's
connection with the connector, set up the network and start. The guest
has no minidisks; destroy deletes the guest and leaves the volume alone.
"""

from nova import exception as nova_exception
from nova.virt import driver as virt_driver
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm.virt import network
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import validate
from nova_zvm.virt import volumes

CONF = conf.CONF
LOG = logging.getLogger(__name__)


def root_volume(block_device_info):
    """The boot volume's mapping in nova's block device info, or None."""
    for bdm in virt_driver.block_device_info_get_mapping(block_device_info):
        if bdm.get('boot_index') == 0:
            return bdm
    return None


def _refuse(reason):
    return nova_exception.InvalidInput(reason=reason)


def check(instance, image_meta, network_info, root):
    """Every check of a boot from volume, before anything is made.

    :returns: ``(userid, os_version, NIC plans, target WWPNs, LUN)``
    """
    userid = zvm_userid.for_instance(instance)
    info = root.get('connection_info') or {}
    wwpns, lun = volumes.fc_target(info)
    flavor = instance.flavor
    if flavor.ephemeral_gb or flavor.swap:
        raise _refuse(
            'flavor %s has ephemeral or swap disks; a z/VM guest booted '
            'from a volume gets no minidisks: use a flavor with ephemeral '
            'and swap of 0, and attach more volumes for data' % flavor.name)
    os_version = validate.connector_os_version(image_meta)
    size = root.get('volume_size')
    min_disk = getattr(image_meta, 'min_disk', None) or 0
    if size and min_disk and size < min_disk:
        raise _refuse(
            'root volume %s is %d GiB but its image needs at least %d GiB '
            '(min_disk): create the volume with a size of at least %d'
            % (info.get('serial'), size, min_disk, min_disk))
    nics = network.plan_nics(network_info or [])
    return userid, os_version, nics, wwpns, lun


def release_refused(ops, instance):
    """After a refusal: end the reservation nova's connector call made.

    Nova asks for the guest's connector (which reserves its FCP devices)
    before spawn; only devices without a volume connection are released.
    """
    try:
        userid = zvm_userid.for_instance(instance)
    except nova_exception.InvalidInput:
        return
    ops.release_quietly(userid, instance)


def prepare(client, ops, undo, instance, userid, wwpns, lun):
    """Reserve the guest's FCPs and write the LUN's bootmap.

    :returns: the guest's FCP devices and the guest_create keywords that
        dedicate them and point LOADDEV at the LUN
    """
    connector = ops.connector(instance)
    fcps = connector['zvm_fcp']
    # Runs after the guest's deletion (LIFO): the records go last.
    undo.push('release the FCP devices of %s' % userid, ops.release_guest,
              instance, userid)
    LOG.info('Writing the bootmap of LUN %(lun)s through FCP %(fcps)s',
             {'lun': lun, 'fcps': ','.join(fcps)}, instance=instance)
    client.volume_refresh_bootmap(fcps, ['0x' + w for w in wwpns], lun,
                                  fcp_template_id=ops.template_id())
    return fcps, {'ipl_from': fcps[0], 'dedicate_vdevs': fcps,
                  'loaddev': {'portname': wwpns[0], 'lun': lun[2:]}}


def record_root(client, instance, userid, fcps, wwpns, lun, os_version,
                mountpoint):
    """The root volume's connection, in the connector's FCP records."""
    client.volume_attach({
        'assigner_id': userid, 'zvm_fcp': fcps,
        'target_wwpn': ['0x' + w for w in wwpns], 'target_lun': lun,
        'os_version': os_version,
        'multipath': 'true' if len(fcps) > 1 else 'false',
        'mount_point': mountpoint or '/dev/sda', 'is_root_volume': True})
