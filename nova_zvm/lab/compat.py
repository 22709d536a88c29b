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


"""Runtime workarounds for zvmsdk 1.6.3's defects (never edit the package).

Each function below names the defect it works around.
"""

import json
import sys
import time as real_time
import types

# smtLayer waits for real z/VM: a fixed 15 s sleep before a softstop's
# first state check (powerVM) and poll intervals of seconds (vmUtils).
# The fake z/VM changes state at once, so those sleeps only cost time.
SLEEP_SCALE = 0.01
# Except punch2reader's waits for a busy punch (1+2+3+5+10 s, vmUtils):
# real vmur punches take a fraction of a second, so ~21 s outlasts dozens
# of them. Scaled by 0.01 the window (0.21 s) would be only 7 of the
# benchmark profile's punches (zthin:vmur 0.03 s); at 0.1 it is 2.1 s,
# 70 punches, and a collision in a test (no latency) costs 0.1 s.
PUNCH_RETRY_SCALE = 0.1
PUNCH_RETRY_CALLER = 'punch2reader'


def _jwt_adapter():
    """zvmsdk's tokens handler written for PyJWT 1.x, adapted to PyJWT 2.

    Defect: ``zvmsdk/sdkwsgi/handlers/tokens.py`` calls
    ``jwt.decode(token, key)`` without ``algorithms``, which PyJWT 2
    refuses (every token -> 401), and relies on ``jwt.encode`` returning
    bytes in 1.x. Nova 34 needs PyJWT>=2.4, so we cannot pin PyJWT<2;
    instead the handler's ``jwt`` name is rebound to this adapter, which
    signs and verifies with HS256 explicitly and always returns str.
    """
    import jwt

    def encode(payload, key, algorithm='HS256', **kwargs):
        token = jwt.encode(payload, key, algorithm=algorithm, **kwargs)
        return token.decode() if isinstance(token, bytes) else token

    def decode(token, key=None, algorithms=None, **kwargs):
        return jwt.decode(token, key, algorithms=algorithms or ['HS256'],
                          **kwargs)

    adapter = types.SimpleNamespace(
        encode=encode, decode=decode,
        ExpiredSignatureError=jwt.ExpiredSignatureError,
        DecodeError=jwt.DecodeError,
        InvalidTokenError=jwt.InvalidTokenError)
    return adapter


def _scaled_time(scale, punch_scale=PUNCH_RETRY_SCALE):
    """A ``time`` module whose sleep() is shortened by ``scale``.

    Sleeps called from punch2reader are shortened by ``punch_scale``.
    """
    fake = types.ModuleType('time')
    for name in dir(real_time):
        if not name.startswith('__'):
            setattr(fake, name, getattr(real_time, name))

    def sleep(secs):
        caller = sys._getframe(1).f_code.co_name
        factor = punch_scale if caller == PUNCH_RETRY_CALLER else scale
        real_time.sleep(max(0, secs) * factor)

    fake.sleep = sleep
    return fake


class _WholeRequestSocket(object):
    """A client socket whose first recv() returns the whole JSON request.

    Defect: ``SDKServer.serve_API`` reads a request with a single
    ``recv(4096)``, so a request larger than one segment (long
    user_direct comments, a big disk_list, user data) is cut and fails
    to parse. The WSGI side sends one JSON document and then waits for
    the answer, so reading until the document parses is safe.
    """

    def __init__(self, sock, timeout=30.0):
        self._sock = sock
        self._timeout = timeout

    def recv(self, bufsize, *args):
        self._sock.settimeout(self._timeout)
        data = b''
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                try:
                    json.loads(data.decode())
                    break
                except ValueError:
                    continue
        finally:
            self._sock.settimeout(None)
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


def read_whole_requests(server):
    """Make ``server`` (an SDKServer) read complete requests."""
    serve_api = server.serve_API

    def serve_whole(client, addr):
        return serve_api(_WholeRequestSocket(client), addr)

    server.serve_API = serve_whole


class _DecodableStr(str):
    """A str that also answers ``.decode()`` like the bytes PyJWT 1 gave."""

    def decode(self, *args, **kwargs):
        return str(self)


def _token_header_fix(app):
    """Let RequestLog ``.decode()`` the X-Auth-Token header value.

    Defect: ``zvmsdk/sdkwsgi/requestlog.py`` calls ``.decode('utf-8')`` on
    the X-Auth-Token response header, which was bytes with PyJWT 1. With
    PyJWT 2 (and with ``auth = none``, where the token is a str literal)
    every ``POST /token`` answers 500. This middleware sits just inside
    RequestLog and hands it a str that can be "decoded".
    """
    def wrapped(environ, start_response):
        def fixed_start_response(status, headers, exc_info=None):
            headers = [(n, _DecodableStr(v)) if n == 'X-Auth-Token' else
                       (n, v) for n, v in headers]
            return start_response(status, headers, exc_info)
        return app(environ, fixed_start_response)
    return wrapped


def build_app():
    """zvmsdk's WSGI pipeline, as ``deploy.deploy()`` builds it, plus fix.

    Same middlewares in the same order (HeaderControl, FaultWrapper,
    RequestLog around SdkHandler), with ``_token_header_fix`` between
    RequestLog and the rest.
    """
    from zvmsdk.sdkwsgi import deploy
    from zvmsdk.sdkwsgi import handler
    from zvmsdk.sdkwsgi import requestlog

    app = handler.SdkHandler()
    app = deploy.HeaderControl(app)
    app = deploy.FaultWrapper(app)
    app = _token_header_fix(app)
    return requestlog.RequestLog(app)


def install(sleep_scale=SLEEP_SCALE):
    from smtLayer import powerVM
    from smtLayer import vmUtils
    from zvmsdk.sdkwsgi.handlers import tokens

    tokens.jwt = _jwt_adapter()
    scaled = _scaled_time(sleep_scale)
    powerVM.time = scaled
    vmUtils.time = scaled
