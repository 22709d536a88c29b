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

"""Interfaces attached to and detached from an existing server.

Attach, in order, each step undone if a later one fails:

    1. checks (nothing changed on z/VM before they pass): a mapped
       physical network, a valid VLAN, a MAC behind the system's
       ``[zvm] mac_prefix``, an image whose network the connector can
       configure, and a stopped guest (see below)
    2. the NIC in the directory with the port's MAC (its MACID) and its
       network configuration for the guest (applied at its next start)
    3. the NIC coupled to its vswitch in the directory, on its VLAN
    4. the guest granted on the vswitch for that VLAN (the last step); a
       grant the guest had before (another NIC on that vswitch) is put
       back as it was: revoked and granted again for the VLANs of the
       guest's other NICs there, read from their NICDEFs

A running (or paused) guest is refused: the Cloud Connector defines a NIC
on a running guest without the port's MACID (SMAPI
``Virtual_Network_Adapter_Create_Extended`` gets none; zvmsdk logs "Ignore
the mac address"), so CP gives the live NIC a MAC of its own, and the
connector has no call that sets a running NIC's MACID. A NIC whose MAC is
not the port's breaks neutron's port security and the guest's addressing,
so it is never made.

Nova does not wait for ``network-vif-plugged`` when it attaches an
interface (neither does its libvirt driver), and the port is bound before
the driver is called: an event that arrives then has no waiter and could
come before one was registered, so none is waited for here.

Detach works on running and stopped guests: the connector removes the NIC
from the directory and from the running guest, and the guest's
configuration of it; the grant goes when it was the guest's last NIC on
that vswitch. When other NICs stay there, a VLAN only the detached NIC
used is taken out of a stopped guest's grant (revoke, grant again for the
VLANs left); a running guest keeps it, since revoking its grant would
uncouple its other NICs and the connector cannot remove one VLAN alone.
"""

import functools

import netaddr
from nova import exception
from nova.i18n import _
from nova import objects
from nova import utils
from oslo_log import log as logging
from oslo_utils import excutils

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import network
from nova_zvm.virt import teardown
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import validate

CONF = conf.CONF
LOG = logging.getLogger(__name__)


class HotplugUnsupported(exception.Invalid):
    msg_fmt = _("Cannot attach port %(port)s to guest %(userid)s while it "
                "is running: the z/VM Cloud Connector defines a NIC on a "
                "running guest with a MAC address CP chooses, not the "
                "port's %(mac)s, and neutron's port security needs the "
                "port's MAC. Stop the server, attach the interface, then "
                "start it.")


def _undo_all(instance, steps):
    """Run undo steps last-in first-out; log (never raise) their errors."""
    while steps:
        what, step = steps.pop()
        try:
            step()
        except Exception:
            LOG.exception('Interface rollback: could not %s', what,
                          instance=instance)


def check_mac(vif):
    """The port's MAC, if z/VM can give it to a NIC; else InvalidInput.

    z/VM keeps a NIC's last three MAC bytes (MACID) and puts the system's
    MAC prefix in front of them.
    """
    mac = vif.get('address') or ''
    try:
        parsed = netaddr.EUI(mac)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.version != 48:
        raise exception.InvalidInput(
            reason="port %s has no valid MAC address (%r)"
            % (vif.get('id'), mac))
    prefix = CONF.zvm.mac_prefix.replace(':', '').replace('-', '').lower()
    if not ('%012x' % int(parsed)).startswith(prefix):
        shown = ':'.join(prefix[i:i + 2] for i in range(0, 6, 2))
        raise exception.InvalidInput(
            reason="port %(port)s has MAC %(mac)s, but z/VM gives a NIC "
            "the system's MAC prefix %(prefix)s followed by the MAC's last "
            "three bytes, so the guest's NIC would not carry the port's "
            "MAC; create the port with a MAC starting with %(prefix)s "
            "(neutron's base_mac, or --mac-address), or set [zvm] "
            "mac_prefix if the z/VM system's VMLAN MACPREFIX is another" % {
                'port': vif.get('id'), 'mac': mac, 'prefix': shown})
    return mac


def _nics_of(client, userid):
    """The connector's records of the guest's NICs (vdev, vswitch, port)."""
    try:
        return client.guests_get_nic_info(userid=userid) or []
    except zvm_exception.NotFound:
        return []


def _free_vdev(records):
    """The vdev after the guest's highest NIC (each NIC takes three)."""
    used = [int(r['interface'], 16) for r in records if r.get('interface')]
    start = max(used) + network.VDEVS_PER_NIC if used else \
        network.FIRST_NIC_VDEV
    return '%04X' % max(start, network.FIRST_NIC_VDEV)


def _is_running(client, userid):
    return client.guest_get_power_state(userid) != 'off'


def _lock(userid):
    # One change of a guest's NICs at a time: the vdev is picked from the
    # NICs the connector knows.
    return utils.synchronized('zvm-nics-%s' % userid)


def attach_interface(client, instance, image_meta, vif):
    """Attach ``vif`` to the stopped guest of ``instance``; all or nothing.

    :raises InvalidInput: unmapped physical network, bad VLAN or MAC
    :raises ImageUnacceptable: no os_distro the connector can configure
    :raises HotplugUnsupported: the guest is running
    """
    userid = zvm_userid.for_instance(instance)
    check_mac(vif)
    [nic] = network.plan_nics([vif])
    os_version = validate.connector_os_version(image_meta)

    @_lock(userid)
    def _attach():
        if _is_running(client, userid):
            raise HotplugUnsupported(port=vif.get('id'), userid=userid,
                                     mac=vif.get('address'))
        records = _nics_of(client, userid)
        if any(r.get('port') == vif.get('id') for r in records):
            LOG.info('Port %s is already attached', vif.get('id'),
                     instance=instance)
            return
        planned = nic._replace(vdev=_free_vdev(records))
        granted = {(r.get('switch') or '').upper() for r in records}
        before = None
        if planned.vswitch in granted:
            before = _directory_vlans(client, userid, planned.vswitch)
        _plug(client, instance, userid, os_version, planned, before)

    _attach()


