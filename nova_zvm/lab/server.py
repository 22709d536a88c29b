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


"""Run the real Cloud Connector (WSGI app + SDKServer) on the fake z/VM.

This runs inside the lab's own process (``python -m nova_zvm.lab``):
zvmsdk keeps its configuration, database handles and server sockets in
module globals, so one process holds exactly one lab.
"""

import collections
import json
import logging
import os
import secrets
import socket
import socketserver
import ssl
import tempfile
import threading
from wsgiref import simple_server

from nova_zvm.lab import compat
from nova_zvm.lab import control
from nova_zvm.lab import http11
from nova_zvm.lab import zvm as fake_zvm

LOG = logging.getLogger('nova_zvm.lab')

ZVMSDK_CONF = """\
[logging]
log_dir = {log_dir}
log_level = {log_level}

[zvm]
user_profile = {user_profile}
disk_pool = {disk_pool}
default_nic_vdev = 1000
user_root_vdev = 0100
namelist = {namelist}

[network]
my_ip = 127.0.0.1

[image]
sdk_image_repository = {images}

[file]
file_repository = {files}

[database]
dir = {db}

[guest]
softstop_timeout = 120
softstop_interval = 1
reachable_timeout = 30

[wsgi]
auth = {auth}
token_path = {token_path}
max_concurrent_deploy_capture = {max_deploy}

[sdkserver]
bind_addr = 127.0.0.1
bind_port = 0
max_worker_count = 64
"""


def state_paths(state_dir):
    """Every path the lab and zvmsdk write to, all under state_dir."""
    p = {
        'state': state_dir,
        'conf_dir': os.path.join(state_dir, 'etc'),
        'log_dir': os.path.join(state_dir, 'log'),
        'db': os.path.join(state_dir, 'db'),
        'images': os.path.join(state_dir, 'images'),
        'files': os.path.join(state_dir, 'files'),
        'sdk_data': os.path.join(state_dir, 'sdk_data') + '/',
        'tmp': os.path.join(state_dir, 'tmp'),
        'spool': os.path.join(state_dir, 'spool'),
        'remote': os.path.join(state_dir, 'remote'),
    }
    p['token_path'] = os.path.join(p['conf_dir'], 'token.dat')
    p['iucv_auth_userid'] = os.path.join(p['conf_dir'],
                                         'iucv_authorized_userid')
    return p


def write_zvmsdk_conf(paths, opts):
    for key in ('conf_dir', 'log_dir', 'db', 'images', 'files', 'sdk_data',
                'tmp', 'spool'):
        os.makedirs(paths[key], exist_ok=True)
    text = ZVMSDK_CONF.format(
        # zvmsdk's own log file always gets INFO; stderr is filtered by
        # the CLI's --log-level.
        log_dir=paths['log_dir'], log_level='INFO',
        user_profile=opts.get('user_profile', 'OSDFLT'),
        # zvmsdk's default pool: TYPE:NAME, without the volume layout.
        disk_pool=':'.join(opts['disk_pools'][0].split(':')[:2]),
        namelist=opts.get('namelist', 'TSTLST'),
        images=paths['images'], files=paths['files'], db=paths['db'],
        auth=opts.get('auth', 'token'), token_path=paths['token_path'],
        max_deploy=opts.get('max_concurrent_deploy_capture', 20))
    conf_file = os.path.join(paths['conf_dir'], 'zvmsdk.conf')
    with open(conf_file, 'w') as f:
        f.write(text)
    return conf_file


