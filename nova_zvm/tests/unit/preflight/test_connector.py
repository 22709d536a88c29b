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

"""Connector checks whose other outcomes the lab cannot show.

The lab's connector runs without a monitor cache, in no SSI cluster and
with no FCP devices; these answers come from requests-mock, in the
connector's envelope.
"""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import requests

from nova_zvm import conf
from nova_zvm import preflight
from nova_zvm.preflight import connector
from nova_zvm.tests.unit.client import base

CONF = conf.CONF
TEMPLATE_ID = '36439338-db14-11ec-bb41-0201018b1dd2'


class ProbeTestCase(base.MockedConnectorTestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(CONF))
        self.cfg.config(group='zvm', cloud_connector_url=base.URL,
                        token_file=self.token_file)
        self.answer('GET', '/', {'version': '1.6.3', 'api_version': '1.0',
                                 'min_version': '1.0', 'max_version': '1.0'})
        self.answer('GET', '/host', {'zvm_host': 'ZVMB'})
        self.probe = connector.Probe(CONF)
        self.addCleanup(self.probe.close)

    def answer(self, method, path, output, **kwargs):
        self.mock.register_uri(method, base.URL + path,
                               json=base.envelope(output), **kwargs)


class ConnectorChecksTestCase(ProbeTestCase):

    def test_monitor_cache_shows_a_stopped_guest_as_running(self):
        self.answer('GET', '/guests', ['ZVM00001', 'ZVM00002'])
        # The monitor (cached) says both run; CP says one is off.
        self.answer('GET', '/guests/stats', {'ZVM00001': {}, 'ZVM00002': {}})
        self.answer('GET', '/guests/ZVM00001/power_state', 'on')
        self.answer('GET', '/guests/ZVM00002/power_state', 'off')

        result = connector.monitor_cache(self.probe)

        self.assertEqual(preflight.Code.WARNING, result.code)
        self.assertIn('disagrees with CP about the power of ZVM00002 (off)',
                      result.details)
        self.assertIn('[monitor] cache_interval', result.details)

    def test_ssi_member(self):
        self.answer('GET', '/host/ssi', [
            'ssi_name = SSI1', 'ssi_mode = Stable', 'ssi_pdr = X',
            'member_slot = 1', 'member_system_id = ZVMA',
            'member_slot = 2', 'member_system_id = ZVMB'])

        result = connector.ssi(self.probe)

        self.assertEqual(preflight.Code.SUCCESS, result.code)
        self.assertEqual('z/VM system ZVMB is a member of SSI cluster SSI1 '
                         '(mode Stable; members: ZVMA, ZVMB)', result.details)

    def test_ssi_not_stable(self):
        self.answer('GET', '/host/ssi', ['ssi_name = SSI1',
                                         'ssi_mode = Safe',
                                         'member_system_id = ZVMB'])

        result = connector.ssi(self.probe)

        self.assertEqual(preflight.Code.WARNING, result.code)
        self.assertIn('mode Safe', result.details)
        self.assertIn('cannot be relocated', result.details)

    def test_api_version_not_supported(self):
        self.mock.register_uri('GET', base.URL + '/', json=base.envelope(
            {'version': '2.0.0', 'api_version': '2.0',
             'min_version': '2.0', 'max_version': '2.1'}))

        result = connector.connection(self.probe)

        self.assertEqual(preflight.Code.FAILURE, result.code)
        self.assertIn('does not include API 1.0', result.details)

    def test_full_disk_pool(self):
        self.cfg.config(group='zvm', disk_pool='ECKD:POOL1')
        self.answer('GET', '/host/diskpool', {'disk_total': 100,
                                              'disk_used': 100,
                                              'disk_available': 0})
        result = connector.disk_pool(self.probe)
        self.assertEqual(preflight.Code.FAILURE, result.code)
        self.assertIn('0 of 100 GB free', result.details)

    def test_nearly_full_disk_pool(self):
        self.answer('GET', '/host/diskpool', {'disk_total': 100,
                                              'disk_used': 95,
                                              'disk_available': 5})
        result = connector.disk_pool(self.probe)
        self.assertEqual(preflight.Code.WARNING, result.code)
        self.assertIn("the connector's default disk pool", result.details)

    def test_a_call_that_times_out_ends_the_connector_checks(self):
        self.mock.register_uri('GET', base.URL + '/host/diskpool',
                               exc=requests.exceptions.ReadTimeout)
        self.answer('GET', '/vswitches/VSW1', {})
        self.cfg.config(group='zvm', vswitch_mappings={'physnet1': 'VSW1'})

        pool = connector.disk_pool(self.probe)
        vswitches = connector.vswitches(self.probe)

        self.assertEqual(preflight.Code.FAILURE, pool.code)
        self.assertIn('no answer within', pool.details)
        self.assertEqual(preflight.Code.FAILURE, vswitches.code)
        self.assertIn('not checked', vswitches.details)
        # The vswitch was not asked for: no second wait for a timeout.
        self.assertEqual([], [r for r in self.mock.request_history
                              if r.path.startswith('/vswitches')])


class FCPTemplateTestCase(ProbeTestCase):
    """With ``[zvm] fcp_template`` set (the FCP volume support's option)."""

    def setUp(self):
        super().setUp()
        try:
            CONF.zvm.fcp_template
        except cfg.NoSuchOptError:
            opt = cfg.StrOpt('fcp_template')
            CONF.register_opt(opt, group='zvm')
            self.addCleanup(CONF.unregister_opt, opt, group='zvm')
        self.cfg.config(group='zvm', fcp_template=TEMPLATE_ID)

    def templates(self, *available):
        statistics = {str(path): {'total': '1A00 - 1A0F',
                                  'available': text}
                      for path, text in enumerate(available)}
        self.answer('GET', '/volumes/fcptemplates/detail', {
            'fcp_templates': [{'id': TEMPLATE_ID, 'name': 'prod',
                               'min_fcp_paths_count': len(available),
                               'statistics': statistics}]})

    def test_free_fcps_on_every_path(self):
        self.templates('1A00 - 1A0F', '1B00 - 1B03, 1B08')

        result = connector.fcp_templates(self.probe)

        self.assertEqual(preflight.Code.SUCCESS, result.code)
        self.assertIn('free FCP devices per path: 0: 16, 1: 5',
                      result.details)

    def test_a_path_without_free_fcps(self):
        self.templates('1A00 - 1A0F', '')

        result = connector.fcp_templates(self.probe)

        self.assertEqual(preflight.Code.FAILURE, result.code)
        self.assertIn('0: 16, 1: 0', result.details)
        self.assertIn('add FCP devices to the template', result.details)

    def test_unknown_template(self):
        self.cfg.config(group='zvm', fcp_template='other')
        self.templates('1A00')

        result = connector.fcp_templates(self.probe)

        self.assertEqual(preflight.Code.FAILURE, result.code)
        self.assertIn('[zvm] fcp_template = other does not exist',
                      result.details)
        self.assertIn('prod (%s)' % TEMPLATE_ID, result.details)
