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

"""Spawn: nova's build turned into Cloud Connector calls, in order, each
undone if a later one fails.

    1. validate (no call that changes z/VM before this passes)
    2. image on the connector (single flight per image; kept as a cache)
    3. disks from the flavor and block device info; the root disk must
       hold the image's disk (still nothing changed on z/VM)
    4. config drive: built locally, uploaded, local copy removed
    5. guest_create -> guest_deploy -> ephemerals -> NICs, vswitch
       coupling, grants, VLAN ids; wait for network-vif-plugged
    6. start, unless power_on is False, and wait until the guest is
       reachable (``[zvm] reachable_timeout``; 0: do not wait)

On failure the undo steps registered so far run in reverse; an undo error
is logged and the original error is raised.
"""

import contextlib
import functools

from nova import exception as nova_exception
from oslo_log import log as logging
from oslo_utils import excutils

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import bfv
from nova_zvm.virt import configdrive
from nova_zvm.virt import disks
from nova_zvm.virt import image
from nova_zvm.virt import network
from nova_zvm.virt import ownership
from nova_zvm.virt import teardown
from nova_zvm.virt import validate
from nova_zvm.virt import volumes

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# The destroy path lives in teardown; the driver reaches both through here.
destroy = teardown.destroy
cleanup_local = teardown.cleanup_local


class _Undo(object):
    """Undo steps of one spawn, run last-in first-out on failure."""

    def __init__(self, instance):
        self._instance = instance
        self._steps = []

    def push(self, what, func, *args):
        self._steps.append((what, functools.partial(func, *args)))

    def run(self):
        while self._steps:
            what, step = self._steps.pop()
            try:
                step()
            except Exception:
                # Never mask the spawn's own error with a cleanup error.
                LOG.exception('Spawn rollback: could not %s', what,
                              instance=self._instance)


