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

"""Evacuate: recreate a failed member's guest on a surviving member.

Inside an SSI cluster the guest's directory entry and minidisks are
shared: the surviving member adopts the guest (its connector registers
it) and starts it; nothing is deployed. Outside an SSI (or when the entry
is gone) nova rebuilds the guest from its image through destroy and
spawn. When the failed member's nova-compute comes back, nova destroys
the evacuated instance there with ``destroy_disks=False`` (the shared
storage check says the directory is shared): that member only forgets
the guest, see ``migration.release``.

A guest with volumes is refused in :func:`instance_on_disk`, the first
driver call of nova's evacuate, before the network or the volumes move:
its directory entry dedicates the failed member's FCP devices.
"""

from nova.compute import task_states
from nova import context as nova_context
from nova import exception as nova_exception
from oslo_log import log as logging

from nova_zvm import exception as zvm_exception
from nova_zvm.virt import migration
from nova_zvm.virt import ssi
from nova_zvm.virt import userid as zvm_userid

LOG = logging.getLogger(__name__)


def instance_on_disk(client, instance):
    """Is the guest's directory entry visible from this system's SSI?

    Only inside an SSI cluster: a single system's directory is its own,
    so a guest of another system is never on this one's disks.

    :raises InstanceFaultRollback: the guest has volumes (nova then keeps
        the server as it was and records the reason as its fault)
    """
    name, _members = ssi.cluster(client)
    if not name:
        return False
    userid = zvm_userid.for_instance(instance)
    try:
        entry = client.guest_get_user_direct(userid)
    except zvm_exception.ZVMConnectorError as err:
        LOG.info('No directory entry %(user)s in SSI cluster %(ssi)s: '
                 '%(err)s', {'user': userid, 'ssi': name, 'err': err},
                 instance=instance)
        return False
    if not (entry or {}).get('user_direct'):
        return False
    _check_no_volumes(instance)
    return True


def _check_no_volumes(instance):
    try:
        migration.check_no_volumes(nova_context.get_admin_context(),
                                   instance, instance.node)
    except nova_exception.MigrationPreCheckError as err:
        LOG.error('Evacuation refused: %s', err, instance=instance)
        raise nova_exception.InstanceFaultRollback(inner_exception=err)


def recreate(client, power, context, instance, image_meta, bdms,
             detach_block_devices, attach_block_devices, network_info):
    """Adopt and start the evacuated guest (nova's rebuild steps)."""
    detach_block_devices(context, bdms)
    instance.task_state = task_states.REBUILD_BLOCK_DEVICE_MAPPING
    instance.save(expected_task_state=[task_states.REBUILDING])
    attach_block_devices(context, instance, bdms)
    instance.task_state = task_states.REBUILD_SPAWNING
    instance.save(
        expected_task_state=[task_states.REBUILD_BLOCK_DEVICE_MAPPING])
    migration.adopt(client, power, instance, image_meta, network_info)
    # The guest was logged off with its member; nova stops it again
    # afterwards if the server was stopped.
    power.power_on(instance)
    LOG.info('Recreated evacuated guest %s on this member',
             zvm_userid.for_instance(instance), instance=instance)
