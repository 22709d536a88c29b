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

"""Timeouts, retries, connection failures: what a real server rarely does."""

import requests
import requests_mock
import urllib3

from nova_zvm import exception
from nova_zvm.tests.unit.client import base

POWER = base.URL + '/guests/ABC/power_state'
ACTION = base.URL + '/guests/ABC/action'


def _refused():
    # What requests raises when nothing listens: the request never left.
    reason = urllib3.exceptions.NewConnectionError(
        None, 'Failed to establish a new connection: [Errno 111] '
              'Connection refused')
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, '/', reason))


def _reset():
    # The connection dropped after the request went out.
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            'Connection aborted.', ConnectionResetError(104, 'reset')))


class TimeoutTestCase(base.MockedConnectorTestCase):

    def test_every_call_has_the_configured_timeouts(self):
        self.mock.get(POWER, json=base.envelope('on'))
        self.mock.post(ACTION, json=base.envelope())
        client = self.client(connect_timeout=3.0, read_timeout=30.0,
                             long_read_timeout=900.0)

        client.guest_get_power_state('ABC')
        client.guest_deploy('ABC', 'img1', transportfiles='/tmp/cfg')

        timeouts = [(r.path, r.timeout) for r in self.mock.request_history]
        self.assertEqual([('/token', (3.0, 30.0)),
                          ('/guests/abc/power_state', (3.0, 30.0)),
                          ('/guests/abc/action', (3.0, 900.0))], timeouts)

    def test_long_operations_use_the_long_read_timeout(self):
        self.mock.register_uri(requests_mock.ANY, requests_mock.ANY,
                               json=base.envelope({'dest_url': 'file:///f'}),
                               headers={'X-Auth-Token': base.AUTH_TOKEN})
        client = self.client(read_timeout=30.0, long_read_timeout=900.0)

        client.image_import('img1', 'file:///f', {'os_version': 'rhel8'})
        client.image_export('img1', 'file:///f')
        client.file_import(__file__)
        client.guest_capture('ABC', 'img2')
        client.guest_live_migrate('ABC', 'ZCC2', 'HOST2', {}, 'move')
        client.guest_start('ABC')

        reads = [r.timeout[1] for r in self.mock.request_history
                 if r.path != '/token']
        self.assertEqual([900.0] * 5 + [30.0], reads)

    def test_connect_timeout_is_retried_then_raised(self):
        self.mock.get(POWER, exc=requests.exceptions.ConnectTimeout)
        client = self.client(max_retries=2)

        err = self.assertRaises(exception.Timeout,
                                client.guest_get_power_state, 'ABC')

        self.assertEqual('guest_get_power_state', err.api)
        self.assertEqual(3, len(self.requests_to('/guests/ABC/power_state')))

    def test_connect_timeout_of_a_post_is_retried(self):
        # Nothing reached the connector: even a call that changes state
        # may be sent again.
        self.mock.post(ACTION, [{'exc': requests.exceptions.ConnectTimeout},
                                {'json': base.envelope()}])
        client = self.client()

        client.guest_start('ABC')

        self.assertEqual(2, len(self.requests_to('/guests/ABC/action')))

    def test_read_timeout_is_raised_at_once(self):
        # The connector may still be working on it: never repeated.
        self.mock.get(POWER, exc=requests.exceptions.ReadTimeout)
        client = self.client(read_timeout=7.0)

        err = self.assertRaises(exception.Timeout,
                                client.guest_get_power_state, 'ABC')

        self.assertIn('7.0 s', str(err))
        self.assertEqual(1, len(self.requests_to('/guests/ABC/power_state')))
        self.assertEqual([], self.sleeps)


