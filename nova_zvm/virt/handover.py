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

"""Hand a guest's management from one nova-compute (and connector) to another.

In an SSI cluster every member runs its own Cloud Connector with its own
database, and a connector refuses every call for a guest its database does
not hold. The guest itself (its directory entry, its disks) is shared; what
moves with a migration, a cold move or an evacuation is *who manages it*.
That is two halves, run by two hosts:

:func:`release` (on the host giving the guest up)
    The connector forgets the guest (``deregister_vm``: database only, the
    guest on z/VM is untouched), this host drops its ownership record (so
    its cleanup can never delete the guest) and the driver's power cache
    and pause marker forget it. Safe to repeat: releasing a guest the
    connector does not know (after ``VMRELOCATE MOVE`` the source answers
    404 for it) succeeds.

:func:`adopt` (on the host taking the guest over)
    The connector registers the guest (``register_vm``) and this host
    records the instance as the guest's owner. ``register_vm`` reads the
    guest's NICs from z/VM, so the guest must be **logged on at this
    host's member with a NIC** - unless the connector's database already
    holds it (a guest that left this connector by ``VMRELOCATE MOVE`` is
    kept there marked "migrated": registering it again only clears that
    mark, with no z/VM call). A logged-off guest (``logged_off=True``: a
    cold move or an evacuation) is recorded without its NICs, which is
    all it needs to be started at this member. When :func:`adopt` raises,
    this connector
    holds no new record of the guest (what it registered is undone) and
    no ownership record was left behind.

The order is the caller's: adopt where the guest now runs, release where it
ran, so that at every moment at most one connector and one host manage it
(between the two, none: nothing can then act on the guest by mistake). For
a rollback, call the opposite half on each side.
"""

from nova import exception as nova_exception
from nova import objects
from oslo_log import log as logging

from nova_zvm import exception as zvm_exception
from nova_zvm.virt import network
from nova_zvm.virt import ownership
from nova_zvm.virt import teardown
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import validate

LOG = logging.getLogger(__name__)

# register_vm's ``net_set``: the connector's network setup of the guest
# (1: the one its own guest_create uses).
NET_SET = '1'


def release(client, instance, power=None, owners=None, network_info=None):
    """Stop managing ``instance``'s guest from this host (see module doc).

    :param client: this host's ZVMClient
    :param power: this driver's PowerOps, whose cache and pause marker of
        the guest are dropped
    :param owners: the OwnerRegistry (default: this host's)
    :param network_info: the instance's VIFs, for a guest that leaves this
        member stopped (a cold move): the grants on this member's vswitches
        are revoked first. A live migration passes none: the relocated
        guest still uses them until the connector forgets it.
    :raises ZVMConnectorError: the connector could not forget the guest;
        the ownership record and caches are then kept, so a retry finds
        everything as it was
    """
    userid = zvm_userid.for_instance(instance)
    if network_info is not None:
        teardown.revoke_grants(client, userid,
                               network.vswitches_of(network_info))
    try:
        client.guest_deregister(userid)
    except zvm_exception.NotFound:
        # Already unknown here (moved away, or released before).
        pass
    (owners or ownership.OwnerRegistry()).discard(userid, instance.uuid)
    if power is not None:
        power.forget(instance, gone=True)
    LOG.info('Released guest %s: this host and its z/VM Cloud Connector no '
             'longer manage it', userid, instance=instance)


def adopt(client, instance, os_version, network_info=None, owners=None,
          logged_off=False):
    """Manage ``instance``'s guest from this host (see module doc).

    :param client: this host's ZVMClient
    :param os_version: the guest's OS as the connector names it
        (``rhel8.6``; see validate.connector_os_version)
    :param network_info: the instance's VIFs: their MACs tie the guest's
        NICs to neutron's ports in the connector's database
    :param owners: the OwnerRegistry (default: this host's)
    :param logged_off: the guest is logged off (a cold move, a revert, an
        evacuation). ``register_vm`` (1.6.3) records the guest, then reads
        its NICs from the running guest and fails (rs 5, "No NIC found")
        with the guest recorded: for a logged-off guest that record is all
        it needs to be started here, so that failure is accepted. A guest
        this connector lists already is not registered again.
    :raises ZVMConnectorError: the connector refused (e.g. the guest is not
        logged on at this member); nothing of the adoption is left
    """
    userid = zvm_userid.for_instance(instance)
    owners = owners or ownership.OwnerRegistry()
    register = not (logged_off and _listed(client, userid))
    try:
        if register:
            _register(client, instance, userid, os_version, network_info,
                      logged_off)
        owners.set(userid, instance.uuid)
    except Exception:
        # zvmsdk 1.6.3 adds the guest to its database before it reads the
        # NICs, and keeps it there when that fails.
        if register:
            _undo_register(client, instance, userid)
        raise
    LOG.info('Adopted guest %s: this host and its z/VM Cloud Connector '
             'manage it now', userid, instance=instance)


def _listed(client, userid):
    return userid in {u.upper() for u in client.guest_list() or []}


def _register(client, instance, userid, os_version, network_info,
              logged_off):
    try:
        client.guest_register(userid, os_version, NET_SET,
                              port_macs=port_macs(network_info))
    except zvm_exception.ZVMConnectorError as err:
        if not (logged_off and _listed(client, userid)):
            raise
        LOG.info('Guest %(user)s registered without its NICs (it is '
                 'logged off): %(err)s', {'user': userid, 'err': err},
                 instance=instance)


def os_version_of(instance):
    """The guest's OS as the connector names it, from the instance's image.

    Spawn accepted only images whose ``os_distro`` names one; a guest made
    otherwise is registered as plain ``linux`` (the connector only keeps
    the name).
    """
    try:
        return validate.connector_os_version(
            objects.ImageMeta.from_instance(instance))
    except nova_exception.ImageUnacceptable as err:
        LOG.warning('Registering the guest as "linux": %s', err,
                    instance=instance)
        return 'linux'


def port_macs(network_info):
    """``{last 6 hex digits of a MAC: port id}``, as register_vm wants."""
    macs = {}
    for vif in network_info or ():
        address = (vif.get('address') or '').replace(':', '').upper()
        if len(address) == 12 and vif.get('id'):
            macs[address[6:]] = vif['id']
    return macs or None


def _undo_register(client, instance, userid):
    try:
        client.guest_deregister(userid)
    except zvm_exception.NotFound:
        pass
    except zvm_exception.ZVMConnectorError as err:
        LOG.error('Could not undo the registration of guest %(user)s at '
                  'this host\'s z/VM Cloud Connector: %(err)s. Deregister it '
                  'there by hand (deregister_vm) before retrying.',
                  {'user': userid, 'err': err}, instance=instance)
