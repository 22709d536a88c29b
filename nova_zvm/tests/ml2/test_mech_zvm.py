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

"""The zvm mechanism driver's binding decisions, in neutron's ML2 plugin.

Neutron's own ML2 test base runs the real ML2 plugin (its type drivers,
segment allocation, binding and status handling) on an in-memory
database, with the ``zvm`` driver loaded through its entry point as the
only mechanism driver: a port it does not bind ends ``binding_failed``.
"""

from neutron.conf.plugins.ml2.drivers import driver_type
from neutron.tests.unit.plugins.ml2 import test_plugin
from neutron_lib.api.definitions import portbindings
from neutron_lib.api.definitions import provider_net as pnet
from neutron_lib import constants as n_const
from oslo_config import cfg

from nova_zvm.ml2 import config
from nova_zvm.ml2 import mech_zvm

ZVM_HOST = 'zvmcompute1'
OTHER_HOST = 'kvmcompute1'


class ZVMBindingBase(test_plugin.Ml2PluginV2TestCase):
    """The ML2 plugin with only the zvm mechanism driver."""

    _mechanism_drivers = ['zvm']
    #: The type of the networks projects create.
    project_network_types = ['vxlan']

    def setUp(self):
        config.register_opts(cfg.CONF)
        cfg.CONF.set_override('hosts', [ZVM_HOST, 'zvmcompute2'],
                              group='ml2_zvm')
        # physnet3 is a physical network the z/VM hosts do not reach.
        cfg.CONF.set_override('physical_networks', ['physnet1', 'physnet2'],
                              group='ml2_zvm')
        cfg.CONF.set_override('type_drivers', ['flat', 'vlan', 'vxlan'],
                              group='ml2')
        cfg.CONF.set_override('project_network_types',
                              self.project_network_types, group='ml2')
        driver_type.register_ml2_drivers_flat_opts()
        driver_type.register_ml2_drivers_vxlan_opts()
        cfg.CONF.set_override('flat_networks', ['*'], group='ml2_type_flat')
        cfg.CONF.set_override('vni_ranges', ['1:100'], group='ml2_type_vxlan')
        super().setUp()

    def provider_network(self, network_type, physnet=None, vlan=None):
        kwargs = {pnet.NETWORK_TYPE: network_type}
        if physnet:
            kwargs[pnet.PHYSICAL_NETWORK] = physnet
        if vlan:
            kwargs[pnet.SEGMENTATION_ID] = vlan
        return self._make_network(self.fmt, 'net', True, as_admin=True,
                                  arg_list=tuple(kwargs), **kwargs)

    def bound_port(self, network, host=ZVM_HOST, **extra):
        kwargs = dict({portbindings.HOST_ID: host,
                       'device_owner': 'compute:nova'}, **extra)
        port = self._make_port(self.fmt, network['network']['id'],
                               as_admin=True, arg_list=tuple(kwargs),
                               **kwargs)
        # What neutron answers afterwards (and nova reads), not only what
        # the create returned.
        return self._show('ports', port['port']['id'],
                          as_admin=True)['port']

    def assert_not_bound(self, port):
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])
        self.assertEqual(n_const.PORT_STATUS_DOWN, port['status'])


class ZVMBindingTestCase(ZVMBindingBase):

    def test_vlan_segment_bound_active_with_its_vlan(self):
        port = self.bound_port(self.provider_network('vlan', 'physnet1', 42))
        self.assertEqual(mech_zvm.VIF_TYPE_ZVM, port[portbindings.VIF_TYPE])
        self.assertEqual({'physical_network': 'physnet1', 'vlan': '42',
                          'port_filter': False, 'connectivity': 'l2',
                          'bound_drivers': {'0': 'zvm'}},
                         port[portbindings.VIF_DETAILS])
        # Bound ACTIVE: no agent will ever report this port up.
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, port['status'])

    def test_flat_segment_bound_without_vlan(self):
        port = self.bound_port(self.provider_network('flat', 'physnet2'))
        self.assertEqual(mech_zvm.VIF_TYPE_ZVM, port[portbindings.VIF_TYPE])
        details = port[portbindings.VIF_DETAILS]
        self.assertEqual('physnet2', details['physical_network'])
        self.assertNotIn('vlan', details)
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, port['status'])

    def test_host_that_is_not_zvm_left_to_other_drivers(self):
        self.assert_not_bound(self.bound_port(
            self.provider_network('vlan', 'physnet1', 42), host=OTHER_HOST))

    def test_unmapped_physical_network_not_bound(self):
        self.assert_not_bound(self.bound_port(
            self.provider_network('vlan', 'physnet3', 450)))

    def test_overlay_network_not_bound(self):
        self.assert_not_bound(self.bound_port(
            self.provider_network('vxlan', vlan=7)))

    def test_direct_vnic_type_not_bound(self):
        self.assert_not_bound(self.bound_port(
            self.provider_network('vlan', 'physnet1', 42),
            **{portbindings.VNIC_TYPE: portbindings.VNIC_DIRECT}))

    def test_unbind_leaves_no_binding(self):
        port = self.bound_port(self.provider_network('vlan', 'physnet1', 9))
        # What nova does when it deletes a server with a port it was given.
        self._update('ports', port['id'],
                     {'port': {portbindings.HOST_ID: '',
                               'device_id': '', 'device_owner': ''}},
                     as_admin=True)
        port = self._show('ports', port['id'], as_admin=True)['port']
        self.assertEqual(portbindings.VIF_TYPE_UNBOUND,
                         port[portbindings.VIF_TYPE])
        self.assertEqual({}, port[portbindings.VIF_DETAILS])
        self.assertEqual(n_const.PORT_STATUS_DOWN, port['status'])


class ZVMProjectVlanTestCase(ZVMBindingBase):
    """A project's network on a VLAN neutron allocated."""

    project_network_types = ['vlan']

    def test_allocated_segmentation_id_in_the_binding(self):
        network = self._make_network(self.fmt, 'project-net', True)
        shown = self._show('networks', network['network']['id'],
                           as_admin=True)['network']
        port = self.bound_port(network)
        self.assertEqual(mech_zvm.VIF_TYPE_ZVM, port[portbindings.VIF_TYPE])
        self.assertEqual(
            {'vlan': str(shown[pnet.SEGMENTATION_ID]),
             'physical_network': shown[pnet.PHYSICAL_NETWORK]},
            {k: port[portbindings.VIF_DETAILS][k]
             for k in ('vlan', 'physical_network')})


class ZVMNoHostsTestCase(test_plugin.Ml2PluginV2TestCase):
    """With ``[ml2_zvm] hosts`` unset the driver binds nothing."""

    _mechanism_drivers = ['zvm']

    def setUp(self):
        config.register_opts(cfg.CONF)
        cfg.CONF.set_override('hosts', [], group='ml2_zvm')
        super().setUp()

    def test_no_port_bound(self):
        network = self._make_network(
            self.fmt, 'net', True, as_admin=True,
            arg_list=(pnet.NETWORK_TYPE, pnet.PHYSICAL_NETWORK,
                      pnet.SEGMENTATION_ID),
            **{pnet.NETWORK_TYPE: 'vlan', pnet.PHYSICAL_NETWORK: 'physnet1',
               pnet.SEGMENTATION_ID: 5})
        port = self._make_port(
            self.fmt, network['network']['id'], as_admin=True,
            arg_list=(portbindings.HOST_ID,),
            **{portbindings.HOST_ID: ZVM_HOST})['port']
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])
