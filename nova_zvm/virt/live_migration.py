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

"""Live migration: z/VM live guest relocation between SSI members.

Each member of an SSI cluster runs its own nova-compute and Cloud
Connector; the directory and the disks are shared, so a running guest moves
with ``VMRELOCATE MOVE`` and nothing is copied. What nova calls, where:

===============================  ======  ===================================
nova's step                      host    here
===============================  ======  ===================================
check_can_live_migrate_dest.     dest    :func:`check_destination`: same SSI
                                         cluster, no block migration, the
                                         guest's vswitches defined and
                                         authorizing it, memory, vif events
check_can_live_migrate_source    source  :func:`check_source`: the guest
                                         runs here, no volumes,
                                         ``VMRELOCATE TEST`` passes
pre_live_migration               dest    :func:`pre_live_migration`: the
                                         destination's vswitches again (the
                                         NICs move with the guest: nothing
                                         to plug)
live_migration                   source  :func:`live_migrate`:
                                         ``VMRELOCATE MOVE``, then release
                                         (handover) and nova's post method;
                                         a failed MOVE calls nova's recover
                                         method and leaves the guest here
post_live_migration_at_dest.     dest    :func:`adopt`: the destination's
                                         connector and host manage the guest
rollback_live_migration_at_dest  dest    :func:`rollback_at_destination`
===============================  ======  ===================================

migrate_data: nova's conductor carries it between the hosts and cannot
import this package, so it must be one of nova's registered
LiveMigrateData subclasses (the base class is not registered for RPC). We
use **HyperVLiveMigrateData**: its only field of its own,
``is_shared_instance_path``, is true of no z/VM pair of hosts (False), and
nova's cleanup rules for it (``_live_migration_cleanup_flags``) are the ones
we need: ``driver.cleanup`` at the source after success (the local config
drive) and ``rollback_live_migration_at_destination`` on the destination
after a failure. LibvirtLiveMigrateData would pull libvirt's NUMA, vTPM and
shared-storage rules in; VMwareLiveMigrateData skips the destination's
rollback.

The destination's member name (its nova node, e.g. ``ZVMLAB02``) reaches
the source's check in ``migrate_data.migration.dest_node``: an unsaved
Migration made by the destination's check, since no field of
LiveMigrateData names the destination and the real migration record only
gets ``dest_node`` after the checks. nova replaces it with the real record
before ``live_migration``, where ``dest_node`` is the same member.
"""

import functools

from nova import exception as nova_exception
from nova import objects
from nova.objects import migrate_data as migrate_data_obj
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import handover
from nova_zvm.virt import network
from nova_zvm.virt import ssi as zvm_ssi
from nova_zvm.virt import userid as zvm_userid

CONF = conf.CONF
LOG = logging.getLogger(__name__)

#: The LiveMigrateData subclass this driver hands nova (see module doc).
LiveMigrateData = migrate_data_obj.HyperVLiveMigrateData

# VMRELOCATE options (zvmsdk's ``parms``): its defaults.
RELOCATE_PARMS = {}

JOINED = 'Joined'


def _refuse(reason):
    raise nova_exception.MigrationPreCheckError(reason=reason)


def _precheck(func):
    """A connector failure in a check refuses the migration.

    nova's conductor leaves the server ACTIVE on MigrationPreCheckError,
    while any other error of a check puts it into ERROR.
    """
    @functools.wraps(func)
    def wrapper(client, instance, *args, **kwargs):
        try:
            return func(client, instance, *args, **kwargs)
        except zvm_exception.ZVMConnectorError as err:
            _refuse('a z/VM Cloud Connector call failed while checking '
                    'guest %s: %s' % (zvm_userid.for_instance(instance),
                                      err))
    return wrapper


# SSI ----------------------------------------------------------------------

def ssi_members(client):
    """``(ssi_name, {member: state})`` of this host's cluster.

    ``(None, {})`` when the host is not a member of an SSI cluster.
    """
    try:
        return zvm_ssi.cluster(client)
    except zvm_exception.ZVMConnectorError as err:
        LOG.info('SSI_Query failed (%s): not a member of an SSI cluster',
                 err)
        return None, {}


# Checks -------------------------------------------------------------------

