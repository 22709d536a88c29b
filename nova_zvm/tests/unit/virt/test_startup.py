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

"""Start-up validation of the options: each error names option and fix."""

import logging
import os

import fixtures
from nova import exception
from oslo_config import fixture as config_fixture
import testtools

from nova_zvm import conf
from nova_zvm.virt import startup


class ValidateOptionsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(conf.CONF))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.log = self.useFixture(fixtures.FakeLogger(
            name='nova_zvm', level=logging.INFO))
        self.token = self._file('token', 'secret-admin-token', 0o600)
        self.ca = self._file('ca.pem', 'PEM', 0o644)
        self.cfg.config(instance_name_template='z%07x')
        self.cfg.config(group='zvm', cloud_connector_url='https://zcc:8080',
                        token_file=self.token, ca_file=self.ca,
                        insecure=False)

    def _file(self, name, text, mode):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def _error(self):
        err = self.assertRaises(exception.InvalidConfiguration,
                                startup.validate_options)
        return str(err)

    def test_good_options_pass_silently(self):
        startup.validate_options()
        self.assertEqual('', self.log.output)

    def test_url_missing(self):
        self.cfg.config(group='zvm', cloud_connector_url=None)
        msg = self._error()
        self.assertIn('[zvm] cloud_connector_url is not set', msg)
        self.assertIn('https://', msg)

    def test_url_not_http(self):
        self.cfg.config(group='zvm', cloud_connector_url='ftp://zcc:21')
        msg = self._error()
        self.assertIn('[zvm] cloud_connector_url = ftp://zcc:21', msg)
        self.assertIn('http:// or https://', msg)

    def test_url_not_a_url_in_the_config_file(self):
        self.cfg.conf.clear_override('cloud_connector_url', group='zvm')
        for url in ('zcc.example.com:8080', 'http://'):
            self.cfg.load_raw_values(group='zvm', cloud_connector_url=url)
            msg = self._error()
            self.assertIn('[zvm] cloud_connector_url is not a valid URL', msg)
            self.assertIn('https://zcc.example.com:8080', msg)

    def test_http_url_accepted(self):
        self.cfg.config(group='zvm', cloud_connector_url='http://1.2.3.4',
                        token_file=None)
        startup.validate_options()
        self.assertEqual('', self.log.output)

    def test_http_url_with_token_auth_warns(self):
        # The admin token and the auth tokens travel in clear.
        self.cfg.config(group='zvm', cloud_connector_url='http://1.2.3.4')
        startup.validate_options()
        self.assertIn('http://1.2.3.4', self.log.output)
        self.assertIn('in clear', self.log.output)
        self.assertNotIn('secret-admin-token', self.log.output)

    def test_name_template_too_long(self):
        self.cfg.config(instance_name_template='instance-%08x')
        msg = self._error()
        self.assertIn('[DEFAULT] instance_name_template = instance-%08x', msg)
        self.assertIn("'instance-00000000'", msg)
        self.assertIn('z%07x', msg)

    def test_name_template_too_short_for_large_ids(self):
        # '%6x' pads with spaces, which a userid cannot hold.
        self.cfg.config(instance_name_template='zvm%6x')
        msg = self._error()
        self.assertIn("'zvm     0'", msg)

    def test_name_template_overflows_at_large_ids(self):
        # Fine for ids 0 and 1 ('zvma0000', 'zvma0001'), too long later.
        self.cfg.config(instance_name_template='zvma%04x')
        msg = self._error()
        self.assertIn("'zvmafffff'", msg)
        self.assertIn('0xfffff', msg)

    def test_name_template_that_overflows_later_warns(self):
        # Valid up to 0xfffff, so it starts; ids reach 0x100000 one day.
        self.cfg.config(instance_name_template='zvm%05x')
        startup.validate_options()
        self.assertIn("overflows at 0x100000 ('zvm100000')",
                      self.log.output)
        self.assertIn("'z%07x'", self.log.output)

    def test_name_template_with_uuid(self):
        self.cfg.config(instance_name_template='%(uuid)s')
        msg = self._error()
        self.assertIn('instance_name_template', msg)

    def test_ca_file_unreadable(self):
        missing = os.path.join(self.tmp, 'nope.pem')
        self.cfg.config(group='zvm', ca_file=missing)
        msg = self._error()
        self.assertIn('[zvm] ca_file = %s' % missing, msg)
        self.assertIn('readable', msg)

    def test_token_file_missing(self):
        missing = os.path.join(self.tmp, 'nope')
        self.cfg.config(group='zvm', token_file=missing)
        msg = self._error()
        self.assertIn('[zvm] token_file = %s does not exist' % missing, msg)
        self.assertIn('0600', msg)

    def test_token_file_unreadable(self):
        if os.geteuid() == 0:
            self.skipTest('root reads every file')
        os.chmod(self.token, 0o000)
        msg = self._error()
        self.assertIn('[zvm] token_file = %s is not readable' % self.token,
                      msg)

    def test_token_file_readable_by_others_warns(self):
        os.chmod(self.token, 0o644)
        startup.validate_options()
        self.assertIn('[zvm] token_file %s is readable by other users'
                      % self.token, self.log.output)
        self.assertIn('chmod 0600', self.log.output)
        self.assertNotIn('secret-admin-token', self.log.output)

    def test_no_token_file_is_fine(self):
        self.cfg.config(group='zvm', token_file=None)
        startup.validate_options()

    def test_insecure_warns(self):
        self.cfg.config(group='zvm', insecure=True)
        startup.validate_options()
        self.assertIn('[zvm] insecure = True', self.log.output)
