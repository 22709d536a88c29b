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

"""devstack/plugin.sh's configure_neutron_for_zvm, on the stub devstack."""

import os

from nova_zvm.tests.unit.devstack import test_plugin


class TestNeutronPostConfig(test_plugin.DevstackPluginTestCase):

    def post_config(self, **variables):
        services = 'n-api,n-cond,n-sch,n-cpu,placement-api,q-svc'
        return self.run_phase('stack', 'post-config',
                              ENABLED_SERVICES=services,
                              ZVM_CLOUD_CONNECTOR_URL='https://zvm:8080',
                              HOSTNAME='zvmhost1', **variables)

    def test_zvm_added_to_the_mechanism_drivers_once(self):
        with open(self.ml2_conf, 'w') as f:
            f.write('[ml2]\nmechanism_drivers = ovn\n')
        self.post_config(ZVM_VSWITCH_MAPPINGS='public:VSW1,physnet2:VSW2')
        self.post_config(ZVM_VSWITCH_MAPPINGS='public:VSW1,physnet2:VSW2')
        conf = self.conf(self.ml2_conf)
        self.assertEqual('ovn,zvm', conf['ml2']['mechanism_drivers'])
        self.assertEqual({'hosts': 'zvmhost1',
                          'physical_networks': 'public,physnet2'},
                         conf['ml2_zvm'])

    def test_hosts_from_the_variable(self):
        self.post_config(ZVM_ML2_HOSTS='a,b')
        conf = self.conf(self.ml2_conf)
        self.assertEqual('zvm', conf['ml2']['mechanism_drivers'])
        self.assertEqual('a,b', conf['ml2_zvm']['hosts'])

    def test_nothing_without_neutron(self):
        self.run_phase('stack', 'post-config',
                       ZVM_CLOUD_CONNECTOR_URL='https://zvm:8080')
        self.assertFalse(os.path.exists(self.ml2_conf))
