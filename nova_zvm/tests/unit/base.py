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

"""Tests against the lab: one lab per test class.

A lab takes a second or two to start, so a class shares one; each test
uses its own userids and names, so tests do not see each other's guests.
"""

import logging

import fixtures
import testtools

from nova_zvm.lab import fixture as lab_fixture


class ClassLabTestCase(testtools.TestCase):
    """Starts ``LabFixture(**lab_kwargs)`` for the class as ``cls.lab``."""

    lab_kwargs = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab = lab_fixture.LabFixture(**cls.lab_kwargs)
        cls.lab.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.lab.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        # The lab listens on 127.0.0.1: no proxy may stand in between.
        for var in lab_fixture.PROXY_VARIABLES:
            self.useFixture(fixtures.EnvironmentVariable(var))
        # Keep the driver's logs with the test (shown when it fails)
        # rather than on the runner's stderr, where failure-injection
        # tests flood the output with expected errors.
        self.useFixture(fixtures.FakeLogger(name='nova_zvm',
                                            level=logging.DEBUG))
        if self.lab_is_controllable():
            self.addCleanup(self.lab.zvm.clear_faults)

    def lab_is_controllable(self):
        # A TLS lab is driven from a clean interpreter only (see
        # client.test_lab_transport.TLSTestCase): no control calls to it.
        return not self.lab.ca_file

    def user(self, userid):
        """The fake z/VM's record of a guest (None once it is gone)."""
        return self.lab.zvm.state()['users'].get(userid.upper())
