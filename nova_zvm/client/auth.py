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

"""The connector's token authentication.

The admin token (a file shared with the connector) is exchanged for an auth
token with ``POST /token``; the auth token is cached and sent on every call.
The connector signs auth tokens with the admin token, so rotating the file
makes the cached token fail with 401: the file is re-read then, on every
refresh. Neither token is ever logged or put into an exception.
"""

import threading

from oslo_log import log as logging

from nova_zvm import exception

LOG = logging.getLogger(__name__)

AUTH_HEADER = 'X-Auth-Token'
ADMIN_HEADER = 'X-Admin-Token'


class NoAuth(object):
    """A connector with ``[wsgi] auth = none``: send no token."""

    enabled = False

    def headers(self):
        return {}

    def current(self):
        return None

    def refresh(self, stale):
        pass


class TokenAuth(object):
    """Caches one auth token; refreshes it at most once per stale token.

    :param token_file: path of the connector's admin token file
    :param fetch: ``fetch(admin_headers) -> response`` sends ``POST /token``
        with the given headers (through the client's session, timeouts and
        retries) and returns the ``requests`` response.
    """

    enabled = True

    def __init__(self, token_file, fetch):
        self._token_file = token_file
        self._fetch = fetch
        self._token = None
        # Only the refresh is serialised; calls read the cached value.
        self._lock = threading.Lock()

    def current(self):
        """The cached token, fetching the first one if there is none."""
        token = self._token
        if token is None:
            token = self.refresh(stale=None)
        return token

    def headers(self):
        return {AUTH_HEADER: self.current()}

    def refresh(self, stale):
        """Replace ``stale`` (the token the connector refused) by a new one.

        Threads that were refused the same token wait on one another: only
        the first fetches, the others reuse what it got.
        """
        with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            admin_token = self._read_admin_token()
            response = self._fetch({ADMIN_HEADER: admin_token})
            try:
                token = response.headers.get(AUTH_HEADER)
                status = response.status_code
            finally:
                response.close()
            if status != 200 or not token:
                raise exception.Unauthorized(
                    errmsg='the connector refused the admin token read '
                           'from %s' % self._token_file,
                    api='token_create', status=status)
            self._token = token
            LOG.debug('Obtained a new auth token from the Cloud Connector')
            return token

    def _read_admin_token(self):
        try:
            with open(self._token_file) as token_file:
                admin_token = token_file.read().strip()
        except OSError as err:
            raise exception.Unauthorized(
                errmsg='cannot read the admin token file %s: %s' % (
                    self._token_file, err.strerror or err),
                api='token_create')
        if not admin_token:
            raise exception.Unauthorized(
                errmsg='the admin token file %s is empty' % self._token_file,
                api='token_create')
        return admin_token