@_precheck
def check_destination(client, instance, src_compute_info, dst_compute_info,
                      block_migration=False):
    """The destination's checks; returns the migrate_data.

    :raises MigrationPreCheckError: naming what stops the move and the fix
    """
    userid = zvm_userid.for_instance(instance)
    if block_migration:
        _refuse('block migration is not supported on z/VM: the members of '
                'an SSI cluster share the guest\'s directory entry and '
                'disks, so nothing is copied. Live-migrate without '
                '--block-migrate.')
    source = _node(src_compute_info)
    dest = _node(dst_compute_info)
    ssi, members = ssi_members(client)
    if not ssi:
        _refuse('%s is not a member of an SSI cluster: z/VM relocates a '
                'running guest only between members of one SSI cluster. '
                'Use cold migration (nova migrate) instead.' % dest)
    if source not in members:
        _refuse('%(src)s and %(dest)s are not members of the same SSI '
                'cluster: %(dest)s belongs to %(ssi)s (members %(m)s). A '
                'running guest is relocated only within its SSI cluster.'
                % {'src': source, 'dest': dest, 'ssi': ssi,
                   'm': ', '.join(sorted(members))})
    for member in (source, dest):
        if members.get(member) != JOINED:
            _refuse('SSI member %s is %s, not %s: relocation needs both '
                    'members joined to cluster %s'
                    % (member, members.get(member), JOINED, ssi))
    network_info = instance.get_network_info()
    _check_vif_events(network_info)
    check_vswitches(client, userid, network_info, dest)
    _check_memory(client, instance, dest)
    data = LiveMigrateData(is_shared_instance_path=False)
    data.migration = objects.Migration(dest_compute=CONF.host,
                                       dest_node=dest)
    return data


def _node(compute_info):
    return ((compute_info or {}).get('hypervisor_hostname') or '').upper()


def _check_vif_events(network_info):
    # The NICs move with the guest: nothing reports them plugged on the
    # destination, so nova must not wait for network-vif-plugged.
    if (network_info and CONF.vif_plugging_timeout and
            CONF.compute.live_migration_wait_for_vif_plug):
        _refuse('nova would wait %ss for network-vif-plugged events that '
                'never come: a z/VM NIC moves with its guest and nothing '
                'reports it plugged on the destination. Set [compute] '
                'live_migration_wait_for_vif_plug = False on the z/VM '
                'compute hosts.' % CONF.vif_plugging_timeout)


def check_vswitches(client, userid, network_info, member):
    """The guest's vswitches exist on this member and authorize it.

    z/VM refuses to relocate a guest whose NIC's vswitch is missing on the
    destination or does not authorize the guest there (with its VLANs).
    This member's connector cannot grant a guest it does not manage yet
    (it refuses every call for a guest not in its database), so the
    authorization must exist already: see the SSI guide.
    """
    try:
        nics = network.plan_nics(network_info)
    except nova_exception.InvalidInput as err:
        _refuse('%s cannot connect the guest\'s NICs: %s'
                % (member, err.kwargs.get('reason', err)))
    needed = network.grants_needed(nics)
    defined = {str(v).upper() for v in client.vswitch_get_list() or []}
    missing = sorted(set(needed) - defined)
    if missing:
        _refuse('the guest\'s NICs are coupled to vswitch %s, which SSI '
                'member %s does not define: define it there with the same '
                'characteristics (or map the physical network to a '
                'vswitch it has in [zvm] vswitch_mappings)'
                % (', '.join(missing), member))
    for vswitch, vlans in sorted(needed.items()):
        users = _authorized(client, vswitch)
        granted = users.get(userid.upper())
        lacking = set(vlans) - set(granted or ())
        if granted is None or lacking:
            _refuse('guest %(user)s is not authorized on vswitch '
                    '%(vsw)s%(vlans)s at SSI member %(member)s, and that '
                    'member\'s Cloud Connector cannot grant a guest it does '
                    'not manage yet. Authorize the cloud\'s guests on the '
                    'vswitch at every member (an ESM profile, or SET '
                    'VSWITCH %(vsw)s GRANT on each member; see the SSI '
                    'guide).' % {'user': userid, 'vsw': vswitch,
                                 'member': member,
                                 'vlans': ' for VLAN %s' % ', '.join(
                                     map(str, sorted(lacking)))
                                 if lacking else ''})


def _authorized(client, vswitch):
    """``{USERID: {VLAN ids}}`` authorized on ``vswitch`` here."""
    info = client.vswitch_query(vswitch) or {}
    users = {}
    for userid, grant in (info.get('authorized_users') or {}).items():
        vlans = set()
        for vlan in (grant or {}).get('vlan_ids') or ():
            try:
                vlans.add(int(vlan))
            except (TypeError, ValueError):
                continue
        users[userid.upper()] = vlans
    return users


def _check_memory(client, instance, member):
    info = client.host_get_info() or {}
    try:
        free = int(info['memory_mb']) - int(info.get('memory_mb_used', 0))
    except (KeyError, TypeError, ValueError):
        return
    if instance.memory_mb > free:
        _refuse('SSI member %s has %d MB of memory free, the guest needs %d '
                'MB' % (member, free, instance.memory_mb))


