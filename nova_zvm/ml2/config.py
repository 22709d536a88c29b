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

"""``[ml2_zvm]``: which hosts and physical networks the driver binds."""

from oslo_config import cfg

GROUP = 'ml2_zvm'

opts = [
    cfg.ListOpt('hosts',
                default=[],
                help="""
The z/VM compute hosts (nova-compute ``[DEFAULT] host`` values) whose ports
this driver binds. Ports on any other host are left to the other mechanism
drivers. Required: with no host listed the driver binds nothing.

Example:
    hosts = zvmcompute1,zvmcompute2
"""),
    cfg.ListOpt('physical_networks',
                default=[],
                help="""
The physical networks the z/VM hosts reach through a vswitch: the keys of
nova-compute's ``[zvm] vswitch_mappings`` on those hosts. A flat or VLAN
segment on any other physical network is not bound by this driver. Empty
means every physical network.

Example:
    physical_networks = physnet1,provider
"""),
]


def register_opts(conf=cfg.CONF):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
