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

"""The base of the functional tests: nova's services with ZVMDriver on a lab.

Nova's ``_IntegratedTestBase`` runs nova-api, conductor, scheduler,
placement and one nova-compute in this process (sqlite, in-memory RPC).
This class points that compute at a lab (the real Cloud Connector on a fake
z/VM, in its own process, one per test class) before the services start,
and swaps nova's glance and neutron fixtures for ones that look like a z/VM
cloud: s390x images and ports on a physical network mapped to a vswitch.
"""

import functools
import importlib.metadata
import os
import time

import fixtures
from nova import context as nova_context
from nova.tests.functional import integrated_helpers
from oslo_utils.fixture import uuidsentinel as uuids

from nova_zvm import client as zvm_client
from nova_zvm import conf as zvm_conf
from nova_zvm.lab import fixture as lab_fixture
from nova_zvm.tests.functional import fixtures as zvm_fixtures

CONF = zvm_conf.CONF

COMPUTE_HOST = 'compute'
IMAGE_ID = uuids.s390x_image
INSTANCE_NAME_TEMPLATE = 'zvm%05x'
DISK_POOL = 'ECKD:POOL1'


@functools.lru_cache(maxsize=None)
def installed_api_paste_ini():
    """The api-paste.ini the installed nova ships.

    The nova wheel installs it under ``{sys.prefix}/etc/nova``, while nova's
    test fixtures look for it relative to the source tree.
    """
    for entry in importlib.metadata.distribution('nova').files or ():
        if entry.name == 'api-paste.ini':
            return os.path.realpath(entry.locate())
    raise RuntimeError('the installed nova has no api-paste.ini')


def userid_of(server):
    """The z/VM userid of a server: its instance name, upper-cased."""
    return server['OS-EXT-SRV-ATTR:instance_name'].upper()


class ZVMTestCase(integrated_helpers._IntegratedTestBase):
    """Nova's services with ``compute_driver`` on the lab of this class."""

    ADMIN_API = True
    microversion = 'latest'

    #: The virt driver of the compute service.
    compute_driver = 'nova_zvm.ZVMDriver'
    #: Keyword arguments of the class's ``LabFixture``.
    LAB_OPTIONS = {}
    #: Seconds to wait for a server to reach a state.
    WAIT_TIMEOUT = 60

    lab = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One lab per class: starting the Cloud Connector takes a second or
        # two, and each test cleans up the guests it made.
        lab = lab_fixture.LabFixture(**cls.LAB_OPTIONS)
        lab.setUp()
        cls.lab = lab

    @classmethod
    def tearDownClass(cls):
        if cls.lab is not None:
            cls.lab.cleanUp()
            cls.lab = None
        super().tearDownClass()

    def setUp(self):
        for name in lab_fixture.PROXY_VARIABLES:
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.useFixture(zvm_fixtures.RealHTTPSConnections())
        self.lab.zvm.clear_faults()
        self._guests_before = set(self.lab.zvm.state()['users'])
        self.addCleanup(self._remove_leftover_guests)
        super().setUp()

    def _setup_services(self):
        # _IntegratedTestBase.setUp calls this after its fixtures and
        # before any service starts: the last moment to configure them.
        self.flags(api_paste_config=installed_api_paste_ini(), group='wsgi')
        self.flags(compute_driver=self.compute_driver)
        self.glance = self.useFixture(zvm_fixtures.GlanceFixture(self))
        self.neutron = self.useFixture(zvm_fixtures.NeutronFixture(self))
        self._configure_driver()
        self.glance.create_s390x_image(IMAGE_ID)
        super()._setup_services()

    def _configure_driver(self):
        workdir = self.useFixture(fixtures.TempDir()).path
        self.flags(instance_name_template=INSTANCE_NAME_TEMPLATE,
                   force_config_drive=True,
                   instances_path=os.path.join(workdir, 'instances'))
        # One z/VM host: nothing to reschedule a failed build to, and a
        # server's fault then is the driver's error itself rather than
        # "exhausted all hosts".
        self.flags(max_attempts=1, group='scheduler')
        self.flags(cloud_connector_url=self.connector_url(),
                   ca_file=self.lab.ca_file,
                   token_file=self.lab.token_file,
                   image_tmp_path=os.path.join(workdir, 'images'),
                   disk_pool=DISK_POOL,
                   vswitch_mappings={zvm_fixtures.PHYSNET:
                                     zvm_fixtures.VSWITCH},
                   # A stopped connector is noticed in well under a second.
                   connect_timeout=2.0,
                   retry_interval=0.1,
                   reachable_timeout=30,
                   group='zvm')

    def connector_url(self):
        """Where the driver finds the Cloud Connector."""
        return self.lab.url

    def _remove_leftover_guests(self):
        """Delete guests a failed test left on the class's lab.

        Instance ids (and so userids) restart in each test's fresh database:
        a leftover guest would collide with the next test's first server.
        """
        leftovers = set(self.lab.zvm.state()['users']) - self._guests_before
        if not leftovers:
            return
        connector = zvm_client.ZVMClient(self.lab.url,
                                         token_file=self.lab.token_file,
                                         ca_file=self.lab.ca_file,
                                         max_retries=0)
        for userid in sorted(leftovers):
            connector.guest_delete(userid)

    # Lookups that read nova's and the fake z/VM's state.

    def zvm_guest(self, server):
        """The fake z/VM's record of a server's guest, or None."""
        return self.lab.zvm.state()['users'].get(userid_of(server))

    def wait_for_status(self, server, status):
        """Poll nova's API until ``server`` has ``status`` (and no task).

        Fails at once on an unexpected ERROR, naming the fault.
        """
        deadline = time.monotonic() + self.WAIT_TIMEOUT
        while True:
            server = self.api.get_server(server['id'])
            if server['status'] == status and (
                    status == 'ERROR' and 'fault' in server or
                    status != 'ERROR' and
                    not server['OS-EXT-STS:task_state']):
                return server
            if server['status'] == 'ERROR' and status != 'ERROR':
                self.fail('server %s went to ERROR: %s' % (
                    server['name'], server.get('fault', {}).get('message')))
            if time.monotonic() > deadline:
                self.fail('server %s not %s after %ss: %s' % (
                    server['id'], status, self.WAIT_TIMEOUT, server))
            time.sleep(0.2)

    def boot_server(self, image_uuid=IMAGE_ID, flavor_id=None,
                    expected_status='ACTIVE', name=None):
        server = self._build_server(name=name, image_uuid=image_uuid,
                                    flavor_id=flavor_id, networks='auto')
        server = self.api.post_server({'server': server})
        return self.wait_for_status(server, expected_status)

    def delete_server(self, server):
        self.api.delete_server(server['id'])
        self._wait_until_deleted(server)

    def assert_usage_of(self, *flavors):
        """Placement counts exactly these servers' flavors on the host.

        (Nova's assertFlavorMatchesUsage leaves ephemeral disks out.)
        """
        usage = {'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0}
        for flavor in flavors:
            usage['VCPU'] += flavor['vcpus']
            usage['MEMORY_MB'] += flavor['ram']
            usage['DISK_GB'] += flavor['disk'] + flavor['ephemeral']
        self.assertRequestMatchesUsage(usage, self.compute_node_uuid())

    def sync_power_states(self):
        """Nova-compute's periodic power state sync, once."""
        self.compute.manager._sync_power_states(
            nova_context.get_admin_context())

    def compute_node_uuid(self):
        return self._get_provider_uuid_by_host(
            self.compute.manager.driver.get_available_nodes()[0])
