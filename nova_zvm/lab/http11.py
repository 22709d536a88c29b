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

"""HTTP/1.1 persistent connections for the lab's wsgiref server.

A Cloud Connector is deployed behind Apache httpd and mod_wsgi, which keep
connections open (``KeepAlive On``). wsgiref answers in HTTP/1.0 and closes
every connection, so on the lab a client that reuses connections would pay
a TCP (and TLS) handshake per call like one that does not, and benchmarks
of the clients would measure the lab, not the clients. This handler serves
requests on one connection until the client closes it, the client asks to
close, the response has no length, or the connection idles for
``IDLE_TIMEOUT`` seconds.
"""

import socket
from wsgiref import simple_server

IDLE_TIMEOUT = 15


class _Body(object):
    """The request body: at most Content-Length bytes of the connection."""

    def __init__(self, rfile, length):
        self._rfile = rfile
        self._left = length

    def _limit(self, size):
        if size is None or size < 0 or size > self._left:
            return self._left
        return size

    def read(self, size=-1):
        size = self._limit(size)
        data = self._rfile.read(size) if size else b''
        self._left -= len(data)
        return data

    def readline(self, size=-1):
        size = self._limit(size)
        data = self._rfile.readline(size) if size else b''
        self._left -= len(data)
        return data

    def readlines(self, hint=-1):
        return list(iter(self.readline, b''))

    def __iter__(self):
        return iter(self.readline, b'')

    def drain(self):
        # What the application left unread must not be taken for the
        # next request.
        while self._left > 0 and self.read(65536):
            pass


class _ServerHandler(simple_server.ServerHandler):
    http_version = '1.1'

    def cleanup_headers(self):
        super().cleanup_headers()
        request = self.request_handler
        if 'Content-Length' not in self.headers or request.close_connection:
            # No length (a stream): the end of the body is the end of the
            # connection.
            self.headers['Connection'] = 'close'
            request.close_connection = True


class KeepAliveMixin(object):
    """Mix into a ``wsgiref.simple_server.WSGIRequestHandler`` subclass."""

    protocol_version = 'HTTP/1.1'
    timeout = IDLE_TIMEOUT

    def setup(self):
        # Headers and body go out in separate writes: without NODELAY the
        # client's delayed ACK adds ~40 ms to every reused connection.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def handle(self):
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            # Idle timeout or the client went away.
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ''
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        body = None
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            # wsgiref cannot delimit a chunked body: read it as before and
            # close the connection after the response.
            self.close_connection = True
            stream = self.rfile
        else:
            body = _Body(self.rfile, int(environ.get('CONTENT_LENGTH') or 0))
            stream = body
        handler = _ServerHandler(stream, self.wfile, self.get_stderr(),
                                 environ, multithread=False)
        handler.request_handler = self
        handler.run(self.server.get_app())
        if body is not None:
            body.drain()
