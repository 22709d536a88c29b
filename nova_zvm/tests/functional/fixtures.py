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

"""Nova's glance and neutron fixtures, adjusted to a z/VM host."""

import io
import socket
import threading
from unittest import mock
import urllib.parse

import fixtures
from nova.tests import fixtures as nova_fixtures
from urllib3 import connection as urllib3_connection
from urllib3 import connectionpool
from urllib3 import poolmanager

from nova_zvm.lab import images

# The neutron physical network the test ports live on, and the lab vswitch
# the driver is told (``[zvm] vswitch_mappings``) to couple them to.
PHYSNET = 'physnet1'
VSWITCH = 'VSW1'

# The root disk size, in cylinders, of the z/VM disk image the tests boot.
IMAGE_CYLINDERS = 10


def zvm_disk_image(cylinders=IMAGE_CYLINDERS, payload=b'\0' * 4096):
    """A z/VM disk image as the Cloud Connector expects it."""
    return images.build_image('CKD', cylinders, payload=payload)


def s390x_image(image_id, name='rhel-s390x', **properties):
    """Glance metadata of a raw s390x image a z/VM host can boot."""
    # Nova's image metadata has no os_version field: the release goes
    # into os_distro.
    props = {'architecture': 's390x',
             'os_distro': 'rhel8.6',
             'hypervisor_type': 'zvm'}
    props.update(properties)
    return {
        'id': image_id,
        'name': name,
        'status': 'active',
        'visibility': 'public',
        'container_format': 'bare',
        'disk_format': 'raw',
        'min_ram': 0,
        'min_disk': 0,
        'protected': False,
        'properties': props,
    }


class GlanceFixture(nova_fixtures.GlanceFixture):
    """Nova's fake glance, keeping the data a snapshot uploads.

    Nova's fixture drops the data passed to ``update``, which is how nova
    uploads a snapshot; booting from a snapshot then needs that data back.
    """

    def create_s390x_image(self, image_id, data=None, **properties):
        image = s390x_image(image_id, **properties)
        data = zvm_disk_image() if data is None else data
        return self.create(None, image, data=io.BytesIO(data))

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        image = super().update(context, image_id, metadata,
                               purge_props=purge_props)
        if data is not None:
            self._imagedata[image_id] = _read_all(data)
            image['size'] = len(self._imagedata[image_id])
        return image

    def image_data(self, image_id):
        return self._imagedata.get(image_id)


def _read_all(data):
    # Nova passes an open file, or an iterator of chunks.
    if hasattr(data, 'read'):
        return data.read()
    return b''.join(data)


class NeutronFixture(nova_fixtures.NeutronFixture):
    """Nova's fake neutron with its network on a physical network.

    The driver couples each port to the vswitch its network's physical
    network maps to, so the ports must carry one. (Nova's network model
    passes no segmentation id to drivers, so a flat network it is.)
    """

    network_1 = dict(nova_fixtures.NeutronFixture.network_1, **{
        'provider:network_type': 'flat',
        'provider:physical_network': PHYSNET,
        'provider:segmentation_id': None,
    })


class ConnectorRelay(fixtures.Fixture):
    """A loopback TCP relay in front of the lab's Cloud Connector.

    The driver is pointed at ``url``. ``down()`` closes the relay's
    listening socket and every connection through it, so the driver meets
    what a stopped connector gives (refused connections, dropped pooled
    ones) while the fake z/VM behind it keeps its guests, as a real z/VM
    would; ``up()`` listens on the same port again.
    """

    POLL_SECONDS = 0.1

    def __init__(self, target_url):
        super().__init__()
        target = urllib.parse.urlsplit(target_url)
        self._scheme = target.scheme
        self._target = (target.hostname, target.port)
        self._lock = threading.Lock()
        self._sockets = set()
        self._listener = None
        self._accepting = None
        self.port = 0

    def _setUp(self):
        self.up()
        self.url = '%s://127.0.0.1:%d' % (self._scheme, self.port)
        self.addCleanup(self.down)

    def up(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', self.port))
        listener.listen(64)
        listener.settimeout(self.POLL_SECONDS)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stop = threading.Event()
        self._accepting = threading.Thread(
            target=self._accept, args=(listener, self._stop), daemon=True)
        self._accepting.start()

    def down(self):
        if self._listener is None:
            return
        self._stop.set()
        self._accepting.join()
        self._listener.close()
        self._listener = None
        with self._lock:
            open_sockets, self._sockets = self._sockets, set()
        for sock in open_sockets:
            _close(sock)

    def _accept(self, listener, stop):
        # Polls so that down() never depends on close() waking accept().
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst),
                                 daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except (OSError, EOFError):
            # EOFError: eventlet's socket, closed by down() under a recv.
            pass
        finally:
            # Either side closing ends the relayed connection.
            for sock in (src, dst):
                _close(sock)
            with self._lock:
                self._sockets.difference_update((src, dst))


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _RealHTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
    # A class attribute of its own: wsgi-intercept swaps the one of
    # HTTPSConnectionPool, not this one.
    ConnectionCls = urllib3_connection.HTTPSConnection


class RealHTTPSConnections(fixtures.Fixture):
    """HTTPS through requests reaches real servers again.

    Nova's API and placement fixtures install wsgi-intercept, which swaps
    urllib3's connection classes for HTTP *and* HTTPS while they run; its
    HTTPS class rejects the arguments urllib3 2 passes (``cert_reqs``), so
    no HTTPS connection to a real server (the lab with TLS) can be made.
    Nothing in these tests is intercepted over HTTPS, so HTTPS pools go
    back to urllib3's own connections.
    """

    def _setUp(self):
        # In place: every PoolManager refers to this very dict.
        patcher = mock.patch.dict(poolmanager.pool_classes_by_scheme,
                                  {'https': _RealHTTPSConnectionPool})
        patcher.start()
        self.addCleanup(patcher.stop)
