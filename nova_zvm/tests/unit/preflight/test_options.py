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

"""The option checks' arithmetic: where a template overflows, what is left.

``test_startup`` covers the messages the driver's start-up raises; the
lab tests of ``nova-zvm-status`` cover the rest end to end.
"""

from oslo_config import fixture as config_fixture
import testtools

from nova_zvm import conf
from nova_zvm import preflight
from nova_zvm.preflight import options


class NameTemplateTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(conf.CONF))

    def template(self, value):
        self.cfg.config(instance_name_template=value)

    def test_first_invalid_id(self):
        for template, overflow in (('zvm%05x', 0x100000),
                                   ('z%07d', 10 ** 7),
                                   ('os%06X', 0x1000000),
                                   ('%08x', 0x100000000)):
            self.template(template)
            expected = overflow if overflow <= options.MAX_INSTANCE_ID \
                else None
            self.assertEqual(expected, options.first_invalid_id(), template)

    def test_instance_id_of_a_userid(self):
        self.template('zvm%05x')
        self.assertEqual(0x1a, options.instance_id_of('ZVM0001A'))
        self.assertIsNone(options.instance_id_of('OPNCLOUD'))
        # Read back only if the template gives exactly that name.
        self.assertIsNone(options.instance_id_of('ZVM1A'))

        self.template('z%07d')
        self.assertEqual(42, options.instance_id_of('Z0000042'))
        self.assertIsNone(options.instance_id_of('Z000004A'))

    def test_templates_that_cannot_be_read_back(self):
        self.template('%(uuid).8s')
        self.assertIsNone(options.instance_id_of('00000000'))

    def test_ids_left_after_the_guests(self):
        self.template('z%07x')

        result = options.name_template(['Z0000010', 'Z0000200', 'LINUX1'])

        self.assertEqual(preflight.Code.SUCCESS, result.code)
        self.assertIn('highest instance id among this z/VM\'s guests is '
                      '0x200, so %d more instances fit'
                      % (0xfffffff - 0x200), result.details)

    def test_overflow_within_a_cloud_s_life_warns(self):
        self.template('zvm%05x')

        result = options.name_template(['ZVM00010'])

        self.assertEqual(preflight.Code.WARNING, result.code)
        self.assertIn('A long-lived cloud reaches instance id 0x100000',
                      result.details)
        self.assertIn("'z%07x'", result.details)

    def test_few_ids_left(self):
        self.template('zvm%05x')

        result = options.name_template(['ZVMF0000'])

        self.assertEqual(preflight.Code.WARNING, result.code)
        self.assertIn('%d more instances fit' % 0xffff, result.details)

    def test_template_without_limit(self):
        self.template('%08x')

        result = options.name_template([])

        self.assertEqual(preflight.Code.SUCCESS, result.code)
        self.assertIn('for every instance id', result.details)


class ConsistencyTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(conf.CONF))

    def test_defaults_are_consistent(self):
        result = options.consistency()
        self.assertEqual(preflight.Code.SUCCESS, result.code)

    def test_power_cache_outlives_the_sync(self):
        self.cfg.config(sync_power_state_interval=10)
        self.cfg.config(group='zvm', power_state_cache_ttl=15)

        result = options.consistency()

        self.assertEqual(preflight.Code.WARNING, result.code)
        self.assertIn('lower power_state_cache_ttl', result.details)

    def test_unlimited_builds(self):
        self.cfg.config(max_concurrent_builds=0)
        result = options.consistency()
        self.assertIn('unlimited concurrent builds', result.details)