def _memory_limit(memory_mb):
    """The connector's max_mem notation: 1-4 digits and M or G."""
    if memory_mb % 1024 == 0 or memory_mb > 9999:
        return '%dG' % -(-memory_mb // 1024)
    return '%dM' % memory_mb


def _check_absent(client, userid):
    """Refuse to spawn over a guest the connector already has."""
    if userid in {u.upper() for u in client.guest_list() or []}:
        raise nova_exception.InstanceExists(name=userid)


def _create_guest(client, undo, instance, userid, disk_list, extra=None):
    """guest_create, recorded as this instance's guest first.

    The userid taken (409, or DirMaint's "already defined") means the
    guest is someone else's: the record is dropped and nothing is deleted.
    Any other failure may leave a half-made entry (its disks failed),
    which the undo deletes.
    """
    kwargs = {'disk_list': disk_list,
              'max_cpu': max(CONF.zvm.max_guest_vcpus, instance.vcpus),
              'max_mem': _memory_limit(max(CONF.zvm.max_guest_memory_mb,
                                           instance.memory_mb))}
    if CONF.zvm.user_profile:
        kwargs['user_profile'] = CONF.zvm.user_profile
    # Boot from volume: the dedicated FCPs, IPL and LOADDEV.
    kwargs.update(extra or {})
    owners = ownership.OwnerRegistry()
    owners.set(userid, instance.uuid)
    try:
        client.guest_create(userid, instance.vcpus, instance.memory_mb,
                            **kwargs)
    except zvm_exception.ZVMConnectorError as err:
        if _taken(err):
            owners.discard(userid, instance.uuid)
            raise nova_exception.InstanceExists(name=userid) from err
        undo.push('delete half-created guest %s' % userid,
                  teardown.delete_owned_guest, client, instance, userid)
        raise
    except Exception:
        owners.discard(userid, instance.uuid)
        raise
    undo.push('delete guest %s' % userid, teardown.delete_owned_guest,
              client, instance, userid)


def _taken(err):
    # SMAPI Image_Create_DM rc 400 rs 8: the directory has the userid
    # (a guest the connector does not manage).
    return isinstance(err, zvm_exception.Conflict) or (
        err.rc == 400 and err.rs == 8)


def _plug(client, undo, userid, os_version, nics, hostname):
    """NICs with their network configuration, coupling, grants and VLANs."""
    network.create_interfaces(client, userid, os_version, nics, hostname)
    for nic in nics:
        network.couple(client, userid, nic)
    for vswitch, vlan in sorted(network.grants_needed(nics).items()):
        # Registered first: a failed VLAN set leaves the grant behind.
        undo.push('revoke %s on vswitch %s' % (userid, vswitch),
                  teardown.revoke_unrecorded, client, userid, [vswitch])
        network.grant(client, userid, vswitch, vlan)


def spawn(client, virtapi, context, instance, image_meta, injected_files,
          admin_password, allocations, network_info, block_device_info=None,
          power_on=True, image_manager=None, volume_limit=None):
    """Build ``instance`` as a z/VM guest; all or nothing.

    :param image_manager: the driver's ``image.ImageManager`` (a new one
        on ``client`` when None; single flight holds across instances)
    :param volume_limit: the largest minidisk the disk pool can place,
        ``(units, unit)``; a larger disk is refused before any is created
    """
    network_info = network_info or []
    root = bfv.root_volume(block_device_info)
    if root is not None:
        return _spawn_from_volume(client, virtapi, instance, image_meta,
                                  injected_files, admin_password,
                                  network_info, root, power_on)
    userid, os_version, nics = validate.check_spawn(instance, image_meta,
                                                    network_info)
    validate.check_flavor_disks(instance, volume_limit, disks.UNIT_BYTES)
    _check_absent(client, userid)
    image_manager = image_manager or image.ImageManager(client)
    undo = _Undo(instance)
    LOG.info('Spawning guest %(user)s from image %(image)s',
             {'user': userid, 'image': image_meta.id}, instance=instance)
    with _rolled_back_on_failure(undo, instance, userid):
        image_name = image_manager.ensure(context, image_meta)
        disk_list, ephemerals = disks.plan(client, instance, image_meta,
                                           image_name, block_device_info,
                                           volume_limit=volume_limit)

        def create_and_deploy(transportfiles):
            _create_guest(client, undo, instance, userid, disk_list)
            client.guest_deploy(userid, image_name,
                                transportfiles=transportfiles)
            if ephemerals:
                client.guest_config_minidisks(userid, ephemerals)

        _build(client, virtapi, undo, instance, userid, os_version, nics,
               network_info, injected_files, admin_password, power_on,
               create_and_deploy)
    LOG.info('Spawned guest %(user)s (%(state)s)',
             {'user': userid, 'state': 'started' if power_on else 'off'},
             instance=instance)


def _build(client, virtapi, undo, instance, userid, os_version, nics,
           network_info, injected_files, admin_password, power_on,
           create_and_deploy):
    """The steps of every build around ``create_and_deploy``.

    The config drive is uploaded first (it rides on the deploy), the NICs
    are plugged after it, and the guest starts last.
    """
    undo.push('remove the local config drive', configdrive.remove, instance)
    iso = configdrive.build(instance, injected_files, admin_password,
                            network_info)
    transportfiles = configdrive.upload(client, iso)
    configdrive.remove(instance)

    create_and_deploy(transportfiles)

    network.plug_and_wait(
        virtapi, instance, network_info,
        functools.partial(_plug, client, undo, userid, os_version, nics,
                          instance.hostname))
    if power_on:
        # The connector waits until the guest answers over IUCV (its
        # network configured): an unreachable guest fails the build.
        client.guest_start(userid, timeout=CONF.zvm.reachable_timeout or None)


@contextlib.contextmanager
def _rolled_back_on_failure(undo, instance, userid):
    try:
        yield
    except Exception as err:
        with excutils.save_and_reraise_exception():
            LOG.error('Spawn of guest %(user)s failed, rolling back: '
                      '%(err)s', {'user': userid, 'err': err},
                      instance=instance)
            undo.run()


def _spawn_from_volume(client, virtapi, instance, image_meta, injected_files,
                       admin_password, network_info, root, power_on):
    """Build a guest that boots from its root volume (see ``bfv``)."""
    ops = volumes.VolumeOps(client)
    try:
        userid, os_version, nics, wwpns, lun = bfv.check(
            instance, image_meta, network_info, root)
    except nova_exception.Invalid:
        with excutils.save_and_reraise_exception():
            bfv.release_refused(ops, instance)
    _check_absent(client, userid)
    undo = _Undo(instance)
    LOG.info('Spawning guest %(user)s from volume %(vol)s',
             {'user': userid,
              'vol': (root.get('connection_info') or {}).get('serial')},
             instance=instance)
    with _rolled_back_on_failure(undo, instance, userid):
        fcps, extra = bfv.prepare(client, ops, undo, instance, userid,
                                  wwpns, lun)

        def create_and_deploy(transportfiles):
            _create_guest(client, undo, instance, userid, [], extra=extra)
            # Nothing to copy: the LUN holds the image; the config drive
            # is punched. The connector takes the OS version as the image
            # name.
            client.guest_deploy(userid, os_version,
                                transportfiles=transportfiles,
                                skipdiskcopy=True)
            bfv.record_root(client, instance, userid, fcps, wwpns, lun,
                            os_version, root.get('mount_device'))

        _build(client, virtapi, undo, instance, userid, os_version, nics,
               network_info, injected_files, admin_password, power_on,
               create_and_deploy)
    LOG.info('Spawned guest %(user)s from a volume (%(state)s)',
             {'user': userid, 'state': 'started' if power_on else 'off'},
             instance=instance)