class ConnectionFailureTestCase(base.MockedConnectorTestCase):

    def test_connection_reset_of_a_get_is_retried(self):
        self.mock.get(POWER, [{'exc': _reset()},
                              {'json': base.envelope('off')}])
        client = self.client()

        self.assertEqual('off', client.guest_get_power_state('ABC'))
        self.assertEqual(2, len(self.requests_to('/guests/ABC/power_state')))

    def test_connection_reset_of_a_post_is_not_retried(self):
        # The connector may have started the guest already.
        self.mock.post(ACTION, [{'exc': _reset()},
                                {'json': base.envelope()}])
        client = self.client()

        err = self.assertRaises(exception.ConnectionFailed,
                                client.guest_start, 'ABC')

        self.assertEqual('guest_start', err.api)
        self.assertEqual(1, len(self.requests_to('/guests/ABC/action')))

    def test_refused_connection_of_a_post_is_retried(self):
        self.mock.post(ACTION, [{'exc': _refused()},
                                {'json': base.envelope()}])
        client = self.client()

        client.guest_stop('ABC')

        self.assertEqual(2, len(self.requests_to('/guests/ABC/action')))

    def test_retries_exhausted(self):
        self.mock.get(POWER, exc=_refused())
        client = self.client(max_retries=3, retry_interval=0.5)

        err = self.assertRaises(exception.ConnectionFailed,
                                client.guest_get_power_state, 'ABC')

        self.assertIsNone(err.status)
        self.assertEqual(4, len(self.requests_to('/guests/ABC/power_state')))
        # Exponential backoff with jitter: each wait in [d/2, d].
        self.assertEqual(3, len(self.sleeps))
        for n, delay in enumerate(self.sleeps):
            ceiling = 0.5 * 2 ** n
            self.assertTrue(ceiling / 2 <= delay <= ceiling,
                            'wait %d was %s' % (n, delay))
        warnings = [line for line in self.log.output.splitlines()
                    if 'guest_get_power_state' in line and 'retry' in line]
        self.assertEqual(3, len(warnings))
        self.assertIn('retry 3 of 3', warnings[-1])

    def test_no_retries_when_disabled(self):
        self.mock.get(POWER, exc=_refused())
        client = self.client(max_retries=0)

        self.assertRaises(exception.ConnectionFailed,
                          client.guest_get_power_state, 'ABC')
        self.assertEqual(1, len(self.requests_to('/guests/ABC/power_state')))

    def test_tls_failure_is_not_retried(self):
        self.mock.get(POWER, exc=requests.exceptions.SSLError('bad cert'))
        client = self.client()

        err = self.assertRaises(exception.ConnectionFailed,
                                client.guest_get_power_state, 'ABC')
        self.assertIn('TLS', str(err))
        self.assertEqual(1, len(self.requests_to('/guests/ABC/power_state')))


class BusyTestCase(base.MockedConnectorTestCase):

    busy = {'status_code': 503,
            'json': base.envelope(overall_rc=503, rc=503, rs=1,
                                  errmsg='Max concurrent deploy/capture '
                                         'requests reached')}

    def test_503_of_a_deploy_is_retried(self):
        self.mock.post(ACTION, [self.busy, self.busy,
                                {'json': base.envelope()}])
        client = self.client()

        client.guest_deploy('ABC', 'img1', transportfiles='/tmp/cfg')

        self.assertEqual(3, len(self.requests_to('/guests/ABC/action')))
        self.assertEqual(2, len(self.sleeps))

    def test_503_of_other_posts_is_raised_at_once(self):
        self.mock.post(ACTION, [self.busy, {'json': base.envelope()}])
        client = self.client()

        err = self.assertRaises(exception.Busy, client.guest_start, 'ABC')

        self.assertEqual(503, err.status)
        self.assertEqual(1, len(self.requests_to('/guests/ABC/action')))

    def test_503_retries_exhausted(self):
        self.mock.post(ACTION, [self.busy])
        client = self.client(max_retries=2)

        err = self.assertRaises(exception.Busy, client.guest_capture,
                                'ABC', 'img1')

        self.assertEqual((503, 503, 1), (err.overall_rc, err.rc, err.rs))
        self.assertIn('Max concurrent', err.errmsg)
        self.assertEqual(3, len(self.requests_to('/guests/ABC/action')))
