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

"""devstack/plugin.sh, run phase by phase in bash on stub devstack functions.

The stubs (devstack_stubs.sh) write nova.conf and nova-cpu.conf as real ini
files and keep a list of running services, so each test asserts on the
configuration nova would read and on which services run.
"""

import configparser
import os
import shlex
import socket
import subprocess
import sys

import fixtures
import testtools

from nova_zvm.lab import images as lab_images

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                    '..', '..', '..', '..'))
PLUGIN_DIR = os.path.join(REPO, 'devstack')
STUBS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     'devstack_stubs.sh')

# As devstack does: settings first, then plugin.sh with mode and phase.
RUNNER = """
set -o errexit
source "$STUBS"
source "$PLUGIN_DIR/settings"
source "$PLUGIN_DIR/plugin.sh" "$@"
"""


class DevstackPluginTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.dest = os.path.join(self.root, 'opt', 'stack')
        self.data_dir = os.path.join(self.root, 'data')
        etc = os.path.join(self.root, 'etc', 'nova')
        os.makedirs(etc)
        self.nova_conf = os.path.join(etc, 'nova.conf')
        self.nova_cpu_conf = os.path.join(etc, 'nova-cpu.conf')
        self.log = os.path.join(self.root, 'calls.log')
        self.services = os.path.join(self.root, 'services')
        self.lab_state = os.path.join(self.data_dir, 'nova-zvm-lab')

    def run_phase(self, *phase, expect_ok=True, **variables):
        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'STUBS': STUBS,
            'PLUGIN_DIR': PLUGIN_DIR,
            'STUB_LOG': self.log,
            'STUB_SERVICES': self.services,
            'STUB_PYTHON': sys.executable,
            'DEST': self.dest,
            'DATA_DIR': self.data_dir,
            'NOVA_CONF': self.nova_conf,
            'NOVA_CPU_CONF': self.nova_cpu_conf,
            'SERVICE_TIMEOUT': '60',
            'ENABLED_SERVICES': 'n-api,n-cond,n-sch,n-cpu,placement-api',
        }
        env.update(variables)
        proc = subprocess.run(['bash', '-c', RUNNER, 'plugin.sh'] +
                              list(phase),
                              env=env, capture_output=True, text=True,
                              timeout=60)
        if expect_ok:
            self.assertEqual(0, proc.returncode,
                             'plugin.sh %s failed:\n%s%s' % (
                                 ' '.join(phase), proc.stdout, proc.stderr))
        else:
            self.assertNotEqual(0, proc.returncode)
        return proc

    def calls(self, name):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [line.split(' ', 1)[1].rstrip('\n') for line in f
                    if line.split(' ', 1)[0] == name]

    def running(self):
        if not os.path.exists(self.services):
            return []
        with open(self.services) as f:
            return [line.strip() for line in f if line.strip()]

    def conf(self, path):
        conf = configparser.RawConfigParser(default_section='\x00')
        conf.optionxform = str
        self.assertTrue(os.path.exists(path), '%s was not written' % path)
        conf.read(path)
        return {section: dict(conf.items(section))
                for section in conf.sections()}

    def assert_nova_confs(self, section, expected):
        """Both files nova reads hold exactly these options in section."""
        for path in (self.nova_conf, self.nova_cpu_conf):
            self.assertEqual(expected, self.conf(path).get(section), path)


class TestStackInstall(DevstackPluginTestCase):

    def test_installs_the_driver_and_genisoimage(self):
        self.run_phase('stack', 'install')

        self.assertEqual([os.path.join(self.dest, 'nova-zvm')],
                         self.calls('setup_develop'))
        self.assertEqual(['genisoimage'], self.calls('install_package'))
        self.assertEqual([], self.running())

    def test_lab_installs_the_lab_extra(self):
        self.run_phase('stack', 'install', ZVM_LAB='True')

        self.assertEqual([os.path.join(self.dest, 'nova-zvm') + ' lab'],
                         self.calls('setup_develop'))

    def test_nova_zvm_dir_is_honoured(self):
        self.run_phase('stack', 'install', NOVA_ZVM_DIR='/src/nova-zvm')

        self.assertEqual(['/src/nova-zvm'], self.calls('setup_develop'))


