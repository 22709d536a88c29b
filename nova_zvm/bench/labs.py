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

"""Labs for the benchmark, and their preparation without the drivers.

Setting up a figure (200 guests for the power sync) and clearing up after
one must not be measured and must not depend on either driver, so it goes
through zvmconnector's own client with the latency profile switched off.
"""

import concurrent.futures
import contextlib
import json
import os
import re
import time
import urllib.parse

from zvmconnector import restclient

from nova_zvm.lab import fixture as lab_fixture

PROFILE_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'lab', 'profiles')


def profile_path(name):
    """The file of latency profile ``name`` (a path or a lab's name)."""
    if not name or os.path.exists(name):
        return name or None
    path = os.path.join(PROFILE_DIR, '%s.json' % name)
    if not os.path.exists(path):
        raise ValueError('no latency profile %r in %s' % (name, PROFILE_DIR))
    return path


def load_profile(name):
    """Latency profile ``name``: ({call: seconds}, the whole document)."""
    path = profile_path(name)
    if not path:
        return {}, {}
    with open(path) as f:
        document = json.load(f)
    latency = dict(document.get('latency', document))
    return latency, dict(document, file=os.path.relpath(path))


def start_lab(stack, auth='token', tls=False, latency_profile=None):
    """Start a lab process; ``stack`` (an ExitStack) stops it."""
    lab = lab_fixture.LabFixture(auth=auth, tls=tls,
                                 latency_profile=profile_path(latency_profile),
                                 log_level='WARNING')
    stack.enter_context(lab)
    return lab


class ConnectorError(Exception):
    pass


class LabAdmin(object):
    """Prepares and clears a lab through the Cloud Connector's REST API."""

    def __init__(self, lab, workers=8):
        url = urllib.parse.urlparse(lab.url)
        self.lab = lab
        self.workers = workers
        self._client = restclient.RESTClient(
            url.hostname, url.port, ssl_enabled=url.scheme == 'https',
            verify=lab.ca_file or False, token_path=lab.token_file,
            auth='token' if lab.token_file else None)

    def call(self, api, *args, **kwargs):
        result = self._client.call(api, *args, **kwargs)
        if result.get('overallRC') != 0:
            raise ConnectorError('%s failed: %s' % (api, result))
        return result.get('output')

    @contextlib.contextmanager
    def quiet(self):
        """No latency while preparing: the profile is restored after."""
        latency = self.lab.zvm.state().get('latency') or {}
        self.lab.zvm.set_latency({})
        try:
            yield
        finally:
            self.lab.zvm.set_latency(latency)

    def _each(self, fn, items):
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(fn, item) for item in items]:
                future.result()

    def create_guests(self, userids, running=()):
        """Define guests (no disks) and start those in ``running``."""
        running = set(u.upper() for u in running)

        def create(userid):
            self.call('guest_create', userid, 1, 1024, disk_list=[])
            if userid.upper() in running:
                self.call('guest_start', userid)

        with self.quiet():
            self._each(create, userids)

    def delete_all_guests(self):
        with self.quiet():
            userids = self.call('guest_list') or []
            self._each(lambda u: self.call('guest_delete', u), userids)

    def guest_count(self):
        return len(self.call('guest_list') or [])


# Path segments that name one guest, image, vswitch, FCP or connection;
# /guests/nics, /guests/stats... are collections (zvmsdk's handler.py).
_NAMED = re.compile(r'^/(guests|images|vswitches|files|volumes/conn|'
                    r'volumes/fcp)/(?!(?:nics|stats|interfacestats|volumes)'
                    r'(?:/|$))([^/]+)')


def pattern(call):
    """'GET /guests/ZVM00101/power_state' -> 'GET /guests/{id}/...'."""
    method, _, path = call.partition(' ')
    return '%s %s' % (method, _NAMED.sub(r'/\1/{id}', path))


class Meter(object):
    """Wall time, the REST calls and the z/VM calls of a block.

    ``calls``: what the Cloud Connector received; ``zvm_calls``: what it
    made z/VM do ('smapi:Image_Create_DM', 'cp:QUERY USER X').
    """

    def __init__(self, lab):
        self.lab = lab
        self.wall = None
        self.calls = []
        self.zvm_calls = []

    def __enter__(self):
        self.lab.zvm.reset_rest_calls()
        self.lab.zvm.reset_calls()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._start
        self.calls = list(self.lab.zvm.rest_calls())
        self.zvm_calls = list(self.lab.zvm.calls())
        return False

    def patterns(self):
        return [pattern(c) for c in self.calls]

    def count(self, prefix=''):
        return sum(1 for call in self.calls if call.startswith(prefix))
