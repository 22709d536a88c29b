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

"""Shared plumbing of the client's tests against requests-mock."""

import logging
import os
import re

import fixtures
from requests_mock.contrib import fixture as rm_fixture
import testtools

from nova_zvm.client import ZVMClient

URL = 'http://zcc.example.test:8080'
ADMIN_TOKEN = 'admin-secret-0123456789'
AUTH_TOKEN = 'auth-token-abcdefghij'


def envelope(output=None, overall_rc=0, rc=0, rs=0, errmsg='', mod_id=None):
    return {'overallRC': overall_rc, 'rc': rc, 'rs': rs, 'modID': mod_id,
            'errmsg': errmsg, 'output': output}


class MockedConnectorTestCase(testtools.TestCase):
    """A client with token auth in front of requests-mock.

    ``self.log`` captures every logger at DEBUG (requests' and urllib3's
    too), so tests can check that no token reaches a log line.
    ``self.sleeps`` records the waits between retries instead of waiting.
    """

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.mock = self.useFixture(rm_fixture.Fixture())
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.token_file = os.path.join(self.tmp, 'token.dat')
        self.write_admin_token(ADMIN_TOKEN)
        # Any connector URL a test uses hands out the same token.
        self.mock.post(re.compile(r'/token$'),
                       headers={'X-Auth-Token': AUTH_TOKEN})
        self.sleeps = []

    def write_admin_token(self, token):
        with open(self.token_file, 'w') as f:
            f.write(token + '\n')

    def client(self, **kwargs):
        kwargs.setdefault('token_file', self.token_file)
        kwargs.setdefault('retry_interval', 1.0)
        client = ZVMClient(kwargs.pop('url', URL), **kwargs)
        client._transport.sleep = self.sleeps.append
        self.addCleanup(client.close)
        return client

    def requests_to(self, path, method=None):
        return [r for r in self.mock.request_history
                if r.path == path.lower() and
                (method is None or r.method == method)]
