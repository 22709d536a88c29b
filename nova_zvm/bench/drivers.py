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

from oslo_utils import importutils

from nova_zvm.bench import environment
from nova_zvm import conf as zvm_conf  # noqa: F401  (registers [zvm] opts)

OURS = 'ours'
INTREE = 'intree'

LABELS = {OURS: 'nova-zvm',
          INTREE: 'nova in-tree (zvmconnector)'}


class DriverSpec(object):
    """One driver, the lab it talks to, and its configuration."""

    def __init__(self, name, class_path, lab_info, conf):
        self.name = name
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

    def build(self, env):
        """A new driver instance, started as nova-compute starts it."""
        self.configure(env)
        cls = importutils.import_class(self.class_path)
        driver = cls(env.virtapi)
        driver.init_host(environment.CONF.host)
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
                'ca_file': info.get('ca_file')}})


def make(name, info):
    return {OURS: ours, INTREE: intree}[name](info)


def stop(driver):
    """Release what a driver holds (its HTTP pool, threads)."""
    cleanup = getattr(driver, 'cleanup_host', None)
    if cleanup is not None:
        cleanup(environment.CONF.host)
