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

"""The lab keeps connections open, as Apache in front of a Connector does.

Without it the client figures would measure the lab: every client would
pay a handshake per call.
"""

import http.client
import json
import urllib.parse

import testtools

from nova_zvm.lab import fixture as lab_fixture


class LabKeepAliveTest(testtools.TestCase):

    def test_one_connection_serves_several_requests(self):
        lab = self.useFixture(lab_fixture.LabFixture(auth='none',
                                                     log_level='WARNING'))
        url = urllib.parse.urlparse(lab.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        self.addCleanup(conn.close)

        # GET / does not read a body: what it leaves unread must not be
        # taken for the next request.
        conn.request('GET', '/', body=b'x' * 5000)
        first = conn.getresponse()
        first.read()
        self.assertEqual(200, first.status)
        self.assertEqual(11, first.version)
        self.assertFalse(first.will_close)
        sock = conn.sock

        conn.request('GET', '/guests')
        second = conn.getresponse()
        body = json.loads(second.read())

        self.assertEqual(200, second.status)
        self.assertEqual(0, body['overallRC'])
        self.assertIs(sock, conn.sock)
        self.assertEqual(['GET /', 'GET /guests'], lab.zvm.rest_calls())
