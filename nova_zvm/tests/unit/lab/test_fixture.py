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


"""The fixture itself: auth, TLS, isolation, start time, clean stop."""

import os
import stat
import subprocess
import sys

import requests
import testtools

from nova_zvm.lab import fixture as lab_fixture
from nova_zvm.tests.unit.lab import base


class TestTokenAuth(base.LabTestCase):

    def test_admin_token_file_is_private(self):
        mode = stat.S_IMODE(os.stat(self.lab.token_file).st_mode)
        self.assertEqual(0o600, mode)

    def test_token_then_version(self):
        version = self.conn.ok('GET', '/')
        self.assertEqual('1.6.3', version['version'])

    def test_bad_token_is_refused_with_401(self):
        status, env = self.conn.call(
            'GET', '/guests', headers={'X-Auth-Token': 'not-a-token'})
        self.assertEqual(401, status)
        self.assertEqual((400, 401), (env['overallRC'], env['rs']))

    def test_control_api_also_under_lab_prefix_on_main_port(self):
        r = requests.get(self.lab.url + '/_lab/state', timeout=10)
        self.assertEqual(200, r.status_code)
        self.assertIn('POOL1', r.json()['pools'])
        self.assertNotIn('GET /_lab/state', self.lab.zvm.rest_calls())

    def test_wrong_admin_token_is_refused_with_401(self):
        r = requests.post(self.lab.url + '/token', timeout=10,
                          headers={'X-Admin-Token': 'wrong'})
        self.assertEqual(401, r.status_code)


class TestFixture(testtools.TestCase):

    def test_starts_answers_and_cleans_up(self):
        # How fast the lab starts is a benchmark figure (``tox -e bench``:
        # "lab start"), not a wall-clock assertion that a busy CI machine
        # could fail.
        lab = lab_fixture.LabFixture()
        lab.setUp()
        try:
            r = requests.get(lab.url + '/', timeout=5)
            self.assertEqual(401, r.status_code)
        finally:
            lab.cleanUp()
        self.assertFalse(os.path.exists(lab.state_dir))
        self.assertIsNotNone(lab.process.poll())

    def test_auth_none_over_tls(self):
        lab = self.useFixture(lab_fixture.LabFixture(auth='none', tls=True))
        self.assertTrue(lab.url.startswith('https://127.0.0.1:'))
        self.assertIsNone(lab.token_file)
        # The HTTPS client runs in a clean interpreter: other test modules
        # in this worker may have eventlet-patched ssl, which recurses.
        script = (
            'import requests, sys\n'
            'url, ca = sys.argv[1:]\n'
            'print(requests.post(url + "/token", timeout=10,'
            ' verify=ca).status_code)\n'
            'print(requests.get(url + "/guests", timeout=10,'
            ' verify=ca).json()["output"])\n'
            'try:\n'
            '    requests.get(url + "/", timeout=10)\n'
            'except requests.exceptions.SSLError:\n'
            '    print("unverified refused")\n')
        out = subprocess.run([sys.executable, '-c', script, lab.url,
                              lab.ca_file], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(['200', '[]', 'unverified refused'],
                         out.stdout.split('\n')[:3], out.stderr)
        # The control API has a plain-HTTP port: no TLS client needed here.
        self.assertEqual({}, lab.zvm.state()['guests'])

    def test_two_labs_keep_separate_state(self):
        one = self.useFixture(lab_fixture.LabFixture(auth='none'))
        two = self.useFixture(lab_fixture.LabFixture(
            auth='none', disk_pools=['FBA:FBAPOOL'], vswitches=['VSW2']))
        r = requests.post(one.url + '/guests', timeout=30, json={
            'guest': {'userid': 'ONLYONE', 'vcpus': 1, 'memory': 512,
                      'disk_list': [{'size': '1g', 'is_boot_disk': True}]}})
        self.assertEqual(200, r.status_code, r.text)

        self.assertIn('ONLYONE', one.zvm.state()['users'])
        self.assertNotIn('ONLYONE', two.zvm.state()['users'])
        self.assertEqual(['FBAPOOL'], list(two.zvm.state()['pools']))
        self.assertEqual(['VSW1', 'VSW2'],
                         sorted(two.zvm.state()['vswitches']))