class TestStackPostConfig(DevstackPluginTestCase):

    def test_connector_options_from_variables(self):
        self.run_phase(
            'stack', 'post-config',
            ZVM_CLOUD_CONNECTOR_URL='https://zvm.example.org:8443',
            ZVM_TOKEN_FILE='/etc/nova/zvm-token',
            ZVM_CA_FILE='/etc/nova/zvm-ca.pem',
            ZVM_VSWITCH_MAPPINGS='physnet1:VSW2,physnet2:VSW3',
            ZVM_DISK_POOL='FBA:POOL9',
            ZVM_USER_PROFILE='PROF1',
            ZVM_IMAGE_TMP_PATH=os.path.join(self.root, 'images'),
            ZVM_REACHABLE_TIMEOUT='600',
            ZVM_INSTANCE_NAME_TEMPLATE='os%06x')

        self.assert_nova_confs('DEFAULT', {
            'compute_driver': 'nova_zvm.ZVMDriver',
            'instance_name_template': 'os%06x',
            'force_config_drive': 'True',
        })
        self.assert_nova_confs('zvm', {
            'cloud_connector_url': 'https://zvm.example.org:8443',
            'token_file': '/etc/nova/zvm-token',
            'ca_file': '/etc/nova/zvm-ca.pem',
            'vswitch_mappings': 'physnet1:VSW2,physnet2:VSW3',
            'disk_pool': 'FBA:POOL9',
            'user_profile': 'PROF1',
            'image_tmp_path': os.path.join(self.root, 'images'),
            'reachable_timeout': '600',
        })
        self.assertTrue(os.path.isdir(os.path.join(self.root, 'images')))
        self.assertEqual([], self.running())

    def test_defaults_leave_unset_options_to_the_driver(self):
        self.run_phase('stack', 'post-config',
                       ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080')

        self.assert_nova_confs('DEFAULT', {
            'compute_driver': 'nova_zvm.ZVMDriver',
            'instance_name_template': 'zvm%05x',
            'force_config_drive': 'True',
        })
        self.assert_nova_confs('zvm', {
            'cloud_connector_url': 'http://10.0.0.5:8080',
            'vswitch_mappings': 'public:VSW1',
            'disk_pool': 'ECKD:POOL1',
            'image_tmp_path': os.path.join(self.data_dir, 'nova-zvm',
                                           'images'),
        })

    def test_insecure_is_written_only_when_asked(self):
        self.run_phase('stack', 'post-config',
                       ZVM_CLOUD_CONNECTOR_URL='https://zvm:8443',
                       ZVM_INSECURE='yes')

        self.assertEqual('True',
                         self.conf(self.nova_conf)['zvm']['insecure'])

    def test_no_connector_and_no_lab_stops_stack(self):
        proc = self.run_phase('stack', 'post-config', expect_ok=False)

        self.assertIn('ZVM_CLOUD_CONNECTOR_URL', proc.stderr)
        self.assertFalse(os.path.exists(self.nova_conf))

    def test_lab_runs_and_nova_points_at_it(self):
        self.run_phase('stack', 'post-config', ZVM_LAB='True')

        self.assertEqual(['zvm-lab'], self.running())
        self.assertEqual(
            ['zvm-lab /usr/local/bin/nova-zvm-lab --host 127.0.0.1 '
             '--port 8900 --auth token --state-dir %s '
             '--disk-pool ECKD:POOL1 --vswitch VSW1' % self.lab_state],
            self.calls('run_process'))
        self.assertEqual(['60 http://127.0.0.1:8900/'],
                         self.calls('wait_for_service'))
        zvm = self.conf(self.nova_cpu_conf)['zvm']
        self.assertEqual('http://127.0.0.1:8900', zvm['cloud_connector_url'])
        self.assertEqual(os.path.join(self.lab_state, 'etc', 'token.dat'),
                         zvm['token_file'])
        self.assertNotIn('ca_file', zvm)
        self.assert_nova_confs('DEFAULT', {
            'compute_driver': 'nova_zvm.ZVMDriver',
            'instance_name_template': 'zvm%05x',
            'force_config_drive': 'True',
            # No neutron agent plugs the lab's NICs: nova must not wait.
            'vif_plugging_is_fatal': 'False',
            'vif_plugging_timeout': '0',
        })

    def test_lab_with_tls_no_auth_and_latency(self):
        self.run_phase('stack', 'post-config', ZVM_LAB='True',
                       ZVM_LAB_TLS='True', ZVM_LAB_AUTH='none',
                       ZVM_LAB_PORT='9443',
                       ZVM_LAB_LATENCY_PROFILE='zvm',
                       ZVM_VSWITCH_MAPPINGS='public:VSW1,private:VSW2',
                       ZVM_DISK_POOL='FBA:POOL2')

        [cmd] = self.calls('run_process')
        self.assertIn('--auth none', cmd)
        self.assertIn('--tls', cmd)
        self.assertIn('--latency-profile zvm', cmd)
        self.assertIn('--disk-pool FBA:POOL2', cmd)
        self.assertIn('--vswitch VSW1 --vswitch VSW2', cmd)
        zvm = self.conf(self.nova_conf)['zvm']
        self.assertEqual('https://127.0.0.1:9443', zvm['cloud_connector_url'])
        self.assertEqual(os.path.join(self.lab_state, 'etc', 'lab-cert.pem'),
                         zvm['ca_file'])
        self.assertNotIn('token_file', zvm)

    def test_lab_that_never_answers_stops_stack(self):
        proc = self.run_phase('stack', 'post-config', expect_ok=False,
                              ZVM_LAB='True', STUB_WAIT_RC='1')

        self.assertIn('lab did not answer', proc.stderr)

    def test_without_lab_no_process_starts(self):
        # ZVM_LAB=False (the default): nothing runs besides nova's services.
        self.run_phase('stack', 'post-config',
                       ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080')

        self.assertEqual([], self.calls('run_process'))


class TestLifecycle(DevstackPluginTestCase):
    """stack, then unstack and clean, as devstack runs them in turn."""

    def test_lab_runs_from_stack_until_unstack(self):
        for phase in ('install', 'post-config', 'extra'):
            self.run_phase('stack', phase, ZVM_LAB='True')
        self.assertEqual(['zvm-lab'], self.running())

        self.run_phase('unstack', ZVM_LAB='True')
        self.assertEqual([], self.running())
        self.assertIn('zvm-lab', self.calls('stop_process'))

    def test_extra_reports_the_lab_and_starts_nothing_more(self):
        self.run_phase('stack', 'post-config', ZVM_LAB='True')

        proc = self.run_phase('stack', 'extra', ZVM_LAB='True')

        self.assertIn('http://127.0.0.1:8900', proc.stdout)
        self.assertEqual(1, len(self.calls('run_process')))
        self.assertEqual(['zvm-lab'], self.running())

    def test_extra_uploads_an_image_the_lab_can_deploy(self):
        services = 'n-api,n-cpu,g-api,glance'
        self.run_phase('stack', 'post-config', ZVM_LAB='True',
                       ENABLED_SERVICES=services)

        self.run_phase('stack', 'extra', ZVM_LAB='True',
                       ENABLED_SERVICES=services)

        image_file = os.path.join(self.lab_state, 'zvm-lab-image.img')
        [call] = self.calls('openstack')
        self.assertEqual(
            '--os-cloud devstack-admin image create zvm-lab-image --public '
            '--disk-format raw --container-format bare '
            '--property os_distro=rhel9 --property architecture=s390x '
            '--property hypervisor_type=zvm --file %s' % image_file, call)
        # Read the header as the Cloud Connector does (fixed offsets) and
        # as unpackdiskimage does (the real tag, one 512-byte block).
        with open(image_file, 'rb') as f:
            data = f.read()
        header = data[:48].decode('ascii')
        self.assertTrue(header.startswith('xCAT CKD Disk Image:'))
        self.assertEqual(500, int(header[20:32]))
        self.assertEqual('CYL', header[33:36])
        self.assertEqual(('ECKD', 500, 'CYL', 0),
                         lab_images.parse_header(data))
        self.assertEqual(lab_images.image_header('CKD', 500, 'CYL', 0),
                         data[:lab_images.HEADER_LEN])

    def test_lab_image_matches_an_fba_pool(self):
        self.run_phase('stack', 'extra', ZVM_LAB='True',
                       ZVM_DISK_POOL='FBA:POOL2',
                       ZVM_LAB_IMAGE_NAME='fba-image',
                       ZVM_LAB_IMAGE_OS_DISTRO='sles15',
                       ENABLED_SERVICES='n-cpu,g-api')

        [call] = self.calls('openstack')
        self.assertIn('--property os_distro=sles15', call)
        with open(os.path.join(self.lab_state, 'fba-image.img'), 'rb') as f:
            data = f.read()
        header = data[:48].decode('ascii')
        self.assertEqual(('FBA', 1048576, 'BLK', 0),
                         lab_images.parse_header(data))
        self.assertEqual(1048576, int(header[20:32]))
        self.assertEqual('BLK', header[33:36])

    def test_no_lab_image_without_glance_or_when_disabled(self):
        self.run_phase('stack', 'extra', ZVM_LAB='True',
                       ENABLED_SERVICES='n-cpu')
        self.run_phase('stack', 'extra', ZVM_LAB='True',
                       ZVM_LAB_IMAGE='False',
                       ENABLED_SERVICES='n-cpu,g-api')

        self.assertEqual([], self.calls('openstack'))

    def test_clean_stops_the_lab_and_removes_its_state(self):
        self.run_phase('stack', 'post-config', ZVM_LAB='True')
        os.makedirs(os.path.join(self.lab_state, 'etc'))
        images = os.path.join(self.data_dir, 'nova-zvm', 'images')
        self.assertTrue(os.path.isdir(images))

        self.run_phase('clean', ZVM_LAB='True')

        self.assertEqual([], self.running())
        self.assertFalse(os.path.exists(self.lab_state))
        self.assertFalse(os.path.exists(images))

    def test_unstack_without_lab_stops_nothing(self):
        self.run_phase('stack', 'post-config',
                       ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080')

        self.run_phase('unstack')

        self.assertEqual([], self.calls('stop_process'))


# The HTTPS probe runs in a clean interpreter: other test modules in a
# stestr worker (nova's) patch ssl with eventlet after requests imported
# it, and TLS then recurses. It retries until the lab answers, loopback
# only (no proxies from the environment), and prints the status of
# POST /token and whether an auth token came back.
_PROBE = """
import sys, time
import requests
url, token_file, ca_file = sys.argv[1:]
session = requests.Session()
session.trust_env = False
deadline = time.monotonic() + 30
while True:
    try:
        with open(token_file) as f:
            admin_token = f.read()
        answer = session.post(url + '/token', timeout=5, verify=ca_file,
                              headers={'X-Admin-Token': admin_token})
        break
    except (requests.ConnectionError, OSError):
        if time.monotonic() > deadline:
            sys.exit('the lab did not answer in 30 s')
        time.sleep(0.2)
print(answer.status_code, bool(answer.headers.get('X-Auth-Token')))
"""


class TestLabCommand(DevstackPluginTestCase):
    """The command plugin.sh gives run_process starts the real lab."""

    def _free_port(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            return sock.getsockname()[1]

    def test_lab_command_serves_what_nova_conf_points_at(self):
        bin_dir = os.path.dirname(sys.executable)
        if not os.path.exists(os.path.join(bin_dir, 'nova-zvm-lab')):
            self.skipTest('nova-zvm-lab is not installed next to python')
        self.run_phase('stack', 'post-config', ZVM_LAB='True',
                       ZVM_LAB_TLS='True', STUB_EXEC_PREFIX=bin_dir,
                       ZVM_LAB_PORT=str(self._free_port()))
        [call] = self.calls('run_process')
        service, cmd = call.split(' ', 1)
        self.assertEqual('zvm-lab', service)
        zvm = self.conf(self.nova_cpu_conf)['zvm']

        env = {k: v for k, v in os.environ.items()
               if 'proxy' not in k.lower()}
        lab = subprocess.Popen(shlex.split(cmd), env=env,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.addCleanup(lab.wait, 10)
        self.addCleanup(lab.terminate)

        probe = subprocess.run(
            [sys.executable, '-c', _PROBE, zvm['cloud_connector_url'],
             zvm['token_file'], zvm['ca_file']],
            env=env, capture_output=True, text=True, timeout=60)

        self.assertEqual(0, probe.returncode, probe.stderr)
        self.assertEqual('200 True', probe.stdout.strip())
