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

"""Tokens, TLS and streaming against the real server."""

import hashlib
import json
import os
import secrets
import subprocess
import sys

import fixtures

from nova_zvm import exception
from nova_zvm.tests.unit.client import lab_base
from nova_zvm.tests.unit.client import test_streaming

CHUNK = 64 * 1024
BIG = 24 * 1024 * 1024 + 4321  # hundreds of chunks
PEAK_LIMIT = 1024 * 1024


class TokenTestCase(lab_base.LabClientTestCase):

    def _rotate_admin_token(self):
        with open(self.lab.token_file) as f:
            old = f.read().strip()
        self.addCleanup(self._write_admin_token, old)
        new = secrets.token_urlsafe(32)
        self._write_admin_token(new)
        return old, new

    def _write_admin_token(self, token):
        with open(self.lab.token_file, 'w') as f:
            f.write(token)

    def _token_requests(self):
        return [c for c in self.lab.zvm.rest_calls() if c == 'POST /token']

    def test_one_token_for_many_calls(self):
        client = self.client()
        userid = self.new_guest(client)
        self.lab.zvm.reset_rest_calls()

        for _ in range(5):
            client.guest_get_power_state(userid)

        self.assertEqual(['GET /guests/%s/power_state' % userid] * 5,
                         self.lab.zvm.rest_calls())

    def test_rotated_admin_token_refreshes_once(self):
        client = self.client()
        userid = self.new_guest(client)
        self.lab.zvm.reset_rest_calls()
        self._rotate_admin_token()

        # The connector refuses the cached token, signed with the old admin
        # token; the client re-reads the file and tries again, once.
        client.guest_start(userid)

        self.assertEqual('on', self.user(userid)['power'])
        self.assertEqual(['POST /guests/%s/action' % userid, 'POST /token',
                          'POST /guests/%s/action' % userid],
                         self.lab.zvm.rest_calls())

    def test_wrong_admin_token_is_unauthorized(self):
        token_file = self.useFixture(fixtures.TempDir()).path + '/token'
        with open(token_file, 'w') as f:
            f.write('not-the-admin-token')
        client = self.client(token_file=token_file)
        real = self.client()
        userid = self.new_guest(real)

        err = self.assertRaises(exception.Unauthorized, client.guest_start,
                                userid)

        self.assertEqual(401, err.status)
        self.assertEqual('off', self.user(userid)['power'])

    def test_tokens_stay_out_of_logs_and_errors(self):
        client = self.client()
        userid = self.new_guest(client)
        old, new = self._rotate_admin_token()
        client.guest_get_power_state(userid)
        auth_token = client._transport.auth.current()
        err = self.assertRaises(exception.NotFound,
                                client.guest_get_power_state, 'NOSUCH')

        for secret in (old, new, auth_token):
            self.assertNotIn(secret, self.log.output)
            self.assertNotIn(secret, str(err))
            self.assertNotIn(secret, repr(vars(err)))


class NoAuthTestCase(lab_base.LabClientTestCase):

    lab_kwargs = {'auth': 'none'}

    def test_calls_without_token(self):
        client = self.client()
        userid = self.new_guest(client)

        client.guest_start(userid)

        self.assertEqual('on', self.user(userid)['power'])
        self.assertNotIn('POST /token', self.lab.zvm.rest_calls())


# Runs in a clean interpreter: other test modules in a stestr worker
# (nova's) patch ssl with eventlet after requests imported it, and TLS
# then recurses. nova-compute patches before anything imports ssl.
_TLS_SCRIPT = """
import json, logging, sys
from nova_zvm import exception
from nova_zvm.client import ZVMClient
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
url, token_file, ca_file, verify = sys.argv[1:]
client = ZVMClient(url, token_file=token_file, ca_file=ca_file or None,
                   verify=verify == 'verify', max_retries=0)
try:
    print(json.dumps({'version': client.version()['version']}))
except exception.ZVMConnectorError as err:
    print(json.dumps({'error': type(err).__name__, 'text': str(err)}))
"""


class TLSTestCase(lab_base.LabClientTestCase):

    lab_kwargs = {'tls': True}

    def _version_over_tls(self, ca_file, verify=True):
        out = subprocess.run(
            [sys.executable, '-c', _TLS_SCRIPT, self.lab.url,
             self.lab.token_file, ca_file or '',
             'verify' if verify else 'insecure'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, out.returncode, out.stderr)
        return json.loads(out.stdout), out.stderr

    def test_verified_with_the_ca_file(self):
        self.assertTrue(self.lab.url.startswith('https://'))
        result, _ = self._version_over_tls(self.lab.ca_file)
        self.assertEqual({'version': '1.6.3'}, result)

    def test_unknown_certificate_is_refused(self):
        # Verification is on by default, with the system's CAs, which do
        # not know the lab's certificate.
        result, _ = self._version_over_tls(None)
        self.assertEqual('ConnectionFailed', result['error'])
        self.assertIn('TLS', result['text'])

    def test_insecure_when_asked(self):
        result, log = self._version_over_tls(None, verify=False)
        self.assertEqual({'version': '1.6.3'}, result)
        self.assertIn('verification of the Cloud Connector', log)


class StreamingTestCase(lab_base.LabClientTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_upload_streams_in_chunks(self):
        source = os.path.join(self.tmp, 'big.img')
        digest = test_streaming.write_random_file(source, BIG)
        client = self.client(chunk_size=CHUNK)

        remote, peak = test_streaming.measure_peak(client.file_import,
                                                   source)

        # The lab runs on this machine: read what the connector stored.
        self.assertEqual(BIG, os.path.getsize(remote))
        self.assertEqual(digest, test_streaming.sha256_of(remote))
        self.assertLess(peak, PEAK_LIMIT)

    def test_download_streams_in_chunks(self):
        source = os.path.join(self.tmp, 'big.img')
        digest = test_streaming.write_random_file(source, BIG)
        client = self.client(chunk_size=CHUNK)
        remote = client.file_import(source)
        dest = os.path.join(self.tmp, 'back.img')

        result, peak = test_streaming.measure_peak(client.file_export,
                                                   remote, dest)

        self.assertEqual(BIG, result['filesize_in_bytes'])
        self.assertEqual(digest, test_streaming.sha256_of(dest))
        self.assertLess(peak, PEAK_LIMIT)

    def test_download_of_a_missing_file(self):
        dest = os.path.join(self.tmp, 'back.img')

        self.assertRaises(exception.ZVMConnectorError,
                          self.client().file_export, '/no/such/file', dest)

        self.assertEqual([], os.listdir(self.tmp))

    def test_small_upload_round_trip(self):
        client = self.client()
        data = b'config drive bytes'
        path = os.path.join(self.tmp, 'small')
        with open(path, 'wb') as f:
            f.write(data)

        remote = client.file_import(path)
        client.file_export(remote, path + '.back')

        with open(path + '.back', 'rb') as f:
            self.assertEqual(hashlib.sha256(data).digest(),
                             hashlib.sha256(f.read()).digest())