def write_admin_token(path):
    """The admin token file, created 0600 from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(secrets.token_urlsafe(32))


def load_zvmsdk(paths):
    """Point zvmsdk's config search at the state dir and load it.

    zvmsdk finds zvmsdk.conf only through a fixed list of directories
    (its package dir, /etc/zvmsdk, /etc, ~); there is no environment
    variable. Narrowing that list to our state dir keeps a stray
    /etc/zvmsdk/zvmsdk.conf from being picked up, and must happen before
    any other zvmsdk module is imported, since they bind CONF at import.
    """
    from zvmsdk import config
    config.CONFOPTS._get_config_dirs = lambda: [paths['conf_dir']]
    config.load_config()
    from zvmsdk import log
    log.setup_log()
    return config.CONF


class QuietHandler(http11.KeepAliveMixin, simple_server.WSGIRequestHandler):
    def setup(self):
        # TLS handshakes run here, in the request's thread, not in the
        # accept loop (the listening socket skips them on accept).
        if hasattr(self.request, 'do_handshake'):
            self.request.settimeout(30)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):
        LOG.debug('%s %s', self.address_string(), fmt % args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Lab(object):
    """One lab: fake z/VM + zvmsdk's SDKServer + its WSGI app."""

    def __init__(self, state_dir, host='127.0.0.1', port=0, auth='token',
                 tls=False, latency=None, disk_pools=None, vswitches=None,
                 user_profile='OSDFLT', log_level='INFO', settings=None,
                 members=1, member_of=None, member_name=None):
        # SSI (ssi.py, member.py): this process owns a cluster of
        # ``members``, or is member ``member_name`` of the lab whose
        # control API is ``member_of``.
        self.members = int(members)
        self.member_of = member_of
        self.member_name = member_name
        self.cluster = None
        self.member_procs = None
        self.paths = state_paths(os.path.abspath(state_dir))
        self.host = host
        self.port = port
        self.auth = auth
        self.tls = tls
        self.disk_pools = list(disk_pools or ['ECKD:POOL1'])
        names = ['VSW1'] + [v for v in (vswitches or [])
                            if v.upper() != 'VSW1']
        self.zvm = fake_zvm.FakeZVM(disk_pools=self.disk_pools,
                                    vswitches=names,
                                    user_profile=user_profile,
                                    latency=latency, settings=settings)
        self.opts = {'auth': auth, 'disk_pools': self.disk_pools,
                     'user_profile': user_profile, 'log_level': log_level}
        self.token_file = None
        self.cert_file = None
        self.httpd = None
        self.control_httpd = None
        self.sdkserver = None
        self.rest_calls = collections.deque(maxlen=fake_zvm.MAX_CALLS)
        self.rest_lock = threading.Lock()

    def start(self):
        p = self.paths
        write_zvmsdk_conf(p, self.opts)
        if self.auth == 'token':
            write_admin_token(p['token_path'])
            self.token_file = p['token_path']
        # zvmsdk makes temp dirs with tempfile (config drive copies, image
        # staging): keep them in the state dir too.
        os.environ['TMPDIR'] = p['tmp']
        tempfile.tempdir = p['tmp']
        self.zvm.spool_dir = p['spool']
        # No zvmsdk import yet: the lab's emulation does not need it.
        dispatcher, files_zvm = self._dispatcher()
        if self.cluster is not None:
            # The other members' connectors start (and reach this fake
            # z/VM over the control API) while this one loads.
            self._start_control(control.ControlApp(self))
            self._spawn_members()
        conf = load_zvmsdk(p)
        from nova_zvm.lab import boundary
        boundary.install(dispatcher, files_zvm, p)
        compat.install()
        self._start_sdkserver(conf)
        self._start_wsgi()
        if self.cluster is not None:
            self._wait_members()

    def _dispatcher(self):
        from nova_zvm.lab import boundary
        if self.member_of:
            from nova_zvm.lab import member
            return (member.RemoteDispatcher(self.member_of, self.member_name),
                    member.RemoteHost(self.member_of, self.member_name))
        from nova_zvm.lab import fcp
        from nova_zvm.lab import scsi
        from nova_zvm.lab import stats
        from nova_zvm.lab import storage
        # FCP devices and the SAN behind them (issue 12).
        self.zvm.storage = storage.StorageArray()
        self.zvm.fcps = fcp.default_devices(1)
        if self.members > 1:
            from nova_zvm.lab import ssi
            self.cluster = ssi.Cluster(self.zvm, self.members)
            return (self.cluster.dispatcher(self.cluster.first.name,
                                            self.paths), self.zvm)
        dispatcher = boundary.Dispatcher(self.zvm, self.paths)
        fcp.install(dispatcher)
        scsi.install(dispatcher, self.zvm.storage)
        stats.install(dispatcher)
        return dispatcher, self.zvm

    def _other_members(self):
        return sorted((m for m in self.cluster.members.values()
                       if m is not self.cluster.first), key=lambda m: m.slot)

    def _spawn_members(self):
        from nova_zvm.lab import member
        self.member_procs = member.MemberProcesses(self)
        self.member_procs.spawn(self._other_members(), 'http://127.0.0.1:%d'
                                % self.control_httpd.server_address[1])

    def _wait_members(self):
        self.cluster.first.info = {
            'url': self.url, 'token_file': self.token_file,
            'ca_file': self.cert_file, 'state_dir': self.paths['state'],
            'pid': os.getpid()}
        self.member_procs.wait(self._other_members())

    def control_route(self, method, parts, data):
        """Member, storage, FCP and SSI control calls (None: not one)."""
        from nova_zvm.lab import member
        found = member.instrument_route(self, method, parts, data)
        if found is None:
            found = member.volume_route(self, method, parts, data)
        if found is None and self.cluster is not None:
            found = member.control_route(self, method, parts, data)
        return found

    def stop_member_connector(self, member):
        """A failed member's connector stops answering."""
        if member is self.cluster.first:
            if self.httpd is not None:
                self.httpd.shutdown()
                self.httpd.server_close()
                self.httpd = None
        else:
            self.member_procs.stop(member.name)

    def _start_sdkserver(self, conf):
        from zvmsdk import sdkserver
        server = sdkserver.SDKServer()
        # Bind SDKServer ourselves on a free port (its own setup binds
        # CONF's fixed port and calls sys.exit on failure), then tell the
        # WSGI handlers where it is: they read CONF when they connect.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', 0))
        sock.listen(128)
        server.server_socket = sock
        compat.read_whole_requests(server)
        conf.sdkserver.bind_port = sock.getsockname()[1]
        self.sdkserver = server
        t = threading.Thread(target=self._run_sdkserver, name='sdkserver',
                             daemon=True)
        t.start()

    def _run_sdkserver(self):
        try:
            self.sdkserver.run()
        except OSError:
            # The socket was closed by stop().
            pass

    def _start_wsgi(self):
        zvmsdk_app = compat.build_app()
        control_app = control.ControlApp(self)

        def app(environ, start_response):
            path = environ.get('PATH_INFO', '')
            if path.startswith(control.PREFIX):
                return control_app(environ, start_response)
            with self.rest_lock:
                self.rest_calls.append('%s %s' % (environ['REQUEST_METHOD'],
                                                  path))
            return zvmsdk_app(environ, start_response)

        httpd = simple_server.make_server(
            self.host, self.port, app, server_class=ThreadingWSGIServer,
            handler_class=QuietHandler)
        if self.tls:
            # cryptography is slow to import: only when TLS is asked for.
            from nova_zvm.lab import certs
            self.cert_file, key_file = certs.make_cert(self.paths['state'])
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert_file, key_file)
            httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True,
                                           do_handshake_on_connect=False)
        self.httpd = httpd
        self.port = httpd.server_address[1]
        t = threading.Thread(target=httpd.serve_forever, name='wsgi',
                             daemon=True)
        t.start()
        self._start_control(control_app)

    def _start_control(self, control_app):
        """The control API on a plain-HTTP loopback port of its own.

        Also served under /_lab/ on the main port; this one never needs
        TLS, so a test process whose ssl module eventlet has patched (TLS
        clients recurse there) can still steer a TLS lab.
        """
        if self.control_httpd is not None:
            # An SSI lab starts it early, for its members.
            return
        httpd = simple_server.make_server(
            '127.0.0.1', 0, control_app, server_class=ThreadingWSGIServer,
            handler_class=QuietHandler)
        self.control_httpd = httpd
        t = threading.Thread(target=httpd.serve_forever, name='control',
                             daemon=True)
        t.start()

    @property
    def url(self):
        return '%s://%s:%d' % ('https' if self.tls else 'http', self.host,
                               self.port)

    def info(self):
        return {'url': self.url, 'token_file': self.token_file,
                'ca_file': self.cert_file, 'state_dir': self.paths['state'],
                'control_url': 'http://127.0.0.1:%d' % (
                    self.control_httpd.server_address[1]),
                'pid': os.getpid()}

    def ssi_info(self):
        """info() plus, in an SSI lab, each member's connector."""
        info = self.info()
        if self.cluster is not None:
            info['members'] = [
                dict(m.info or {}, name=m.name) for m in sorted(
                    self.cluster.members.values(), key=lambda m: m.slot)]
        return info

    def stop(self):
        if self.member_procs is not None:
            self.member_procs.stop()
        for httpd in (self.httpd, self.control_httpd):
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
        if self.sdkserver is not None and self.sdkserver.server_socket:
            self.sdkserver.server_socket.close()

    def ready_line(self):
        return 'NOVA_ZVM_LAB_READY ' + json.dumps(self.ssi_info())
