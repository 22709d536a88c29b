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
configuration nova would read and on which services run. ``stack`` runs
the phases as stack.sh does, with what devstack's stackrc, lib/nova and
lib/neutron do around them, and so shows the nova-cpu.conf nova-compute
finally reads.
"""

import configparser
import json
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

# As devstack does: stackrc, the plugin's override-defaults, lib/nova's
# and lib/neutron's defaults, the plugin's settings, then plugin.sh with
# mode and phase.
PRELUDE = """
set -o errexit
source "$STUBS"
devstack_stackrc
source "$PLUGIN_DIR/override-defaults"
devstack_lib_defaults
source "$PLUGIN_DIR/settings"
"""
RUNNER = PRELUDE + """
source "$PLUGIN_DIR/plugin.sh" "$@"
_stub_record vars "VIRT_DRIVER=$VIRT_DRIVER" \
    "FORCE_CONFIG_DRIVE=$FORCE_CONFIG_DRIVE" \
    "VIF_PLUGGING_IS_FATAL=$VIF_PLUGGING_IS_FATAL" \
    "VIF_PLUGGING_TIMEOUT=$VIF_PLUGGING_TIMEOUT"
"""
# stack.sh's order of the phases and of lib/nova's and lib/neutron's work
# on nova's configuration between them.
STACK = PRELUDE + """
source "$PLUGIN_DIR/plugin.sh" stack pre-install
source "$PLUGIN_DIR/plugin.sh" stack install
devstack_configure_nova
source "$PLUGIN_DIR/plugin.sh" stack post-config
devstack_configure_neutron_nova
devstack_merge_post_config "$NOVA_CONF" "$STUB_POST_CONFIG_NOVA"
devstack_start_nova_compute
source "$PLUGIN_DIR/plugin.sh" stack extra
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
        # lib/neutron's ML2 configuration file (relative to /, as there).
        self.ml2_conf = os.path.join(self.root, 'etc', 'neutron', 'ml2.ini')
        os.makedirs(os.path.dirname(self.ml2_conf))
        self.log = os.path.join(self.root, 'calls.log')
        self.services = os.path.join(self.root, 'services')
        self.lab_state = os.path.join(self.data_dir, 'nova-zvm-lab')

    def stack(self, expect_ok=True, **variables):
        """stack.sh: every phase in order, as one shell, like devstack."""
        return self._run(STACK, [], expect_ok, variables)

    def run_phase(self, *phase, expect_ok=True, **variables):
        return self._run(RUNNER, list(phase), expect_ok, variables)

    def _run(self, script, phase, expect_ok, variables):
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
            'Q_PLUGIN_CONF_FILE': self.ml2_conf.lstrip('/'),
            'SERVICE_TIMEOUT': '60',
            'ENABLED_SERVICES': 'n-api,n-cond,n-sch,n-cpu,placement-api',
            'STUB_POST_CONFIG_NOVA': '',
            'STUB_POST_CONFIG_CPU': '',
        }
        env.update(variables)
        proc = subprocess.run(['bash', '-c', script, 'plugin.sh'] + phase,
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

    def assert_nova_conf(self, section, expected):
        """nova.conf holds exactly these options in section."""
        self.assertEqual(expected, self.conf(self.nova_conf).get(section))

    def variables(self):
        [line] = self.calls('vars')[-1:]
        return dict(v.split('=', 1) for v in line.split())


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

        self.assert_nova_conf('DEFAULT', {
            'compute_driver': 'nova_zvm.ZVMDriver',
            'instance_name_template': 'os%06x',
        })
        self.assert_nova_conf('zvm', {
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

        self.assert_nova_conf('DEFAULT', {
            'compute_driver': 'nova_zvm.ZVMDriver',
            'instance_name_template': 'z%07x',
        })
        self.assert_nova_conf('zvm', {
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
        nova = self.conf(self.nova_conf)
        self.assertNotIn('zvm', nova)
        self.assertNotIn('compute_driver', nova['DEFAULT'])

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
        zvm = self.conf(self.nova_conf)['zvm']
        self.assertEqual('http://127.0.0.1:8900', zvm['cloud_connector_url'])
        self.assertEqual(os.path.join(self.lab_state, 'etc', 'token.dat'),
                         zvm['token_file'])
        self.assertNotIn('ca_file', zvm)

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


class TestOverrideDefaults(DevstackPluginTestCase):
    """override-defaults: devstack's own variables, before lib/nova."""

    def test_no_libvirt_and_a_config_drive(self):
        self.run_phase('stack', 'pre-install',
                       ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080')

        variables = self.variables()
        self.assertEqual('zvm', variables['VIRT_DRIVER'])
        self.assertEqual('True', variables['FORCE_CONFIG_DRIVE'])
        # lib/nova loaded no hypervisor plugin of its own (libvirt).
        self.assertEqual([], self.calls('hypervisor_plugin'))
        self.assertEqual(['nova-zvm'], self.calls('define_plugin'))

    def test_vif_plugging_left_to_devstack_without_the_lab(self):
        self.run_phase('stack', 'pre-install',
                       ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080')

        variables = self.variables()
        self.assertEqual('True', variables['VIF_PLUGGING_IS_FATAL'])
        self.assertEqual('300', variables['VIF_PLUGGING_TIMEOUT'])

    def test_lab_turns_the_vif_wait_off(self):
        self.run_phase('stack', 'pre-install', ZVM_LAB='True')

        variables = self.variables()
        self.assertEqual('False', variables['VIF_PLUGGING_IS_FATAL'])
        self.assertEqual('0', variables['VIF_PLUGGING_TIMEOUT'])


ALL_IN_ONE = 'n-api,n-cond,n-sch,n-cpu,placement-api,g-api,q-svc,q-agt'


class TestStack(DevstackPluginTestCase):
    """The whole of stack.sh: the nova-cpu.conf nova-compute reads."""

    def test_real_connector_all_in_one(self):
        self.stack(ENABLED_SERVICES=ALL_IN_ONE,
                   ZVM_CLOUD_CONNECTOR_URL='https://zvmcc.example.org',
                   ZVM_TOKEN_FILE='/etc/nova/zvm-token',
                   ZVM_CA_FILE='/etc/nova/zvm-ca.pem')

        cpu = self.conf(self.nova_cpu_conf)
        self.assertEqual({
            'compute_driver': 'nova_zvm.ZVMDriver',
            'instance_name_template': 'z%07x',
            'force_config_drive': 'True',
            # devstack's own: the networking answer decides who sends
            # network-vif-plugged for z/VM ports.
            'vif_plugging_is_fatal': 'True',
            'vif_plugging_timeout': '300',
        }, cpu['DEFAULT'])
        self.assertEqual({
            'cloud_connector_url': 'https://zvmcc.example.org',
            'token_file': '/etc/nova/zvm-token',
            'ca_file': '/etc/nova/zvm-ca.pem',
            'vswitch_mappings': 'public:VSW1',
            'disk_pool': 'ECKD:POOL1',
            'image_tmp_path': os.path.join(self.data_dir, 'nova-zvm',
                                           'images'),
        }, cpu['zvm'])
        self.assertEqual(['n-cpu'], self.running())
        self.assertEqual([], self.calls('hypervisor_plugin'))

    def test_lab_all_in_one_does_not_wait_for_vifs(self):
        # lib/neutron writes the vif options after post-config: the
        # values must come from override-defaults to survive.
        self.stack(ENABLED_SERVICES=ALL_IN_ONE, ZVM_LAB='True')

        cpu = self.conf(self.nova_cpu_conf)
        self.assertEqual('False', cpu['DEFAULT']['vif_plugging_is_fatal'])
        self.assertEqual('0', cpu['DEFAULT']['vif_plugging_timeout'])
        self.assertEqual('nova_zvm.ZVMDriver',
                         cpu['DEFAULT']['compute_driver'])
        self.assertEqual('http://127.0.0.1:8900',
                         cpu['zvm']['cloud_connector_url'])
        self.assertEqual(['zvm-lab', 'n-cpu'], self.running())
        self.assertEqual(1, len(self.calls('openstack')))

    def test_local_conf_overrides_for_nova_compute_win(self):
        overrides = os.path.join(self.root, 'cpu-post-config.ini')
        with open(overrides, 'w') as f:
            f.write('[zvm]\ndisk_pool = FBA:POOL7\n'
                    '[DEFAULT]\nvif_plugging_timeout = 30\n')

        self.stack(ENABLED_SERVICES=ALL_IN_ONE,
                   ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080',
                   STUB_POST_CONFIG_CPU=overrides)

        cpu = self.conf(self.nova_cpu_conf)
        self.assertEqual('FBA:POOL7', cpu['zvm']['disk_pool'])
        self.assertEqual('30', cpu['DEFAULT']['vif_plugging_timeout'])
        self.assertEqual('ECKD:POOL1',
                         self.conf(self.nova_conf)['zvm']['disk_pool'])


class TestServiceGating(DevstackPluginTestCase):
    """Each node gets only what the services it runs need."""

    def test_controller_gets_the_name_template_only(self):
        self.stack(ENABLED_SERVICES='n-api,n-cond,n-sch,placement-api,'
                                    'g-api,q-svc')

        nova = self.conf(self.nova_conf)
        self.assertEqual({
            'instance_name_template': 'z%07x',
            'force_config_drive': 'True',
            'vif_plugging_is_fatal': 'True',
            'vif_plugging_timeout': '300',
        }, nova['DEFAULT'])
        self.assertNotIn('zvm', nova)
        self.assertFalse(os.path.exists(self.nova_cpu_conf))
        # neutron's API server loads the zvm mechanism driver from nova-zvm.
        self.assertEqual([os.path.join(self.dest, 'nova-zvm')],
                         self.calls('setup_develop'))
        self.assertEqual('zvm', self.conf(self.ml2_conf)['ml2'][
            'mechanism_drivers'])
        self.assertEqual([], self.calls('install_package'))
        self.assertEqual([], self.running())

    def test_node_without_nova_gets_only_the_mechanism_driver(self):
        self.stack(ENABLED_SERVICES='g-api,q-svc,q-agt')

        self.assertFalse(os.path.exists(self.nova_conf))
        self.assertEqual([os.path.join(self.dest, 'nova-zvm')],
                         self.calls('setup_develop'))
        written = {call.split()[0] for call in self.calls('iniset')}
        self.assertEqual({self.ml2_conf}, written)

    def test_node_without_nova_or_neutron_is_left_alone(self):
        self.stack(ENABLED_SERVICES='g-api,q-agt')

        self.assertEqual([], self.calls('setup_develop'))
        self.assertEqual([], self.calls('iniset'))

    def test_compute_node_without_the_lab(self):
        self.stack(ENABLED_SERVICES='n-cpu,q-agt',
                   ZVM_CLOUD_CONNECTOR_URL='http://10.0.0.5:8080')

        self.assertEqual([os.path.join(self.dest, 'nova-zvm')],
                         self.calls('setup_develop'))
        cpu = self.conf(self.nova_cpu_conf)
        self.assertEqual('nova_zvm.ZVMDriver',
                         cpu['DEFAULT']['compute_driver'])
        self.assertEqual(['n-cpu'], self.running())
        self.assertEqual([], self.calls('openstack'))

    def test_clean_on_a_controller_removes_nothing(self):
        images = os.path.join(self.data_dir, 'nova-zvm', 'images')
        os.makedirs(images)

        self.run_phase('clean', ENABLED_SERVICES='n-api,g-api')

        self.assertTrue(os.path.isdir(images))
        self.assertEqual([], self.calls('stop_process'))


class TestRestack(DevstackPluginTestCase):
    """unstack.sh then stack.sh: the lab's state starts afresh."""

    def _connector_db(self):
        # Stands for what the lab's Cloud Connector keeps on disk.
        db = os.path.join(self.lab_state, 'db', 'sdk_guest.sqlite')
        os.makedirs(os.path.dirname(db), exist_ok=True)
        with open(db, 'w') as f:
            f.write('guest ZVM00001\n')
        return db

    def test_unstack_forgets_the_connector_database(self):
        self.stack(ZVM_LAB='True')
        db = self._connector_db()

        self.run_phase('unstack', ZVM_LAB='True')

        self.assertNotIn('zvm-lab', self.running())
        self.assertFalse(os.path.exists(db))
        self.assertFalse(os.path.exists(self.lab_state))

    def test_stack_again_starts_an_empty_lab(self):
        self.stack(ZVM_LAB='True')
        self.run_phase('unstack', ZVM_LAB='True')

        self.stack(ZVM_LAB='True')

        self.assertEqual(1, self.running().count('zvm-lab'))
        self.assertEqual(2, len([c for c in self.calls('run_process')
                                 if c.startswith('zvm-lab ')]))
        self.assertTrue(os.path.isdir(self.lab_state))
        self.assertEqual([], os.listdir(self.lab_state))

    def test_stack_without_unstack_drops_stale_lab_state(self):
        # A host rebooted without unstack.sh: the old lab process is
        # gone with its fake z/VM, its database is still there.
        db = self._connector_db()

        self.stack(ZVM_LAB='True')

        self.assertFalse(os.path.exists(db))
        self.assertEqual(['zvm-lab', 'n-cpu'], self.running())

    def test_unstack_without_lab_keeps_lab_state_alone(self):
        db = self._connector_db()

        self.run_phase('unstack')

        self.assertTrue(os.path.exists(db))


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
        zvm = self.conf(self.nova_conf)['zvm']

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


# Lists the guests the lab's Cloud Connector knows, after creating one
# when asked, in a clean interpreter; plain HTTP on loopback.
_GUESTS = """
import json, sys, time
import requests
url, token_file, create = sys.argv[1:]
session = requests.Session()
session.trust_env = False
deadline = time.monotonic() + 30
while True:
    try:
        with open(token_file) as f:
            admin_token = f.read()
        answer = session.post(url + '/token', timeout=5,
                              headers={'X-Admin-Token': admin_token})
        break
    except (requests.ConnectionError, OSError):
        if time.monotonic() > deadline:
            sys.exit('the lab did not answer in 30 s')
        time.sleep(0.2)
session.headers['X-Auth-Token'] = answer.headers['X-Auth-Token']
if create:
    guest = {'userid': create, 'vcpus': 1, 'memory': 1024, 'disk_list': [
        {'size': '1g', 'is_boot_disk': True, 'disk_pool': 'ECKD:POOL1'}]}
    answer = session.post(url + '/guests', json={'guest': guest}, timeout=60)
    answer.raise_for_status()
answer = session.get(url + '/guests', timeout=30)
answer.raise_for_status()
print(json.dumps(sorted(answer.json()['output'])))
"""


class TestLabRestack(DevstackPluginTestCase):
    """unstack.sh; stack.sh on the real lab: no guest outlives its z/VM."""

    def setUp(self):
        super().setUp()
        self.bin_dir = os.path.dirname(sys.executable)
        if not os.path.exists(os.path.join(self.bin_dir, 'nova-zvm-lab')):
            self.skipTest('nova-zvm-lab is not installed next to python')
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = str(sock.getsockname()[1])
        self.env = {k: v for k, v in os.environ.items()
                    if 'proxy' not in k.lower()}

    def _stack_and_run_lab(self):
        """post-config, then the lab command it gave run_process."""
        self.run_phase('stack', 'post-config', ZVM_LAB='True',
                       STUB_EXEC_PREFIX=self.bin_dir, ZVM_LAB_PORT=self.port)
        return self._run_lab()

    def _run_lab(self):
        cmd = self.calls('run_process')[-1].split(' ', 1)[1]
        lab = subprocess.Popen(shlex.split(cmd), env=self.env,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: lab.poll() is None and lab.kill())
        return lab

    def _guests(self, create=''):
        zvm = self.conf(self.nova_conf)['zvm']
        proc = subprocess.run(
            [sys.executable, '-c', _GUESTS, zvm['cloud_connector_url'],
             zvm['token_file'], create],
            env=self.env, capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return json.loads(proc.stdout)

    def _stop(self, lab):
        lab.terminate()
        lab.wait(30)

    def test_restack_starts_with_an_empty_connector(self):
        lab = self._stack_and_run_lab()
        self.assertEqual(['ZVM00001'], self._guests(create='ZVM00001'))
        self._stop(lab)

        # Only the lab process restarted (its fake z/VM is gone): the
        # connector's database still has the guest. That is the state the
        # plugin must not leave to a new stack.
        lab = self._run_lab()
        self.assertEqual(['ZVM00001'], self._guests())
        self._stop(lab)

        self.run_phase('unstack', ZVM_LAB='True')
        lab = self._stack_and_run_lab()

        self.assertEqual([], self._guests())
        self._stop(lab)
