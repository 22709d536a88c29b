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

"""A guest's NICs: definition, vswitch coupling, grants and VLAN ids.

``guest_create_network_interface`` defines the NICs and writes the guest's
network configuration, but leaves them uncoupled. Coupling each NIC to the
vswitch its physical network maps to (``[zvm] vswitch_mappings``) with its
network's VLAN id, and granting the guest on that vswitch for those VLANs,
is done here, so no z/VM neutron agent is needed.

Neutron's side is the ``zvm`` ML2 mechanism driver (nova_zvm.ml2): it binds
the port (VIF type ``zvm``) ACTIVE and puts the bound segment's physical
network and VLAN id into ``binding:vif_details``, the only place nova's
network model carries a segmentation id. It never couples or grants: that
is this module's job, one side only.
"""

import collections

import netaddr
from nova import exception
from nova.network import model as network_model
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# First NIC's virtual device; each NIC occupies three (read, write, data).
FIRST_NIC_VDEV = 0x1000
VDEVS_PER_NIC = 3

#: The VIF type of ports bound by the zvm ML2 mechanism driver
#: (nova_zvm.ml2.mech_zvm.VIF_TYPE_ZVM; not imported: nova-compute does
#: not need neutron installed).
VIF_TYPE_ZVM = 'zvm'

NicPlan = collections.namedtuple(
    'NicPlan', ['vif_id', 'mac', 'vdev', 'vswitch', 'vlan', 'physnet',
                'ipv4'])


def vswitch_mappings():
    """``{physical network: VSWITCH}`` from ``[zvm] vswitch_mappings``."""
    return {physnet.strip(): vswitch.strip().upper()
            for physnet, vswitch in (CONF.zvm.vswitch_mappings or {}).items()
            if physnet.strip() and vswitch.strip()}


def physnet_of(vif):
    """The VIF's physical network.

    The binding's (the segment the port is bound to) first, then the
    network's: on a multi-segment network only the binding names the one
    this host is on.
    """
    details = vif.get('details') or {}
    meta = (vif.get('network') or {}).get('meta') or {}
    return (details.get(network_model.VIF_DETAILS_PHYSICAL_NETWORK) or
            meta.get('physical_network'))


def vlan_of(vif):
    """The VLAN id of a VIF on a VLAN segment, else None (flat).

    nova's network model has the physical network but no segmentation id:
    the VLAN comes from the binding's ``vif_details`` (``vlan``), which the
    zvm mechanism driver fills for VLAN segments.
    """
    vlan = (vif.get('details') or {}).get(network_model.VIF_DETAILS_VLAN)
    if vlan in (None, ''):
        return None
    try:
        vlan = int(vlan)
    except (TypeError, ValueError):
        vlan = None
    if vlan is None or not 1 <= vlan <= 4094:
        raise exception.InvalidInput(
            reason="port %(port)s has VLAN id %(vlan)r in its binding, not "
            "an integer from 1 to 4094; check the neutron mechanism driver "
            "that bound it" % {'port': vif.get('id'),
                               'vlan': (vif.get('details') or {}).get(
                                   network_model.VIF_DETAILS_VLAN)})
    return vlan


def _warn_foreign_binding(vif):
    vif_type = vif.get('type')
    if vif_type not in (None, VIF_TYPE_ZVM) and vlan_of(vif) is None:
        LOG.warning('Port %(port)s is bound with VIF type %(type)s, not '
                    '%(zvm)s: its binding names no VLAN, so the guest is '
                    'coupled untagged. Enable the zvm ML2 mechanism driver '
                    'for this host so a VLAN network gets its VLAN id.',
                    {'port': vif.get('id'), 'type': vif_type,
                     'zvm': VIF_TYPE_ZVM})


def _ipv4_info(vif):
    """The first IPv4 address of a VIF with its subnet, gateway and DNS.

    The connector writes IPv4 settings only; IPv6 reaches the guest through
    the config drive's network metadata.
    """
    for subnet in (vif.get('network') or {}).get('subnets') or []:
        if subnet.get('version', 4) != 4 or not subnet.get('ips'):
            continue
        gateway = (subnet.get('gateway') or {}).get('address')
        dns = [d['address'] for d in subnet.get('dns') or []
               if netaddr.valid_ipv4(d.get('address') or '')]
        return {'ip_addr': subnet['ips'][0]['address'],
                'cidr': subnet['cidr'],
                'gateway_addr': gateway,
                'dns_addr': dns or None}
    return None


