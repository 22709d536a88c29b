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

"""The demo's clouds in this process, hosted by nova's test machinery.

Nova ships the machinery that runs its API, conductor, scheduler, placement
and nova-compute services in one process (sqlite, in-memory messaging, an
intercepted HTTP endpoint); the functional tests already configure it for
ZVMDriver on a lab. The demo reuses exactly that: a cloud lives for the
duration of one "test" whose body is one part of the demo's scenario.
"""

import logging
import traceback
import unittest

# Its package applies nova's concurrency mode before anything loads
# requests; what is imported above does not.
from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import ssi_base


class _DemoCloud(object):
    """Runs ``scenario(cloud, progress)`` as the body of its one "test".

    Unlike the tests, API casts stay asynchronous (as in a real cloud), so
    servers build concurrently and a client waits for their status.
    """

    CAST_AS_CALL = False
    #: What starting the lab and nova's services look like to the reader.
    LAB_TITLE = ''
    NOVA_TITLE = ''

    def __init__(self, scenario, progress):
        super().__init__('run_scenario')
        self._scenario = scenario
        self._progress = progress

    def setUp(self):
        # Runs last: logging as it was.
        self.addCleanup(logging.disable, logging.NOTSET)
        self._progress.begin(self.NOVA_TITLE)
        try:
            super().setUp()
        except BaseException as err:
            self._progress.fail(err)
            raise
        self._progress.end()
        # Runs first: the services' shutdown chatter outlives nova's log
        # capture; only warnings and errors still reach the terminal.
        self.addCleanup(logging.disable, logging.INFO)

    def run_scenario(self):
        self._scenario(self, self._progress)

    @classmethod
    def lab_details(cls):
        return ['listening on %s' % cls.lab.url]


class AllInOneCloud(_DemoCloud, base.ZVMTestCase):
    """nova with ZVMDriver on a lab: one z/VM, one nova-compute."""

    LAB_TITLE = 'Start the lab: Cloud Connector, fake z/VM'
    NOVA_TITLE = 'Start nova: API, conductor, scheduler, placement, compute'


class SSICloud(_DemoCloud, ssi_base.SSITestCase):
    """nova on a two-member SSI lab: one nova-compute per member."""

    LAB_TITLE = ('Start a two-member SSI lab: a Cloud Connector per '
                 'member')
    NOVA_TITLE = ('Start nova: API, conductor, scheduler, placement, '
                  'compute1 and compute2')

    def _configure_driver(self):
        super()._configure_driver()
        # A z/VM NIC moves with its guest; no network-vif-plugged event
        # comes on the destination (doc/source/ssi.rst).
        self.flags(live_migration_wait_for_vif_plug=False, group='compute')

    @classmethod
    def lab_details(cls):
        return ['%s listening on %s' % (member['name'], member['url'])
                for member in cls.lab.member_connectors]


def run(progress, scenario, cloud=AllInOneCloud):
    """Start a lab and nova, run ``scenario(cloud, progress)``, tear down.

    :param cloud: the cloud's class: :class:`AllInOneCloud` or
        :class:`SSICloud`
    :returns: the list of ``(what, traceback text)`` that went wrong
    """
    try:
        with progress.step(cloud.LAB_TITLE) as details:
            cloud.setUpClass()
            details.extend(cloud.lab_details())
    except Exception:
        return [('starting the lab', traceback.format_exc())]
    try:
        result = unittest.TestResult()
        cloud(scenario, progress).run(result)
    finally:
        cloud.tearDownClass()
    return [(str(case), text) for case, text in result.errors +
            result.failures]
