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

"""devstack/plugin.sh runs nova-zvm-status check in "stack test-config".

The command is the real one (the console script next to this Python), on
the nova-cpu.conf the test writes: a Warning lets the stack finish, a
Failure stops it.
"""

import os
import shutil
import socket
import sys

from nova_zvm.lab import fixture as lab_fixture
from nova_zvm.tests.unit.devstack import test_plugin

BIN_DIR = os.path.dirname(sys.executable)


class TestStatusCheck(test_plugin.DevstackPluginTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab = lab_fixture.LabFixture()
        cls.lab.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.lab.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if not os.path.exists(os.path.join(BIN_DIR, 'nova-zvm-status')):
            self.skipTest('nova-zvm-status is not installed next to python')

    def write_cpu_conf(self, url, **zvm):
        token = os.path.join(self.root, 'token')
        shutil.copyfile(self.lab.token_file, token)
        os.chmod(token, 0o600)
        options = {'cloud_connector_url': url, 'token_file': token,
                   'vswitch_mappings': 'public:VSW1',
                   'disk_pool': 'ECKD:POOL1',
                   'image_tmp_path': os.path.join(self.root, 'images')}
        options.update(zvm)
        with open(self.nova_cpu_conf, 'w') as conf:
            conf.write('[DEFAULT]\ncompute_driver = nova_zvm.ZVMDriver\n'
                       'instance_name_template = z%07x\n'
                       'force_config_drive = True\n[zvm]\n')
            for option, value in options.items():
                conf.write('%s = %s\n' % (option, value))

    def test_warnings_let_the_stack_finish(self):
        self.write_cpu_conf(self.lab.url)

        proc = self.run_phase('stack', 'test-config',
                              STUB_EXEC_PREFIX=BIN_DIR)

        self.assertIn('summary: Checking nova-zvm', proc.stdout)
        self.assertIn('| nova-zvm status check', proc.stdout)
        # Plain http with a token is the lab's one warning.
        self.assertEqual(1, proc.stdout.count('Result: Warning'))
        self.assertIn('plain http', proc.stdout)
        self.assertNotIn('Result: Failure', proc.stdout)

    def test_a_failure_stops_the_stack(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        self.write_cpu_conf('http://127.0.0.1:%d' % port)

        proc = self.run_phase('stack', 'test-config', expect_ok=False,
                              STUB_EXEC_PREFIX=BIN_DIR)

        self.assertIn('Result: Failure', proc.stdout)
        self.assertIn('cannot be reached', proc.stdout)
        self.assertIn('nova-zvm-status check failed (exit code 2)',
                      proc.stderr)

    def test_no_check_without_nova_compute(self):
        self.write_cpu_conf('http://127.0.0.1:1')

        proc = self.run_phase('stack', 'test-config',
                              STUB_EXEC_PREFIX='/nonexistent',
                              ENABLED_SERVICES='n-api,placement-api')

        self.assertNotIn('Checking nova-zvm', proc.stdout)
