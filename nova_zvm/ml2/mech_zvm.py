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

"""Bind neutron ports on z/VM compute hosts to vswitch segments.

A z/VM host runs no OVS, OVN or other L2 agent: the nova-zvm compute driver
defines each NIC, couples it to the vswitch its physical network maps to
(``[zvm] vswitch_mappings``), grants the guest on that vswitch and sets the
NIC's VLAN, all through the z/VM Cloud Connector it already talks to.
This driver only makes neutron's side agree:

* it binds ports of the hosts in ``[ml2_zvm] hosts`` to a flat or VLAN
  segment whose physical network those hosts map to a vswitch, and leaves
  every other port (other hosts, overlay networks, unmapped physical
  networks, non-``normal`` VNIC types) to the other mechanism drivers;
* it sets the VIF type ``zvm`` and puts the segment's physical network and
  VLAN id into ``binding:vif_details``: nova's network model carries no
  segmentation id, so the binding is where the compute driver reads it;
* it binds the port ACTIVE, as agentless drivers do: nothing on a z/VM
  host would ever report the port up, so nova sees the VIF active and does
  not wait for a ``network-vif-plugged`` event that would never come.

It never talks to z/VM: coupling and grants stay with the compute driver,
which holds the Cloud Connector's credentials and undoes them with the
guest. Nothing here enforces security groups or port security; the driver
says so (``port_filter`` False).
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib.plugins.ml2 import api
from oslo_config import cfg
from oslo_log import log as logging

from nova_zvm.ml2 import config

LOG = logging.getLogger(__name__)

#: The VIF type of ports bound by this driver. A type of its own, so no
#: other virt driver (libvirt's os-vif plugins) mistakes the port for one it
#: can plug, and the z/VM compute driver can tell a port bound for z/VM
#: from one another mechanism driver bound.
VIF_TYPE_ZVM = 'zvm'

#: binding:vif_details keys, the names nova's network model uses.
DETAILS_PHYSICAL_NETWORK = 'physical_network'
DETAILS_VLAN = portbindings.VIF_DETAILS_VLAN

SUPPORTED_NETWORK_TYPES = (n_const.TYPE_FLAT, n_const.TYPE_VLAN)


class ZVMMechanismDriver(api.MechanismDriver):
    """ML2 mechanism driver for ports of guests on z/VM vswitches."""

    def initialize(self):
        config.register_opts(cfg.CONF)
        self.hosts = frozenset(h.strip() for h in cfg.CONF.ml2_zvm.hosts
                               if h.strip())
        self.physical_networks = frozenset(
            p.strip() for p in cfg.CONF.ml2_zvm.physical_networks
            if p.strip())
        if not self.hosts:
            LOG.warning('[ml2_zvm] hosts is empty: the zvm mechanism '
                        'driver binds no port')
        LOG.info('zvm mechanism driver binds ports of hosts %(hosts)s on '
                 'physical networks %(physnets)s',
                 {'hosts': sorted(self.hosts),
                  'physnets': sorted(self.physical_networks) or 'any'})

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        port = context.current
        if context.host not in self.hosts:
            return
        vnic_type = port.get(portbindings.VNIC_TYPE, portbindings.VNIC_NORMAL)
        if vnic_type != portbindings.VNIC_NORMAL:
            LOG.debug('Not binding port %(port)s of VNIC type %(vnic)s',
                      {'port': port['id'], 'vnic': vnic_type})
            return
        for segment in context.segments_to_bind:
            if self.can_bind_segment(segment):
                context.set_binding(segment[api.ID], VIF_TYPE_ZVM,
                                    self.vif_details(segment),
                                    status=n_const.PORT_STATUS_ACTIVE)
                LOG.debug('Bound port %(port)s on host %(host)s to segment '
                          '%(segment)s', {'port': port['id'],
                                          'host': context.host,
                                          'segment': segment})
                return
        LOG.debug('No segment of port %(port)s on host %(host)s is a flat or '
                  'VLAN segment on physical networks %(physnets)s: '
                  '%(segments)s', {
                      'port': port['id'], 'host': context.host,
                      'physnets': sorted(self.physical_networks) or 'any',
                      'segments': context.segments_to_bind})

    def can_bind_segment(self, segment):
        """A flat or VLAN segment on a physical network of the z/VM hosts."""
        if segment.get(api.NETWORK_TYPE) not in SUPPORTED_NETWORK_TYPES:
            return False
        physnet = segment.get(api.PHYSICAL_NETWORK)
        if not physnet:
            return False
        return not self.physical_networks or physnet in self.physical_networks

    @staticmethod
    def vif_details(segment):
        details = {portbindings.CAP_PORT_FILTER: False,
                   portbindings.VIF_DETAILS_CONNECTIVITY:
                       portbindings.CONNECTIVITY_L2,
                   DETAILS_PHYSICAL_NETWORK: segment[api.PHYSICAL_NETWORK]}
        if segment.get(api.NETWORK_TYPE) == n_const.TYPE_VLAN:
            details[DETAILS_VLAN] = str(segment[api.SEGMENTATION_ID])
        return details
