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

"""Resize and cold migration: nova's move steps for a stopped guest.

A guest's directory entry and minidisks are the guest. On one host a
resize only changes the entry; between members of one SSI cluster the
entry and the disks are shared, so a move copies nothing: the source
stops the guest and its connector forgets it (``deregister_vm``), the
destination's connector adopts it (``register_vm``) and starts it there.
Anything else (two z/VM systems that share no directory) is refused
before the guest is touched.

    migrate_disk_and_power_off   source: check, stop, release if moving
    finish_migration             destination: adopt if moved, new shape,
                                 start (unless the server was stopped)
    confirm_migration            nothing left to do: the source released
                                 the guest (and its grants) when it moved
    destroy(destroy_disks=False) destination, on revert: stop, release if
                                 moved (``revert_at_destination``)
    finish_revert_migration      source: adopt if moved, old shape, start
"""

from nova.compute import task_states
from nova import exception as nova_exception
from nova.i18n import _
from nova import objects
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_zvm.virt import handover
from nova_zvm.virt import logoff
from nova_zvm.virt import network
from nova_zvm.virt import resize
from nova_zvm.virt import ssi
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import validate

LOG = logging.getLogger(__name__)


# SSI membership ------------------------------------------------------------

def shared_directory_data(client, nodename):
    """What nova's shared storage check carries to the other host."""
    name, _members = ssi.cluster(client)
    return {'ssi': name, 'system': nodename.upper()}


def shares_directory(client, nodename, data):
    """Does this system see the directory of the one ``data`` describes?"""
    if not data:
        return False
    if (data.get('system') or '').upper() == nodename.upper():
        return True
    name, _members = ssi.cluster(client)
    return bool(name) and name == data.get('ssi')


def check_same_ssi(client, source_node, dest_node):
    """Refuse a move to a system outside this member's SSI cluster."""
    name, members = ssi.cluster(client)
    dest = dest_node.upper()
    if not name:
        raise nova_exception.MigrationPreCheckError(
            reason=_('z/VM system %(src)s is not a member of an SSI '
                     'cluster: a guest can move only between members of '
                     'one SSI cluster (they share its directory and '
                     'disks), not to %(dest)s')
            % {'src': source_node, 'dest': dest_node})
    if dest not in members:
        raise nova_exception.MigrationPreCheckError(
            reason=_('z/VM system %(dest)s is not a member of SSI cluster '
                     '%(ssi)s (members: %(members)s): a guest can move '
                     'only inside its SSI cluster')
            % {'dest': dest_node, 'ssi': name,
               'members': ', '.join(sorted(members))})
    if members[dest] not in (None, 'Joined'):
        raise nova_exception.MigrationPreCheckError(
            reason=_('SSI member %(dest)s is %(state)s, not Joined')
            % {'dest': dest_node, 'state': members[dest]})


def check_no_volumes(context, instance, source_node):
    """Refuse to move a guest with volumes to another member.

    Its FCP devices are the source member's, dedicated in the guest's
    shared directory entry; this driver does not re-dedicate the
    destination's. Checked before the guest is touched.
    """
    volumes = [bdm.volume_id for bdm in
               objects.BlockDeviceMappingList.get_by_instance_uuid(
                   context, instance.uuid) if bdm.is_volume]
    if volumes:
        raise nova_exception.MigrationPreCheckError(reason=_(
            'guest %(user)s has volumes attached (%(vols)s): their FCP '
            'devices are dedicated to it at z/VM system %(src)s and this '
            'driver does not move them to another member. Detach the '
            'volumes first, then move the server (a resize on the same '
            'host keeps them; a server booted from a volume cannot move '
            'to another member).')
            % {'user': zvm_userid.for_instance(instance),
               'vols': ', '.join(sorted(volumes)), 'src': source_node})


# Handing a stopped guest over between members (see handover) -------------

def release(client, power, instance, network_info):
    """This member's connector and records forget the (stopped) guest.

    The directory entry and disks stay: they are the guest, and another
    member's connector has it, or will adopt it. Its grants on this
    member's vswitches go with it.
    """
    handover.release(client, instance, power=power,
                     network_info=network_info or [])


def adopt(client, power, instance, image_meta, network_info):
    """This member's connector manages the logged-off guest from now on.

    The vswitch grants are this member's own: given here, before the
    guest is started at this member.
    """
    handover.adopt(client, instance,
                   validate.connector_os_version(image_meta), network_info,
                   logged_off=True)
    userid = zvm_userid.for_instance(instance)
    nics = network.plan_nics(network_info or [])
    for vswitch, vlan in sorted(network.grants_needed(nics).items()):
        network.grant(client, userid, vswitch, vlan)
    power.forget(instance)


# nova's steps --------------------------------------------------------------

def _moving_migration(context, instance):
    return objects.Migration.get_by_instance_and_status(
        context, instance.uuid, 'migrating')


def _moves(migration):
    return (migration.source_node or '').upper() != \
        (migration.dest_node or '').upper()


def migrate_disk_and_power_off(client, power, context, instance, flavor,
                               network_info, timeout=0, retry_interval=0):
    """Source: refuse what cannot be done, stop, release when moving.

    :returns: disk_info for finish_migration (the guest's userid)
    """
    migration = _moving_migration(context, instance)
    resize.check(client, instance, flavor)
    if _moves(migration):
        check_same_ssi(client, migration.source_node, migration.dest_node)
        check_no_volumes(context, instance, migration.source_node)
    power.power_off(instance, timeout=timeout, retry_interval=retry_interval)
    if _moves(migration):
        release(client, power, instance, network_info)
    return jsonutils.dumps({'userid': zvm_userid.for_instance(instance)})


def finish_migration(client, power, migration, instance, image_meta,
                     network_info, power_on):
    """Destination: adopt when moved, apply the flavor, start."""
    if _moves(migration):
        adopt(client, power, instance, image_meta, network_info)
    # (nova's resize_instance says whether disks change: never here.)
    if migration.old_instance_type_id != migration.new_instance_type_id:
        resize.apply_shape(client, instance, instance.flavor)
    if power_on:
        power.power_on(instance)


def is_revert_at_destination(instance):
    """destroy() called by revert_resize: the guest must survive."""
    return instance.task_state == task_states.RESIZE_REVERTING


def revert_at_destination(client, power, context, instance, network_info):
    """Destination, on revert: stop the guest; release it if it moved.

    Replaces the delete nova asks for: the entry is the one guest the
    source will start again.
    """
    userid = zvm_userid.for_instance(instance)
    logoff.stop_if_running(client, userid)
    power.forget(instance)
    migration = objects.Migration.get_by_instance_and_status(
        context, instance.uuid, 'reverting')
    if _moves(migration):
        release(client, power, instance, network_info)


def finish_revert_migration(client, power, migration, instance,
                            network_info, power_on):
    """Source, on revert: adopt again when moved, old shape, start."""
    if _moves(migration):
        adopt(client, power, instance,
              objects.ImageMeta.from_instance(instance), network_info)
    logoff.stop_if_running(client, zvm_userid.for_instance(instance))
    if migration.old_instance_type_id != migration.new_instance_type_id:
        resize.apply_shape(client, instance, instance.flavor)
    if power_on:
        power.power_on(instance)
