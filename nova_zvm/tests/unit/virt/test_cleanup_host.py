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

"""nova-compute stops: the driver lets go of the connector.

Found by the soak (nova_zvm/tests/soak): every nova-compute restart left
the old driver's pooled connections open, each holding a socket here and
a connection (and its thread) in the Cloud Connector.
"""

import time

from nova_zvm.tests.unit.virt import driver_base

# Seconds the proxy may take to notice a closed connection (it polls).
NOTICE_TIMEOUT = 10


class CleanupHostTestCase(driver_base.DriverTestCase):

    use_proxy = True

    def open_connections(self):
        """Connections the driver has open through the proxy."""
        return [t for t in self.proxy._threads
                if t.is_alive() and t._target == self.proxy._pump]

    def wait_for_connections(self, count):
        deadline = time.monotonic() + NOTICE_TIMEOUT
        while (len(self.open_connections()) != count and
               time.monotonic() < deadline):
            time.sleep(0.05)
        return len(self.open_connections())

    def test_stop_closes_pooled_connections(self):
        self.driver.get_available_nodes()
        self.driver.list_instance_uuids()
        # Kept alive for the next call, as they should be while running.
        self.assertGreater(len(self.open_connections()), 0)

        self.driver.cleanup_host('compute')

        self.assertEqual(0, self.wait_for_connections(0))

    def test_stop_before_start_does_nothing(self):
        driver = self.new_driver(init=False)
        driver.cleanup_host('compute')
        self.assertIsNone(driver._client)