@_precheck
def check_source(client, instance, dest_check_data, block_device_info):
    """The source's checks, ending with ``VMRELOCATE TEST``.

    :raises MigrationPreCheckError: naming what stops the move and the fix
    """
    userid = zvm_userid.for_instance(instance)
    if (block_device_info or {}).get('block_device_mapping'):
        _refuse('guest %s has volumes attached: their FCP devices are '
                'dedicated at this member and are not moved by this '
                'driver. Detach the volumes first, or use cold migration.'
                % userid)
    try:
        state = client.guest_get_power_state(userid)
    except zvm_exception.NotFound:
        _refuse('guest %s is not managed by this host\'s Cloud Connector'
                % userid)
    if state != 'on':
        _refuse('guest %s is %s: only a running guest can be relocated '
                'live. Use cold migration (nova migrate) for a stopped one.'
                % (userid, state))
    dest = destination_member(dest_check_data)
    try:
        client.guest_live_migrate(userid, None, dest, RELOCATE_PARMS,
                                  'test')
    except zvm_exception.ZVMConnectorError as err:
        _refuse('z/VM refuses to relocate guest %s to %s (VMRELOCATE '
                'TEST): %s' % (userid, dest, err))
    return dest_check_data


def destination_member(migrate_data):
    migration = getattr(migrate_data, 'migration', None)
    dest = migration and migration.obj_attr_is_set('dest_node') and \
        migration.dest_node
    if not dest:
        _refuse('the destination\'s SSI member is not known: the '
                'destination runs no nova-zvm driver')
    return dest.upper()


# Destination: before and after ------------------------------------------

def pre_live_migration(client, instance, network_info, migrate_data):
    """The destination again, just before the move (things change)."""
    check_vswitches(client, zvm_userid.for_instance(instance),
                    network_info, destination_member(migrate_data))
    return migrate_data


def adopt(client, instance, network_info):
    """Manage the guest from this (the destination's) host."""
    handover.adopt(client, instance, handover.os_version_of(instance),
                   network_info)


def rollback_at_destination(client, instance):
    """After a failed migration: this host must not manage the guest.

    The guest runs at the source (the MOVE failed or never ran), which
    still manages it. Nothing was granted or registered here before the
    move; drop what a half-done adoption may have left.
    """
    userid = zvm_userid.for_instance(instance)
    if userid in (client.guest_list() or []):
        LOG.warning('Rolling back: this host\'s Cloud Connector manages '
                    'guest %s; releasing it', userid, instance=instance)
    handover.release(client, instance)


# Source: the move ---------------------------------------------------------

def live_migrate(client, power, context, instance, dest, post_method,
                 recover_method, block_migration, migrate_data):
    """``VMRELOCATE MOVE``; nova's post method after, recover on failure.

    A failed MOVE leaves the guest running here, managed by this host:
    nova's recover method puts the instance back to ACTIVE on this host.
    """
    userid = zvm_userid.for_instance(instance)
    member = destination_member(migrate_data)
    LOG.info('Relocating guest %s to SSI member %s (host %s)', userid,
             member, dest, instance=instance)
    try:
        client.guest_live_migrate(userid, None, member, RELOCATE_PARMS,
                                  'move')
    except zvm_exception.ZVMConnectorError as err:
        if _still_here(client, userid):
            LOG.error('Relocation of guest %(user)s to %(member)s failed; '
                      'it stays here: %(err)s',
                      {'user': userid, 'member': member, 'err': err},
                      instance=instance)
            power.forget(instance)
            recover_method(context, instance, dest, migrate_data)
            return
        LOG.warning('Relocation of guest %(user)s to %(member)s reported '
                    'an error after the guest moved: %(err)s',
                    {'user': userid, 'member': member, 'err': err},
                    instance=instance)
    try:
        handover.release(client, instance, power=power)
    except zvm_exception.ZVMConnectorError as err:
        # The connector already marked the guest migrated: it refuses
        # calls for it, so nothing here can act on it by mistake.
        LOG.warning('Guest %(user)s moved, but this host\'s Cloud Connector '
                    'could not forget it: %(err)s',
                    {'user': userid, 'err': err}, instance=instance)
    post_method(context, instance, dest, block_migration, migrate_data)


def _still_here(client, userid):
    """Is the guest still managed here (the MOVE did not happen)?"""
    try:
        return userid in (client.guest_list() or [])
    except zvm_exception.ZVMConnectorError:
        # Unknown: assume it stayed, the safe side for nova's rollback.
        return True
