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


"""``nova-zvm-lab``: the lab in the foreground."""

import os
import signal
import subprocess
import sys
import tempfile

import requests
import testtools


class TestCommand(testtools.TestCase):

    def _start(self, *args):
        state = tempfile.mkdtemp(prefix='nova-zvm-lab-cli-')
        self.addCleanup(lambda: subprocess.run(['rm', '-rf', state]))
        proc = subprocess.Popen(
            [sys.executable, '-c', 'from nova_zvm.lab import cli; '
             'import sys; sys.exit(cli.main())', '--state-dir', state]
            + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        self.addCleanup(self._kill, proc)
        # URL, token file, state dir: printed once the lab is up (an
        # early exit gives empty lines).
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        return proc, state, lines

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()

    def test_prints_url_and_token_and_stops_on_sigterm(self):
        proc, state, lines = self._start('--auth', 'token',
                                         '--vswitch', 'VSW9')
        url = lines[0].rsplit(' ', 1)[1]
        token_file = lines[1].rsplit(' ', 1)[1]
        self.assertTrue(url.startswith('http://127.0.0.1:'))
        self.assertEqual(os.path.join(state, 'etc', 'token.dat'),
                         token_file)
        with open(token_file) as f:
            admin = f.read()
        r = requests.post(url + '/token', headers={'X-Admin-Token': admin},
                          timeout=10)
        self.assertEqual(200, r.status_code)
        vswitches = requests.get(url + '/vswitches', timeout=10, headers={
            'X-Auth-Token': r.headers['X-Auth-Token']}).json()['output']
        self.assertEqual(['VSW1', 'VSW9'], sorted(vswitches))

        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(10))

    def test_ctrl_c_stops_and_removes_its_own_state_dir(self):
        proc = subprocess.Popen(
            [sys.executable, '-c', 'from nova_zvm.lab import cli; '
             'import sys; sys.exit(cli.main())', '--auth', 'none'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(self._kill, proc)
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        state = lines[1].split(' ')[2]
        self.assertTrue(os.path.isdir(state))

        proc.send_signal(signal.SIGINT)

        self.assertEqual(0, proc.wait(10))
        self.assertFalse(os.path.exists(state))