def _directory_vlans(client, userid, vswitch):
    """{vdev: VLAN id or None} of the guest's NICDEFs on ``vswitch``."""
    entry = client.guest_get_user_direct(userid) or {}
    found = {}
    for line in entry.get('user_direct') or []:
        words = line.upper().split()
        if words[:1] != ['NICDEF'] or len(words) < 2:
            continue
        vdev = words[1].zfill(4)
        # Each keyword with the word after it (LAN SYSTEM name, VLAN n).
        opts = dict(zip(words, words[1:]))
        if opts.get('SYSTEM') != vswitch:
            continue
        vlan = opts.get('VLAN')
        found[vdev] = int(vlan) if vlan and vlan.isdigit() else None
    return found


def _regrant(client, userid, vswitch, vlans):
    """The guest's grant on ``vswitch`` made anew for exactly ``vlans``."""
    network.revoke(client, userid, vswitch)
    network.grant(client, userid, vswitch,
                  tuple(sorted(v for v in set(vlans) if v is not None)))


def _plug(client, instance, userid, os_version, nic, before):
    """Define, configure, couple and grant; ``before``: see _regrant.

    :param before: None when the guest has no grant on the NIC's vswitch
        yet, else {vdev: VLAN} of its NICs there (the grant to restore)
    """
    undo = []
    LOG.info('Attaching port %(port)s as NIC %(vdev)s on vswitch %(vsw)s '
             '(VLAN %(vlan)s)', {'port': nic.vif_id, 'vdev': nic.vdev,
                                 'vsw': nic.vswitch, 'vlan': nic.vlan},
             instance=instance)
    try:
        # Registered first: the connector does not undo a NIC it defined
        # when writing the guest's configuration fails after it.
        undo.append(('delete NIC %s' % nic.vdev, functools.partial(
            _delete_nic, client, userid, nic.vdev)))
        network.create_interfaces(client, userid, os_version, [nic])
        undo[-1] = ('delete NIC %s and its configuration' % nic.vdev,
                    functools.partial(client.guest_delete_network_interface,
                                      userid, os_version, nic.vdev))
        network.couple(client, userid, nic)
        # Deleting the NIC takes its coupling with it.
        if before is None:
            undo.append(('revoke %s on vswitch %s' % (userid, nic.vswitch),
                         functools.partial(network.revoke, client, userid,
                                           nic.vswitch)))
        elif nic.vlan is not None and nic.vlan not in before.values():
            undo.append(('restore the grant of %s on vswitch %s'
                         % (userid, nic.vswitch),
                         functools.partial(_regrant, client, userid,
                                           nic.vswitch, before.values())))
        network.grant(client, userid, nic.vswitch, nic.vlan)
    except Exception as err:
        with excutils.save_and_reraise_exception():
            LOG.error('Attaching port %(port)s to guest %(user)s failed, '
                      'rolling back: %(err)s', {'port': nic.vif_id,
                                                'user': userid, 'err': err},
                      instance=instance)
            _undo_all(instance, undo)


def _delete_nic(client, userid, vdev):
    try:
        client.guest_delete_nic(userid, vdev)
    except zvm_exception.NotFound:
        pass


def detach_interface(client, instance, vif):
    """Detach ``vif`` from the guest, running or stopped.

    A port the guest has no NIC for is detached already. The grant on the
    NIC's vswitch is revoked when no other NIC of the guest is on it.
    """
    userid = zvm_userid.for_instance(instance)
    os_version = _os_version_of(instance)

    @_lock(userid)
    def _detach():
        records = _nics_of(client, userid)
        mine = [r for r in records if r.get('port') == vif.get('id')]
        if not mine:
            LOG.info('Port %s has no NIC on guest %s: nothing to detach',
                     vif.get('id'), userid, instance=instance)
            return
        record = mine[0]
        vdev = record['interface']
        vswitch = (record.get('switch') or '').upper()
        active = _is_running(client, userid)
        others = {(r.get('switch') or '').upper() for r in records
                  if r is not record}
        vlans = {}
        if vswitch and vswitch in others and not active:
            vlans = _directory_vlans(client, userid, vswitch)
        LOG.info('Detaching port %(port)s: NIC %(vdev)s on vswitch %(vsw)s',
                 {'port': vif.get('id'), 'vdev': vdev, 'vsw': vswitch},
                 instance=instance)
        client.guest_delete_network_interface(userid, os_version, vdev,
                                              active=active or None)
        if not vswitch:
            return
        if vswitch not in others:
            teardown.revoke_grants(client, userid, [vswitch])
            return
        gone = vlans.pop(vdev.zfill(4), None)
        if gone is not None and gone not in vlans.values():
            # A VLAN only this NIC used leaves the (stopped) guest's grant.
            _regrant(client, userid, vswitch, vlans.values())

    _detach()


def _os_version_of(instance):
    """The connector's os_version of the instance's image.

    The detach writes a script that removes the NIC's configuration in the
    guest; without a known distribution the connector cannot write it.
    """
    return validate.connector_os_version(
        objects.ImageMeta.from_instance(instance))
