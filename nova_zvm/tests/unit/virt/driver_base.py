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

"""Plumbing for the driver facade's tests: a lab, a ZVMDriver, guests.

One lab per test class; every test uses its own instance ids (so its own
userids). Guests are made cheaply with the client's ``guest_create`` (no
image, no deploy): power, state and resources need nothing more.
"""

import itertools
import logging
import os
import select
import shutil
import socket
import tempfile
import threading

import fixtures
from nova import context as nova_context
from nova import objects
from nova.virt import virtapi
from oslo_config import fixture as config_fixture
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova_zvm.client import ZVMClient
from nova_zvm import conf
from nova_zvm.tests.unit import base as unit_base
from nova_zvm.virt import driver as zvm_driver

CONF = conf.CONF
objects.register_all()
NAME_TEMPLATE = 'zf%05x'
DISK_POOL = 'ECKD:POOL1'

_ids = itertools.count(1)


def next_instance_id():
    return next(_ids)


class SwitchableProxy(object):
    """A TCP forwarder to the lab that can go down and come back.

    Down, the port refuses connections and open ones are cut, as when the
    connector's host or process is gone. Each socket is closed by the
    thread that waits on it (safe under eventlet too, where closing a
    socket another green thread waits on breaks the hub).
    """

    POLL = 0.05

    def __init__(self, target_host, target_port):
        self._target = (target_host, target_port)
        self._stop = threading.Event()
        self._threads = []
        self.port = None
        self.up()

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def up(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', self.port or 0))
        sock.listen(64)
        sock.settimeout(self.POLL)
        self.port = sock.getsockname()[1]
        self._stop = threading.Event()
        self._start(self._accept, sock, self._stop)

    def down(self):
        """Close the port and cut every connection; return when done."""
        self._stop.set()
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(10)

    def _start(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener, stop):
        try:
            while not stop.is_set():
                try:
                    client, _addr = listener.accept()
                except socket.timeout:
                    continue
                try:
                    upstream = socket.create_connection(self._target,
                                                        timeout=10)
                except OSError:
                    client.close()
                    continue
                self._start(self._pump, client, upstream, stop)
        finally:
            listener.close()

    def _pump(self, a, b, stop):
        socks = [a, b]
        try:
            while not stop.is_set():
                readable, _, _ = select.select(socks, [], [], self.POLL)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in socks:
                try:
                    sock.close()
                except OSError:
                    pass


class DriverTestCase(unit_base.ClassLabTestCase):
    """A lab for the class; CONF, a client and an initialised driver."""

    # Through a SwitchableProxy, so that a test can take the connector away.
    use_proxy = False

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='nova_zvm', level=logging.DEBUG))
        self.tmp = tempfile.mkdtemp(prefix='nova-zvm-driver-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.url = self.lab.url
        if self.use_proxy:
            host, port = self.lab.url.split('//', 1)[1].split(':')
            self.proxy = SwitchableProxy(host, int(port))
            self.addCleanup(self.proxy.down)
            self.url = self.proxy.url
        self.cfg = self.useFixture(config_fixture.Config(CONF))
        self.cfg.config(instances_path=os.path.join(self.tmp, 'instances'),
                        instance_name_template=NAME_TEMPLATE,
                        my_ip='192.0.2.10')
        self.cfg.config(group='zvm', cloud_connector_url=self.url,
                        token_file=self.lab.token_file,
                        ca_file=self.lab.ca_file, disk_pool=DISK_POOL,
                        max_retries=0, connect_timeout=5, read_timeout=60)
        # The test's own view of the connector, for arranging guests.
        self.client = ZVMClient(self.lab.url, token_file=self.lab.token_file,
                                ca_file=self.lab.ca_file, max_retries=0)
        self.addCleanup(self.client.close)
        self.context = nova_context.get_admin_context()
        self.driver = self.new_driver()

    def new_driver(self, init=True):
        """A driver as nova-compute builds it (a restart makes a new one)."""
        drv = zvm_driver.ZVMDriver(virtapi.VirtAPI())
        if init:
            drv.init_host('compute')
            self.addCleanup(self._close, drv)
        return drv

    @staticmethod
    def _close(drv):
        if drv._client is not None:
            drv._client.close()

    # Builders --------------------------------------------------------------

    def instance(self, instance_id=None):
        instance_id = instance_id or next_instance_id()
        # A plain Instance (not nova.tests' fakes, which force eventlet):
        # these tests run on native threads and on eventlet alike.
        return objects.Instance(self.context, id=instance_id,
                                uuid=uuidutils.generate_uuid(),
                                host='compute', node='ZVMLAB01',
                                vm_state='active', task_state=None,
                                launched_at=None)

    @staticmethod
    def userid(instance):
        return instance.name.upper()

    def guest(self, power='on'):
        """An instance with a guest on the fake z/VM (no disks, no image)."""
        inst = self.instance()
        self.create_guest(self.userid(inst), power)
        # As nova knows it: built and running.
        inst.launched_at = timeutils.utcnow()
        return inst

    def create_guest(self, userid, power='on'):
        self.client.guest_create(userid, 1, 512, disk_list=[])
        if power in ('on', 'paused'):
            self.client.guest_start(userid)
        if power == 'paused':
            self.client.guest_pause(userid)

    def zvm_power(self, instance):
        return self.lab.zvm.state()['users'][self.userid(instance)]['power']
