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
vswitch its physical network maps to (``[zvm] vswitch_mappings``), granting
the guest on that vswitch and setting its VLAN id is done here, so no
separate z/VM neutron agent is needed.
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

NicPlan = collections.namedtuple(
    'NicPlan', ['vif_id', 'mac', 'vdev', 'vswitch', 'vlan', 'physnet',
                'ipv4'])


def vswitch_mappings():
    """``{physical network: VSWITCH}`` from ``[zvm] vswitch_mappings``."""
    return {physnet.strip(): vswitch.strip().upper()
            for physnet, vswitch in (CONF.zvm.vswitch_mappings or {}).items()
            if physnet.strip() and vswitch.strip()}


def physnet_of(vif):
    """The VIF's physical network (network meta first, then VIF details)."""
    meta = (vif.get('network') or {}).get('meta') or {}
    return (meta.get('physical_network') or
            (vif.get('details') or {}).get(
                network_model.VIF_DETAILS_PHYSICAL_NETWORK))


def vlan_of(vif):
    """The VLAN id of a VIF on a VLAN network, else None."""
    vlan = (vif.get('details') or {}).get(network_model.VIF_DETAILS_VLAN)
    if vlan in (None, ''):
        vlan = ((vif.get('network') or {}).get('meta') or {}).get('vlan')
    if vlan in (None, ''):
        return None
    return int(vlan)


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
    client.guest_nic_couple_to_vswitch(userid, nic.vdev, nic.vswitch)


def grant(client, userid, vswitch, vlan=None):
    """Grant ``userid`` on ``vswitch`` (with its VLAN id when set)."""
    client.vswitch_grant_user(vswitch, userid)
    if vlan is not None:
        client.vswitch_set_vlan_id_for_user(vswitch, userid, vlan)


def revoke(client, userid, vswitch):
    client.vswitch_revoke_user(vswitch, userid)


def grants_needed(nics):
    """``{vswitch: vlan}`` for the NICs, one grant per vswitch."""
    needed = {}
    for nic in nics:
        needed.setdefault(nic.vswitch, nic.vlan)
    return needed


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
