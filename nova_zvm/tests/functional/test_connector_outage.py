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

"""The Cloud Connector goes away under a running nova-compute, and returns."""

from nova.compute import power_state

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures


class ConnectorOutageTest(base.ZVMTestCase):
    # As in a real cloud, a failure on nova-compute does not travel back
    # to the API request that cast it.
    CAST_AS_CALL = False
    # Over TLS, verified: the pooled connections the outage drops are TLS
    # sessions the driver's client must set up again.
    LAB_OPTIONS = {'tls': True}

    def connector_url(self):
        # The driver talks to the lab through a relay the test can cut.
        self.relay = self.useFixture(
            zvm_fixtures.ConnectorRelay(self.lab.url))
        return self.relay.url

    def run_periodic_tasks(self):
        """Nova-compute's periodic work, as its periodic task runner does it.

        The runner logs a task's exception and goes on; the errors are
        returned so the test can tell a failing task from a dead service.
        """
        errors = []
        for task in (self._run_periodics, self.sync_power_states):
            try:
                task()
            except Exception as err:
                errors.append(err)
        return errors

    def test_outage_and_recovery(self):
        server = self.boot_server()
        self.assertEqual([], self.run_periodic_tasks())

        self.relay.down()

        # Nova-compute lives through its periodic tasks, and does not
        # mistake an unreachable connector for a guest that stopped.
        self.run_periodic_tasks()
        server = self._show_server(server)
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        self.assertEqual('on', self.zvm_guest(server)['power'])
        # A request that needs the connector fails cleanly: the server is
        # not left half-stopped in a task state.
        self.api.post_server_action(server['id'], {'os-stop': None})
        server = self._wait_for_server_parameter(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None},
            max_retries=40)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        self.assert_last_action_failed(server, 'stop')
        service = self.admin_api.get_services(
            binary='nova-compute', host=base.COMPUTE_HOST)[0]
        self.assertEqual('up', service['state'])

        self.relay.up()

        # Back to normal without a restart.
        self.assertEqual([], self.run_periodic_tasks())
        self.assert_usage_of(server['flavor'])
        server = self._stop_server(server)
        self.assertEqual('off', self.zvm_guest(server)['power'])
        server = self._start_server(server)
        self.assertEqual('on', self.zvm_guest(server)['power'])
        self.delete_server(server)
        self.assertIsNone(self.zvm_guest(server))

    def assert_last_action_failed(self, server, action):
        """Nova recorded the failure of the server's last ``action``."""
        last = max((each for each in self.api.get_instance_actions(
            server['id']) if each['action'] == action),
            key=lambda each: each['start_time'])
        events = self.api.get_instance_action_details(
            server['id'], last['request_id'])['events']
        self.assertEqual(['Error'], [event['result'] for event in events])
