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

"""The two drivers under test, and how each is configured.

nova's in-tree driver reaches the Cloud Connector through
``zvmconnector.ZVMConnector``, which cannot send tokens: it runs against a
lab with ``auth='none'``. nova-zvm runs as it is deployed, with token
authentication, so its figures include getting a token.

nova's configuration is global, so a driver's options are applied
(``configure``) before each driver runs; the two never run at once.
"""

import urllib.parse

from oslo_utils import importutils
from zvmconnector import restclient

from nova_zvm.bench import environment
from nova_zvm import conf as zvm_conf  # noqa: F401  (registers [zvm] opts)

OURS = 'ours'
INTREE = 'intree'

LABELS = {OURS: 'nova-zvm',
          INTREE: 'nova in-tree (zvmconnector)'}


class DriverSpec(object):
    """One driver, the lab it talks to, and its configuration."""

    def __init__(self, name, class_path, lab_info, conf, agent=False):
        self.name = name
        # The driver leaves coupling and grants to a neutron agent.
        self.agent = agent
        self.label = LABELS.get(name, name)
        self.class_path = class_path
        self.lab_info = lab_info
        self._conf = conf

    @property
    def auth(self):
        return 'token' if self.lab_info.get('token_file') else 'none'

    def configure(self, env):
        env.use_driver_dirs(self.name)
        for group, options in self._conf.items():
            env.conf.config(group=group, **options)

    def build(self, env, agent=True, resources=True):
        """A new driver instance, started as nova-compute starts it.

        ``agent``: a driver that leaves coupling and grants to a neutron
        agent gets a stand-in for it (``bench_agent``) whose work
        ``operations.spawn`` adds to each spawn.
        ``resources``: run the resource update nova-compute runs before it
        takes builds (``pre_start_hook``), so that no spawn pays for the
        first host query; the periodic figure measures that one itself.
        """
        self.configure(env)
        cls = importutils.import_class(self.class_path)
        driver = cls(env.virtapi)
        driver.init_host(environment.CONF.host)
        if resources:
            for nodename in driver.get_available_nodes():
                driver.get_available_resource(nodename)
        if agent and self.agent:
            driver.bench_agent = NeutronAgent(self.lab_info)
        return driver


def lab_info(lab):
    return {'url': lab.url, 'token_file': lab.token_file,
            'ca_file': lab.ca_file}


def ours(info):
    return DriverSpec(OURS, 'nova_zvm.virt.driver.ZVMDriver', info, {
        'zvm': {'cloud_connector_url': info['url'],
                'token_file': info.get('token_file'),
                'ca_file': info.get('ca_file'),
                'vswitch_mappings': {environment.PHYSNET:
                                     environment.VSWITCH},
                'disk_pool': environment.DISK_POOL}})


def intree(info):
    # Its [zvm] options are nova's four; it never reads token_file.
    return DriverSpec(INTREE, 'nova.virt.zvm.driver.ZVMDriver', info, {
        'zvm': {'cloud_connector_url': info['url'],
                'ca_file': info.get('ca_file')}}, agent=True)


class NeutronAgent(object):
    """The z/VM calls the in-tree driver's neutron agent makes per port.

    nova's in-tree driver defines the NIC and stops there: a separate
    agent (networking-zvm, through zvmconnector) grants the guest the
    vswitch and couples the NIC. The benchmark makes those two REST calls
    right after each in-tree spawn, so its figures carry the same
    directory and vswitch work as nova-zvm's, which does them itself.
    The agent's polling delay is not counted.
    """

    # The in-tree driver's first NIC (zvmsdk's default_nic_vdev).
    NIC_VDEV = '1000'

    def __init__(self, info):
        url = urllib.parse.urlparse(info['url'])
        self._client = restclient.RESTClient(
            url.hostname, url.port, ssl_enabled=url.scheme == 'https',
            verify=info.get('ca_file') or False,
            token_path=info.get('token_file'),
            auth='token' if info.get('token_file') else None)

    def _call(self, api, *args, **kwargs):
        result = self._client.call(api, *args, **kwargs)
        if result.get('overallRC') != 0:
            raise RuntimeError('neutron agent stand-in: %s failed: %s'
                               % (api, result))

    def plug(self, instance):
        userid = instance.name.upper()
        self._call('vswitch_grant_user', environment.VSWITCH, userid)
        self._call('guest_nic_couple_to_vswitch', userid, self.NIC_VDEV,
                   environment.VSWITCH, active=False)


def make(name, info):
    return {OURS: ours, INTREE: intree}[name](info)


def stop(driver):
    """Release what a driver holds (its HTTP pool, threads)."""
    cleanup = getattr(driver, 'cleanup_host', None)
    if cleanup is not None:
        cleanup(environment.CONF.host)
