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

"""Token auth: cached, refreshed once on 401, never shown."""

import io
import threading
import time

import requests

from nova_zvm.client import auth
from nova_zvm import exception
from nova_zvm.tests.unit.client import base

POWER = base.URL + '/guests/ABC/power_state'
REFUSED = {'status_code': 401,
           'json': base.envelope(overall_rc=400, rc=400, rs=401,
                                 errmsg='Not authorized to execute')}


class _RotatingConnector(object):
    """Issues tokens named after the admin token; accepts only the newest.

    Like the real connector, which signs tokens with the admin token, so a
    rotated admin token makes every token issued before it fail.
    """

    def __init__(self, test):
        self.admin = base.ADMIN_TOKEN
        self.issued = 0
        self.lock = threading.Lock()
        test.mock.post(base.URL + '/token', text=self.token)
        test.mock.get(POWER, json=self.power)

    def valid_token(self):
        return 'tok-%s-%d' % (self.admin, self.issued)

    def token(self, request, context):
        with self.lock:
            if request.headers.get('X-Admin-Token') != self.admin:
                context.status_code = 401
                return ''
            self.issued += 1
            context.headers['X-Auth-Token'] = self.valid_token()
            return ''

    def power(self, request, context):
        if request.headers.get('X-Auth-Token') != self.valid_token():
            context.status_code = 401
            return REFUSED['json']
        return base.envelope('on')


class TokenTestCase(base.MockedConnectorTestCase):

    def test_token_is_fetched_once_and_reused(self):
        self.mock.get(POWER, json=base.envelope('on'))
        client = self.client()

        for _ in range(5):
            client.guest_get_power_state('ABC')

        tokens = self.requests_to('/token')
        self.assertEqual(1, len(tokens))
        self.assertEqual(base.ADMIN_TOKEN,
                         tokens[0].headers['X-Admin-Token'])
        calls = self.requests_to('/guests/ABC/power_state')
        self.assertEqual({base.AUTH_TOKEN},
                         {r.headers['X-Auth-Token'] for r in calls})

    def test_rotated_admin_token_is_reread_and_the_call_retried(self):
        connector = _RotatingConnector(self)
        client = self.client()
        self.assertEqual('on', client.guest_get_power_state('ABC'))

        self.write_admin_token('rotated-admin-token')
        connector.admin = 'rotated-admin-token'
        connector.issued += 1  # the old token is no longer valid

        self.assertEqual('on', client.guest_get_power_state('ABC'))
        tokens = self.requests_to('/token')
        self.assertEqual(['rotated-admin-token'],
                         [r.headers['X-Admin-Token'] for r in tokens[1:]])
        self.assertEqual(3, len(self.requests_to('/guests/ABC/power_state')))

    def test_refused_twice_raises_unauthorized_after_one_refresh(self):
        self.mock.get(POWER, **REFUSED)
        client = self.client()

        err = self.assertRaises(exception.Unauthorized,
                                client.guest_get_power_state, 'ABC')

        self.assertEqual((401, 400, 401), (err.status, err.overall_rc,
                                           err.rs))
        self.assertEqual(2, len(self.requests_to('/token')))
        self.assertEqual(2, len(self.requests_to('/guests/ABC/power_state')))

    def test_refused_admin_token(self):
        self.mock.post(base.URL + '/token', status_code=401)
        client = self.client()

        err = self.assertRaises(exception.Unauthorized,
                                client.guest_get_power_state, 'ABC')
        self.assertEqual('token_create', err.api)
        self.assertIn(self.token_file, str(err))
        self.assertEqual([], self.requests_to('/guests/ABC/power_state'))

    def test_missing_token_file(self):
        client = self.client(token_file=self.tmp + '/nothing-here')

        err = self.assertRaises(exception.Unauthorized,
                                client.guest_get_power_state, 'ABC')
        self.assertIn('nothing-here', str(err))
        self.assertFalse(self.mock.called)

    def test_without_auth_no_token_is_sent(self):
        self.mock.get(POWER, json=base.envelope('on'))
        client = self.client(token_file=None)

        self.assertEqual('on', client.guest_get_power_state('ABC'))

        self.assertEqual([], self.requests_to('/token'))
        self.assertNotIn('X-Auth-Token', self.mock.last_request.headers)

    def test_concurrent_refusals_refresh_once(self):
        # requests-mock serialises requests, so the race is staged on the
        # token cache itself: eight threads refused the same token at once.
        fetched = []

        def fetch(admin_headers):
            fetched.append(admin_headers)
            time.sleep(0.2)  # the others arrive while this one fetches
            response = requests.Response()
            response.status_code = 200
            response.raw = io.BytesIO(b'')
            response.headers['X-Auth-Token'] = 'T%d' % len(fetched)
            return response

        token_auth = auth.TokenAuth(self.token_file, fetch)
        stale = token_auth.current()
        got = []
        threads = [threading.Thread(
            target=lambda: got.append(token_auth.refresh(stale)))
            for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        self.assertEqual(['T2'] * 8, got)
        self.assertEqual(2, len(fetched))


class SecretsTestCase(base.MockedConnectorTestCase):

    def _assert_no_secret(self, text):
        self.assertNotIn(base.ADMIN_TOKEN, text)
        self.assertNotIn(base.AUTH_TOKEN, text)

    def test_tokens_never_reach_logs_or_errors(self):
        self.mock.get(POWER, [REFUSED, {'json': base.envelope('on')},
                              REFUSED, REFUSED])
        self.mock.post(base.URL + '/guests/ABC/action',
                       status_code=500, text='<html>Internal error</html>')
        client = self.client()

        client.guest_get_power_state('ABC')  # refused, refreshed, answered
        errors = [self.assertRaises(exception.Unauthorized,
                                    client.guest_get_power_state, 'ABC'),
                  self.assertRaises(exception.ZVMFailure,
                                    client.guest_start, 'ABC')]
        self.mock.post(base.URL + '/token', status_code=401)
        client._transport.auth._token = None
        errors.append(self.assertRaises(exception.Unauthorized,
                                        client.guest_get_power_state, 'ABC'))

        # The flow did send the tokens, and logged at DEBUG ...
        sent = self.requests_to('/guests/ABC/power_state')
        self.assertEqual(base.AUTH_TOKEN, sent[0].headers['X-Auth-Token'])
        self.assertIn('/guests/ABC/power_state', self.log.output)
        # ... yet neither token shows anywhere.
        self._assert_no_secret(self.log.output)
        for err in errors:
            self._assert_no_secret(str(err))
            self._assert_no_secret(repr(err))
            self._assert_no_secret(repr(vars(err)))
