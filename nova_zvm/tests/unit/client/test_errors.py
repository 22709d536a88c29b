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

"""Answers to errors, values refused before sending, configuration."""

from oslo_config import fixture as config_fixture

from nova_zvm.client import ZVMClient
from nova_zvm import conf
from nova_zvm import exception
from nova_zvm.tests.unit.client import base

GUESTS = base.URL + '/guests'


class EnvelopeTestCase(base.MockedConnectorTestCase):

    def _fail_with(self, status, body=None, text=None):
        kwargs = {'status_code': status}
        if text is not None:
            kwargs['text'] = text
        else:
            kwargs['json'] = body
        self.mock.post(GUESTS, **kwargs)
        return self.client()

    def test_errors_by_status(self):
        cases = [
            (400, 100, exception.BadRequest),
            (404, 404, exception.NotFound),
            (409, 409, exception.Conflict),
            (500, 8, exception.ZVMFailure),
            (501, 501, exception.ZVMFailure),
        ]
        for status, overall_rc, cls in cases:
            client = self._fail_with(status, base.envelope(
                overall_rc=overall_rc, rc=212, rs=36, errmsg='no way',
                mod_id=10))
            err = self.assertRaises(cls, client.guest_create, 'ABC', 1, 512)
            self.assertEqual(
                ('guest_create', status, overall_rc, 212, 36, 'no way', 10),
                (err.api, err.status, err.overall_rc, err.rc, err.rs,
                 err.errmsg, err.mod_id))
            self.assertIsInstance(err, exception.ZVMConnectorError)
            self.assertIn('rs 36', str(err))

    def test_failure_inside_a_200(self):
        client = self._fail_with(200, base.envelope(overall_rc=300, rc=300,
                                                    rs=5, errmsg='oops'))
        err = self.assertRaises(exception.ZVMFailure, client.guest_create,
                                'ABC', 1, 512)
        self.assertEqual(300, err.overall_rc)

    def test_answer_that_is_not_an_envelope(self):
        client = self._fail_with(502, text='<html>Bad Gateway</html>')
        err = self.assertRaises(exception.ZVMFailure, client.guest_create,
                                'ABC', 1, 512)
        self.assertEqual(502, err.status)
        self.assertIsNone(err.overall_rc)
        self.assertIn('Bad Gateway', err.errmsg)

    def test_output_is_returned(self):
        self.mock.get(GUESTS, json=base.envelope(['ABC', 'DEF']))
        self.assertEqual(['ABC', 'DEF'], self.client().guest_list())


class ValidationTestCase(base.MockedConnectorTestCase):

    def test_bad_values_are_refused_before_sending(self):
        client = self.client()
        calls = [
            (client.guest_get_power_state, ('../host',)),
            (client.guest_get_power_state, ('ABC?x=1',)),
            (client.guest_get_power_state, ('TOOLONGID',)),
            (client.guest_get_power_state, ('',)),
            (client.guest_get_power_state, (None,)),
            (client.guest_delete, ('A#B/C',)),
            (client.guest_delete_nic, ('ABC', '10G0')),
            (client.guest_nic_couple_to_vswitch, ('ABC', '1000', 'VSW/1')),
            (client.guest_delete_disks, ('ABC', ['0100', 'x'])),
            (client.image_delete, ('../../etc/passwd',)),
            (client.image_delete, ('.hidden',)),
            (client.image_get_root_disk_size, ('a b',)),
            (client.guest_deploy, ('ABC', 'img/1')),
            (client.guest_inspect_stats, ([],)),
            (client.guest_inspect_stats, (['ABC', 'D,E'],)),
            (client.vswitch_grant_user, ('VSW1', 'A B')),
        ]
        for method, args in calls:
            err = self.assertRaises(exception.InvalidParameter, method, *args)
            self.assertIsInstance(err, ValueError)
            self.assertIsInstance(err, exception.BadRequest)
            self.assertEqual(method.__name__, err.api)
        self.assertFalse(self.mock.called)

    def test_path_values_are_quoted(self):
        # '#' and '$' are valid in z/VM userids but special in URLs.
        self.mock.get(base.URL + '/guests/A%23B%24/power_state',
                      json=base.envelope('on'))
        self.assertEqual('on', self.client().guest_get_power_state('A#B$'))

    def test_query_values_are_encoded(self):
        self.mock.get(base.URL + '/host/diskpool',
                      json=base.envelope({'disk_total': 1}))
        self.client().host_diskpool_get_info('ECKD:POOL1')
        self.assertEqual({'poolname': ['eckd:pool1']},
                         self.mock.last_request.qs)


class ConfigurationTestCase(base.MockedConnectorTestCase):

    def test_verification_is_on_by_default(self):
        self.mock.get('https://zcc/', json=base.envelope({}))
        self.client(url='https://zcc/').version()
        self.assertIs(True, self.mock.last_request.verify)

    def test_ca_file(self):
        ca_file = self.tmp + '/ca.pem'
        open(ca_file, 'w').close()
        self.mock.get('https://zcc/', json=base.envelope({}))
        self.client(url='https://zcc', ca_file=ca_file).version()
        self.assertEqual(ca_file, self.mock.last_request.verify)

    def test_missing_ca_file(self):
        self.assertRaises(exception.InvalidParameter, ZVMClient,
                          'https://zcc', ca_file=self.tmp + '/none.pem')

    def test_insecure_logs_a_warning(self):
        self.mock.get('https://zcc/', json=base.envelope({}))
        self.client(url='https://zcc', verify=False).version()
        self.assertIs(False, self.mock.last_request.verify)
        self.assertIn('verification of the Cloud Connector at https://zcc '
                      'is off', self.log.output)

    def test_bad_url(self):
        for url in (None, '', 'zcc:8080', 'ftp://zcc'):
            self.assertRaises(exception.InvalidParameter, ZVMClient, url)

    def test_from_conf(self):
        cfg = self.useFixture(config_fixture.Config(conf.CONF))
        cfg.config(group='zvm', cloud_connector_url='https://zcc:9443',
                   token_file=self.token_file, insecure=True,
                   connect_timeout=2.5, read_timeout=40,
                   long_read_timeout=600, max_retries=1, retry_interval=0.2,
                   connection_pool_size=4)
        self.mock.get('https://zcc:9443/guests', json=base.envelope([]))

        client = ZVMClient.from_conf(conf.CONF)
        self.addCleanup(client.close)
        client._transport.sleep = self.sleeps.append
        client.guest_list()

        last = self.mock.last_request
        self.assertEqual((2.5, 40.0), last.timeout)
        self.assertIs(False, last.verify)
        self.assertEqual(base.AUTH_TOKEN, last.headers['X-Auth-Token'])
        self.assertEqual(1, client._transport.max_retries)
        self.assertEqual(0.2, client._transport.retry_interval)
        self.assertEqual(600, client._transport.long_timeout[1])
