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

"""A real neutron-server on 127.0.0.1 for the functional tests.

``NeutronServerFixture`` (used in nova's test process) writes a
neutron.conf (sqlite, noauth, ML2 with the flat and VLAN type drivers and
only the ``zvm`` mechanism driver, no agents, no notifications to nova)
and starts ``python -m nova_zvm.tests.neutron_server`` in its own process:
neutron selects oslo.service's threading backend and imports eventlet,
neither of which may happen in a nova test process. That process builds
the schema from neutron's models and serves neutron's WSGI API (neutron 29
has no ``neutron-server`` command: production runs it under uWSGI) with
the standard library's threaded WSGI server.

This module imports neither nova nor neutron at module level.
"""

import importlib.metadata
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from wsgiref import simple_server

import fixtures
import requests

from nova_zvm.lab import readiness

START_TIMEOUT = 120.0
READY = 'NOVA_ZVM_NEUTRON_READY '
REQUEST_TIMEOUT = 30.0

NEUTRON_CONF = """\
[DEFAULT]
core_plugin = ml2
service_plugins =
auth_strategy = noauth
state_path = {state}
rpc_workers = 0
rpc_state_report_workers = 0
transport_url = fake:/
# No agent and no nova endpoint: nothing to notify.
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
log_file = {state}/neutron.log
use_stderr = false
debug = {debug}

[database]
connection = sqlite:///{state}/neutron.sqlite

[oslo_concurrency]
lock_path = {state}/lock

[oslo_messaging_notifications]
driver = noop

[oslo_policy]
policy_file = {state}/policy.yaml

[ml2]
type_drivers = flat,vlan
project_network_types =
mechanism_drivers = zvm
extension_drivers = port_security

[ml2_type_flat]
flat_networks = {flat_networks}

[ml2_type_vlan]
network_vlan_ranges = {vlan_ranges}

[ml2_zvm]
hosts = {hosts}
physical_networks = {physnets}
"""


class NeutronServerError(Exception):
    pass


class NeutronServerFixture(fixtures.Fixture):
    """neutron-server with the zvm mechanism driver, on 127.0.0.1.

    Attributes once set up: ``url`` (the API endpoint, e.g.
    ``http://127.0.0.1:PORT``), ``state_dir``, ``log_file``, ``session``
    (a ``requests`` session for the test's own admin calls).
    """

    def __init__(self, hosts, flat_networks, vlan_ranges,
                 zvm_physical_networks=None, debug=False):
        """Configure the server; nothing starts before setUp.

        ``zvm_physical_networks``: ``[ml2_zvm] physical_networks``
        (default: every physical network of ``flat_networks`` and
        ``vlan_ranges``).
        """
        super().__init__()
        self.hosts = list(hosts)
        self.flat_networks = list(flat_networks)
        self.vlan_ranges = list(vlan_ranges)
        self.zvm_physical_networks = zvm_physical_networks
        self.debug = debug
        self.process = None

    def _setUp(self):
        self.state_dir = tempfile.mkdtemp(prefix='nova-zvm-neutron-')
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.log_file = os.path.join(self.state_dir, 'neutron.log')
        conf = os.path.join(self.state_dir, 'neutron.conf')
        physnets = self.zvm_physical_networks or sorted(
            set(self.flat_networks) | {r.split(':')[0]
                                       for r in self.vlan_ranges})
        with open(conf, 'w') as f:
            f.write(NEUTRON_CONF.format(
                state=self.state_dir, debug=self.debug,
                flat_networks=','.join(self.flat_networks),
                vlan_ranges=','.join(self.vlan_ranges),
                hosts=','.join(self.hosts), physnets=','.join(physnets)))
        shutil.copy(installed_api_paste_ini(), self.state_dir)
        # noauth makes a request admin only when it names no project, and
        # nova's requests on behalf of a user name one; nova's unbind
        # needs the service role (binding:profile). In production nova's
        # [neutron] user has both; here every caller does.
        with open(os.path.join(self.state_dir, 'policy.yaml'), 'w') as f:
            f.write('"context_is_admin": "@"\n"service_api": "@"\n')
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ('http_proxy', 'https_proxy',
                                    'all_proxy', 'no_proxy')}
        stderr = open(os.path.join(self.state_dir, 'stderr.log'), 'ab')
        self.addCleanup(stderr.close)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'nova_zvm.tests.neutron_server', conf],
            stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
            env=env, cwd=self.state_dir)
        self.addCleanup(self._stop)
        port = self._wait_ready()
        self.url = 'http://127.0.0.1:%d' % port
        self.session = requests.Session()
        self.session.trust_env = False
        self.addCleanup(self.session.close)

    def _wait_ready(self):
        port = readiness.ready_line(self.process, READY, START_TIMEOUT)
        if port is not None:
            return int(port)
        raise NeutronServerError(
            'neutron-server did not start (exit code %s); see %s:\n%s' % (
                self.process.poll(), self.state_dir, self._log_tail()))

    def _log_tail(self):
        tail = ''
        for name in ('stderr.log', 'neutron.log'):
            try:
                with open(os.path.join(self.state_dir, name), 'rb') as f:
                    tail += f.read()[-3000:].decode(errors='replace')
            except OSError:
                pass
        return tail

    def _stop(self):
        readiness.stop(self.process)

    # The test's own admin calls (noauth: every request is admin).

    def call(self, method, path, body=None, expected=(200, 201, 204)):
        r = self.session.request(method, self.url + '/v2.0/' + path,
                                 json=body, timeout=REQUEST_TIMEOUT)
        if r.status_code not in expected:
            raise NeutronServerError('neutron %s %s: %s %s' % (
                method, path, r.status_code, r.text))
        return r.json() if r.content else None

    def create(self, resource, **attrs):
        return self.call('POST', resource + 's', {resource: attrs})[resource]

    def show(self, resource, resource_id):
        return self.call('GET', '%ss/%s' % (resource, resource_id))[resource]


def installed_api_paste_ini():
    for entry in importlib.metadata.distribution('neutron').files or ():
        if entry.name == 'api-paste.ini':
            return os.path.realpath(entry.locate())
    raise NeutronServerError('the installed neutron has no api-paste.ini')


# -- in the neutron-server process ------------------------------------------

class _ThreadingWSGIServer(socketserver.ThreadingMixIn,
                           simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _exit_with_parent():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _create_schema(conf_file):
    from neutron.db.migration.models import head
    from oslo_config import cfg
    import sqlalchemy

    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt('connection'), group='database')
    conf(['--config-file', conf_file], project='neutron')
    engine = sqlalchemy.create_engine(conf.database.connection)
    head.get_metadata().create_all(engine)
    engine.dispose()


def main():
    conf_file = os.path.abspath(sys.argv[1])
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    _create_schema(conf_file)
    os.environ['OS_NEUTRON_CONFIG_DIR'] = os.path.dirname(conf_file)
    os.environ['OS_NEUTRON_CONFIG_FILES'] = os.path.basename(conf_file)
    sys.argv = ['neutron-api']
    from neutron.wsgi import api

    server = simple_server.make_server(
        '127.0.0.1', 0, api.application, server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler)
    print(READY + str(server.server_port), flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
