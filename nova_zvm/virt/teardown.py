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

"""Destroy: remove a guest and everything a spawn made for it.

Idempotent: a guest that is not there is already destroyed; a guest that
is not the instance's (see ``ownership``) is left alone. Vswitch
grants are not part of the guest's directory entry: the connector revokes
those of coupled NICs, the rest are revoked here. The local config drive
is removed too.
"""

import time

from nova import exception as nova_exception
from oslo_log import log as logging

from nova_zvm import exception as zvm_exception
from nova_zvm.virt import configdrive
from nova_zvm.virt import logoff
from nova_zvm.virt import network
from nova_zvm.virt import ownership
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import volumes

LOG = logging.getLogger(__name__)

# Seconds to wait before each repeat of a failed guest delete. Deleting is
# safe to repeat (absent is success), and a delete that fails for good
# during a failed build leaks the guest: nova then clears the instance's
# host, so the user's later delete never reaches a driver.
DELETE_RETRY_DELAYS = (1, 2)
# What a repeat may cure: z/VM's or the connector's failure (DirMaint
# busy, a failed SMAPI call), the connector down or slow. Refused input
# and foreign guests are not repeated.
_DELETE_RETRIED = (zvm_exception.ZVMFailure, zvm_exception.Busy,
                   zvm_exception.ConnectionFailed, zvm_exception.Timeout)


def delete_guest(client, userid, sleep=time.sleep):
    """Delete the guest; absent is success (the connector says so too).

    A running guest is logged off first, and the delete waits until z/VM
    has finished: DirMaint does not purge a user that is still logging
    off, and the connector then reports success for a guest it left
    behind (zvmsdk's 596/6831 handling ignores its second failure).
    A failed delete is repeated after each of ``DELETE_RETRY_DELAYS``;
    the last failure is raised.
    """
    logoff.stop_if_running(client, userid)
    attempts = len(DELETE_RETRY_DELAYS) + 1
    for attempt in range(1, attempts + 1):
        try:
            _delete_once(client, userid)
            return
        except _DELETE_RETRIED as err:
            if attempt == attempts:
                raise
            delay = DELETE_RETRY_DELAYS[attempt - 1]
            LOG.warning('Deleting guest %(user)s failed (attempt %(n)d of '
                        '%(all)d), trying again in %(delay)s s: %(err)s',
                        {'user': userid, 'n': attempt, 'all': attempts,
                         'delay': delay, 'err': err})
            sleep(delay)


def _delete_once(client, userid):
    """One guest_delete, registering a user the connector lost first.

    The connector (1.6.3) answers success for a user that is nowhere, and
    404 for a user that is in z/VM's directory but not in its database
    (e.g. it went down between creating the user and recording it): it
    will not delete that one. Only our own guests come here (see
    ``delete_owned_guest``), so the user is registered and deleted.
    """
    try:
        client.guest_delete(userid)
        return
    except zvm_exception.NotFound as err:
        LOG.warning('The Cloud Connector has no record of guest %(user)s '
                    'but z/VM may have its directory entry (%(err)s): '
                    'registering it to delete it',
                    {'user': userid, 'err': err})
    try:
        # Database only, as guest_create records it; the connector then
        # reads the NICs of the running guest, which fails for a logged
        # off one after the guest is recorded: the delete tells.
        client.guest_register(userid, '', '0')
    except zvm_exception.NotFound:
        LOG.debug('Guest %s is not in the z/VM directory: already gone',
                  userid)
        return
    except zvm_exception.ZVMConnectorError as err:
        LOG.debug('Registering guest %(user)s: %(err)s',
                  {'user': userid, 'err': err})
        try:
            client.guest_delete(userid)
        except zvm_exception.NotFound:
            # Still unknown to the connector: the register failed.
            raise err
        return
    client.guest_delete(userid)


def delete_owned_guest(client, instance, userid, network_info=None):
    """Delete ``userid`` (and revoke its grants) if it is ``instance``'s.

    :returns: False when the guest belongs to someone else (left alone)
    """
    owners = ownership.OwnerRegistry()
    if owners.check(instance, userid) == ownership.FOREIGN:
        if not _exists(client, userid):
            # A build that failed before its guest existed (or whose
            # rollback removed it): nothing to keep, nothing to tell.
            LOG.debug('Guest %s does not exist: nothing to destroy', userid,
                      instance=instance)
            return False
        ownership.refuse(instance, userid)
        return False
    revoke_unrecorded(client, userid,
                      network.vswitches_of(network_info or []))
    delete_guest(client, userid)
    owners.discard(userid, instance.uuid)
    return True


def _exists(client, userid):
    """Whether z/VM has the guest; when unsure (an error), it may."""
    try:
        client.guest_get_power_state(userid)
    except zvm_exception.NotFound:
        return False
    except zvm_exception.ZVMConnectorError:
        return True
    return True


def revoke_grants(client, userid, vswitches):
    """Revoke ``userid`` on each vswitch; a failure is logged, not raised.

    A vswitch the user was never granted on may refuse the revoke; that
    must not stop a destroy.
    """
    for vswitch in sorted(vswitches):
        try:
            network.revoke(client, userid, vswitch)
        except zvm_exception.ZVMConnectorError as err:
            LOG.warning('Could not revoke %(user)s on vswitch %(vsw)s: '
                        '%(err)s', {'user': userid, 'vsw': vswitch,
                                    'err': err})


def revoke_unrecorded(client, userid, vswitches):
    """Revoke grants the connector will not revoke when it deletes the guest.

    The connector revokes the grants of the vswitches it coupled the
    guest's NICs to; a grant without a recorded couple (a spawn interrupted
    after granting) is revoked here. Call it before deleting the guest,
    while the connector still has its NIC records.
    """
    try:
        vswitches = set(vswitches) - network.vswitches_on_connector(client,
                                                                    userid)
    except zvm_exception.ZVMConnectorError as err:
        LOG.warning('Could not list the NICs of %(user)s: %(err)s',
                    {'user': userid, 'err': err})
    revoke_grants(client, userid, vswitches)


def cleanup_local(instance):
    """Remove the instance's local config drive (and its directory)."""
    configdrive.remove(instance)


def destroy(client, context, instance, network_info, block_device_info=None,
            destroy_disks=True):
    """Remove the guest, its vswitch grants and its local files.

    ``destroy_disks`` has no effect here: a z/VM guest's minidisks belong
    to its directory entry and go with it. The driver never calls this
    with ``destroy_disks=False`` (a shared entry, see ``migration.release``).

    :returns: True when the instance's guest is gone now
    """
    try:
        userid = zvm_userid.for_instance(instance)
    except nova_exception.InvalidInput:
        # No valid userid: nothing of it can exist on z/VM.
        cleanup_local(instance)
        return False
    deleted = delete_owned_guest(client, instance, userid, network_info)
    cleanup_local(instance)
    if deleted:
        # The connector keeps the deleted guest's FCP records: end them.
        volumes.VolumeOps(client).release_guest(instance, userid)
    if deleted:
        LOG.info('Destroyed guest %s', userid, instance=instance)
    return deleted
