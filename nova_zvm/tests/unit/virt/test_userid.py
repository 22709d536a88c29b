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

from nova import context
from nova import exception
from nova.objects import instance as instance_obj
from oslo_config import fixture as config_fixture
import testtools

from nova_zvm import conf
from nova_zvm.virt import userid


class UseridTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(conf.CONF))
        self.ctx = context.get_admin_context()

    def _instance(self, instance_id, template):
        self.cfg.config(instance_name_template=template)
        return instance_obj.Instance(self.ctx, id=instance_id)

    def test_upper_cases_the_instance_name(self):
        inst = self._instance(0xabc, 'zvm%05x')
        self.assertEqual('ZVM00ABC', userid.for_instance(inst))

    def test_accepts_the_special_characters(self):
        self.assertEqual('A@#$1', userid.from_name('a@#$1'))

    def test_too_long_name_names_the_template_and_fix(self):
        inst = self._instance(1, 'instance-%08x')
        err = self.assertRaises(exception.InvalidInput,
                                userid.for_instance, inst)
        self.assertIn('instance-00000001', str(err))
        self.assertIn('[DEFAULT] instance_name_template', str(err))
        self.assertIn('z%07x', str(err))

    def test_rejects_bad_characters_and_empty(self):
        for name in ('zvm-0001', 'zvm_01', '', 'ab cd', 'zvmé1', 'abc\n'):
            self.assertFalse(userid.is_valid(name), name)
            self.assertRaises(exception.InvalidInput, userid.from_name, name)

    def test_is_valid_bounds(self):
        self.assertTrue(userid.is_valid('A'))
        self.assertTrue(userid.is_valid('ABCDEFGH'))
        self.assertFalse(userid.is_valid('ABCDEFGHI'))
        self.assertFalse(userid.is_valid(None))
