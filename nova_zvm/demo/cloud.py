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

"""An all-in-one cloud in this process, hosted by nova's test machinery.

Nova ships the machinery that runs its API, conductor, scheduler, placement
and a nova-compute in one process (sqlite, in-memory messaging, an
intercepted HTTP endpoint); the functional tests already configure it for
ZVMDriver on a lab. The demo reuses exactly that: the cloud lives for the
duration of one "test" whose body is the demo's scenario.
"""

import logging
import traceback
import unittest

# Its package applies nova's concurrency mode before anything loads
# requests; what is imported above does not.
from nova_zvm.tests.functional import base


class AllInOneCloud(base.ZVMTestCase):
    """nova with ZVMDriver on a lab; runs ``scenario(cloud, progress)``.

    Unlike the tests, API casts stay asynchronous (as in a real cloud), so
    servers build concurrently and a client waits for their status.
    """

    CAST_AS_CALL = False

    def __init__(self, scenario, progress):
        super().__init__('run_scenario')
        self._scenario = scenario
        self._progress = progress

    def setUp(self):
        # Runs last: logging as it was.
        self.addCleanup(logging.disable, logging.NOTSET)
        self._progress.begin('Start nova: API, conductor, scheduler, '
                             'placement, compute')
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


def run(progress, scenario):
    """Start the lab and nova, run ``scenario(cloud, progress)``, tear down.

    :returns: the list of ``(what, traceback text)`` that went wrong
    """
    try:
        with progress.step('Start the lab: Cloud Connector, fake z/VM') \
                as details:
            AllInOneCloud.setUpClass()
            details.append('listening on %s' % AllInOneCloud.lab.url)
    except Exception:
        return [('starting the lab', traceback.format_exc())]
    try:
        result = unittest.TestResult()
        AllInOneCloud(scenario, progress).run(result)
    finally:
        AllInOneCloud.tearDownClass()
    return [(str(case), text) for case, text in result.errors +
            result.failures]