def plan_nics(network_info):
    """One NicPlan per VIF; InvalidInput for an unmapped physical network.

    Pure: reads only network_info and the options.
    """
    mappings = vswitch_mappings()
    plans = []
    for index, vif in enumerate(network_info):
        physnet = physnet_of(vif)
        vswitch = mappings.get(physnet) if physnet else None
        if vswitch is None:
            raise exception.InvalidInput(
                reason="port %(port)s is on physical network %(physnet)r, "
                "which has no z/VM vswitch; add it to [zvm] "
                "vswitch_mappings (e.g. vswitch_mappings = "
                "%(example)s:VSWITCH1)" % {
                    'port': vif.get('id'), 'physnet': physnet,
                    'example': physnet or 'physnet1'})
        _warn_foreign_binding(vif)
        vdev = '%04X' % (FIRST_NIC_VDEV + index * VDEVS_PER_NIC)
        plans.append(NicPlan(vif_id=vif.get('id'), mac=vif.get('address'),
                             vdev=vdev, vswitch=vswitch, vlan=vlan_of(vif),
                             physnet=physnet, ipv4=_ipv4_info(vif)))
    return plans


def guest_networks(nics, hostname=None):
    """The ``guest_networks`` argument of guest_create_network_interface."""
    networks = []
    for nic in nics:
        net = {'nic_vdev': nic.vdev, 'nic_id': nic.vif_id,
               'mac_addr': nic.mac}
        if nic.ipv4:
            net.update({k: v for k, v in nic.ipv4.items() if v})
        if hostname and not networks:
            net['hostname'] = hostname
        networks.append(net)
    return networks


def create_interfaces(client, userid, os_version, nics, hostname=None):
    """Define the NICs and write the guest's network configuration."""
    if not nics:
        return
    client.guest_create_network_interface(
        userid, os_version, guest_networks(nics, hostname))


def couple(client, userid, nic):
    """Couple the NIC to its vswitch, on its own VLAN for a VLAN network.

    The VLAN goes on the NIC's directory entry (``NICDEF ... VLAN n``):
    each NIC of a guest gets its network's VLAN, even when several VLAN
    networks share one vswitch.
    """
    kwargs = {} if nic.vlan is None else {'vlan_id': nic.vlan}
    client.guest_nic_couple_to_vswitch(userid, nic.vdev, nic.vswitch,
                                       **kwargs)


def grant(client, userid, vswitch, vlans=()):
    """Grant ``userid`` on ``vswitch``, for each VLAN id in ``vlans``.

    ``vlans`` may be one VLAN id or None (no VLAN: a flat network).
    """
    if vlans is None:
        vlans = ()
    elif isinstance(vlans, int):
        vlans = (vlans,)
    client.vswitch_grant_user(vswitch, userid)
    for vlan in vlans:
        client.vswitch_set_vlan_id_for_user(vswitch, userid, vlan)


def revoke(client, userid, vswitch):
    client.vswitch_revoke_user(vswitch, userid)


def grants_needed(nics):
    """``{vswitch: (VLAN ids)}`` for the NICs: one grant per vswitch.

    The grant authorizes every VLAN of the guest's NICs on that vswitch
    (one per network); an empty tuple when all of them are flat.
    """
    needed = {}
    for nic in nics:
        vlans = needed.setdefault(nic.vswitch, set())
        if nic.vlan is not None:
            vlans.add(nic.vlan)
    return {vswitch: tuple(sorted(vlans))
            for vswitch, vlans in needed.items()}


def vswitches_of(network_info):
    """The mapped vswitches of network_info's VIFs (unmapped ones skipped)."""
    mappings = vswitch_mappings()
    return {mappings[p] for p in (physnet_of(vif) for vif in network_info)
            if p in mappings}


def vswitches_on_connector(client, userid):
    """The vswitches the connector knows ``userid``'s NICs are coupled to."""
    try:
        nics = client.guests_get_nic_info(userid=userid) or []
    except zvm_exception.NotFound:
        return set()
    return {n['switch'].upper() for n in nics if n.get('switch')}


def plugged_events(network_info):
    """The network-vif-plugged events nova will deliver for this spawn."""
    if not CONF.vif_plugging_timeout:
        return []
    return [('network-vif-plugged', vif['id']) for vif in network_info
            if vif.get('active', True) is False]


def _neutron_failed(event_name, instance):
    LOG.error('Neutron reported failure on event %s', event_name,
              instance=instance)
    if CONF.vif_plugging_is_fatal:
        raise exception.VirtualInterfaceCreateException()


def plug_and_wait(virtapi, instance, network_info, plug):
    """Run ``plug()`` and wait for neutron's network-vif-plugged events.

    A timeout is fatal when ``[DEFAULT] vif_plugging_is_fatal`` is set,
    otherwise logged.
    """
    events = plugged_events(network_info)
    try:
        with virtapi.wait_for_instance_event(
                instance, events, CONF.vif_plugging_timeout,
                error_callback=_neutron_failed):
            plug()
    except exception.InstanceEventTimeout:
        LOG.warning('Timeout waiting for %s', events, instance=instance)
        if CONF.vif_plugging_is_fatal:
            raise exception.VirtualInterfaceCreateException()
