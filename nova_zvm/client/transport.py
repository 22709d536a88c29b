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

"""HTTP to the Cloud Connector: one pooled session, timeouts, retries, auth.

What is retried, and why it is safe:

* a connection that failed before the request went out (refused, connect
  timeout): any call, nothing reached the connector;
* a connection dropped after the request went out: GETs only, since the
  connector may have acted on anything else;
* HTTP 503: GETs, and the calls the caller marks safe (guest deploy and
  capture, which the connector refuses at its concurrency limit before doing
  anything).

Read timeouts are never retried: the connector is still working on the call.
Each retry waits ``retry_interval * 2**n`` seconds, jittered, and is logged.
"""

import json
import logging
import os
import random
import time
import urllib.parse

from oslo_log import log as oslo_logging
import requests
from requests import adapters
import urllib3

from nova_zvm.client import auth
from nova_zvm.client import streaming
from nova_zvm import exception

LOG = oslo_logging.getLogger(__name__)

# No single wait between two retries is longer than this.
MAX_BACKOFF = 60.0
# Seconds a call that waits on z/VM may take beyond the wait it asks for
# (the connector's own polling and the CP commands around it).
WAIT_MARGIN = 30.0


class Transport(object):
    """Sends requests to one Cloud Connector; safe to share among threads.

    The session is configured once and then only used, never changed, and
    headers go with each request, so threads (native or green) can share it.
    The only shared mutable state is the cached token, behind its own lock.
    """

    def __init__(self, url, token_file=None, ca_file=None, verify=True,
                 connect_timeout=10.0, read_timeout=120.0,
                 long_read_timeout=3600.0, max_retries=3, retry_interval=1.0,
                 pool_size=32):
        self.base_url = _base_url(url)
        self.timeout = (connect_timeout, read_timeout)
        self.long_timeout = (connect_timeout, long_read_timeout)
        self.max_retries = max(0, int(max_retries))
        self.retry_interval = max(0.0, float(retry_interval))
        # Replaceable in tests, to retry without waiting.
        self.sleep = time.sleep

        self._session = requests.Session()
        # No proxies, netrc credentials or CA bundle from the environment:
        # the connector is reached directly, verified as configured.
        self._session.trust_env = False
        self._session.verify = _verify_setting(self.base_url, ca_file, verify)
        pool = adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size,
                                    max_retries=0)
        self._session.mount('http://', pool)
        self._session.mount('https://', pool)

        if token_file:
            self.auth = auth.TokenAuth(token_file, self._fetch_token)
        else:
            self.auth = auth.NoAuth()

    def close(self):
        self._session.close()

    def request(self, api, method, path, json_body=None, params=None,
                upload=None, long_running=False, busy_retry=None,
                stream=False, wait=None):
        """Send one call, authenticated; return the ``requests`` response.

        :param api: the API name, for logs and errors
        :param path: the URL path, its variable parts already quoted
        :param json_body: a JSON-serialisable body
        :param upload: a ``streaming.UploadBody`` (an octet-stream body)
        :param long_running: use the long read timeout
        :param busy_retry: whether a 503 may be retried; GETs only when None
        :param stream: leave the body unread (a download)
        :param wait: seconds the connector is asked to wait before it
            answers (e.g. a soft stop's timeout): the read timeout covers
            them, with ``WAIT_MARGIN`` to spare
        """
        headers = {'Accept': 'application/json'}
        if upload is not None:
            headers['Content-Type'] = 'application/octet-stream'
            body = upload.open
        elif json_body is not None:
            headers['Content-Type'] = 'application/json'
            encoded = json.dumps(json_body)
            body = lambda: encoded  # noqa: E731
        else:
            body = lambda: None  # noqa: E731
        idempotent = method == 'GET'
        call = _Call(
            api=api, method=method, url=self.base_url + path, params=params,
            headers=headers, body=body, stream=stream,
            timeout=self._timeout(long_running, wait),
            idempotent=idempotent,
            busy_retry=idempotent if busy_retry is None else busy_retry)

        token = self.auth.current()
        response = self._exchange(call, token)
        if response.status_code == 401 and self.auth.enabled:
            response.close()
            LOG.info('%s: the Cloud Connector refused the auth token; '
                     'getting a new one', api)
            token = self.auth.refresh(stale=token)
            if upload is not None and not upload.can_repeat():
                raise exception.Unauthorized(
                    errmsg='the auth token was refused and the upload '
                           'cannot be sent again (its source cannot be '
                           'rewound)', api=api, status=401)
            response = self._exchange(call, token)
        return response

    def _timeout(self, long_running, wait):
        connect, read = self.long_timeout if long_running else self.timeout
        if wait:
            read = max(read, float(wait) + WAIT_MARGIN)
        return (connect, read)

    def download(self, api, response, dest_path, chunk_size):
        """Stream a response body into ``dest_path``; return its size."""
        try:
            return streaming.save(response, dest_path, chunk_size=chunk_size)
        except requests.exceptions.RequestException as err:
            raise exception.ConnectionFailed(
                errmsg='the download broke off: %s' % err, api=api) from err

    def _fetch_token(self, admin_headers):
        # Asking for a token changes nothing: safe to retry, also on 503.
        call = _Call(api='token_create', method='POST',
                     url=self.base_url + '/token', params=None,
                     headers=dict(admin_headers), body=lambda: None,
                     stream=False, timeout=self.timeout, idempotent=True,
                     busy_retry=True)
        return self._exchange(call, token=None)

    def _exchange(self, call, token):
        """One request with its bounded retries; the last response wins."""
        headers = dict(call.headers)
        if token is not None:
            headers[auth.AUTH_HEADER] = token
        attempt = 0
        while True:
            data = call.body()
            if data is None and call.headers.get('Content-Type') == (
                    'application/octet-stream'):
                raise exception.ConnectionFailed(
                    errmsg='the upload cannot be sent again (its source '
                           'cannot be rewound)', api=call.api)
            started = time.monotonic()
            try:
                response = self._session.request(
                    call.method, call.url, params=call.params,
                    headers=headers, data=data, timeout=call.timeout,
                    stream=call.stream, allow_redirects=False)
            except requests.exceptions.RequestException as err:
                error, retriable = _classify(call, err)
                if not retriable or attempt >= self.max_retries:
                    raise error from err
                reason = error.errmsg
            else:
                if LOG.isEnabledFor(logging.DEBUG):
                    # Path only: no query, and never the headers.
                    LOG.debug('%(api)s: %(method)s %(path)s -> %(status)s '
                              'in %(ms).0f ms',
                              {'api': call.api, 'method': call.method,
                               'path': urllib.parse.urlsplit(call.url).path,
                               'status': response.status_code,
                               'ms': (time.monotonic() - started) * 1000})
                if (response.status_code != 503 or not call.busy_retry or
                        attempt >= self.max_retries):
                    return response
                response.close()
                reason = 'the Cloud Connector is busy (HTTP 503)'
            delay = self._backoff(attempt)
            attempt += 1
            LOG.warning('%(api)s: %(reason)s; retry %(n)d of %(max)d in '
                        '%(delay).2f s',
                        {'api': call.api, 'reason': reason, 'n': attempt,
                         'max': self.max_retries, 'delay': delay})
            self.sleep(delay)

    def wait_before_retry(self, api, attempt, reason):
        """Log and wait before retry ``attempt`` (1-based) of a call."""
        delay = self._backoff(attempt - 1)
        LOG.warning('%(api)s: %(reason)s; retry %(n)d of %(max)d in '
                    '%(delay).2f s', {'api': api, 'reason': reason,
                                      'n': attempt, 'max': self.max_retries,
                                      'delay': delay})
        self.sleep(delay)

    def _backoff(self, attempt):
        ceiling = min(MAX_BACKOFF, self.retry_interval * (2 ** attempt))
        # Jitter spreads out the callers that failed together.
        return random.uniform(ceiling / 2, ceiling)


class _Call(object):
    """What one API call sends; the same on every attempt."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def _classify(call, err):
    """The error to raise for a failed request, and whether to retry it."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return exception.Timeout(
            errmsg='no connection within %s s: %s' % (call.timeout[0], err),
            api=call.api), True
    if isinstance(err, requests.exceptions.SSLError):
        # A certificate problem does not go away by trying again.
        return exception.ConnectionFailed(
            errmsg='TLS failure: %s' % err, api=call.api), False
    if isinstance(err, requests.exceptions.ConnectionError):
        return exception.ConnectionFailed(
            errmsg=str(err), api=call.api), (
                _not_sent(err) or call.idempotent)
    if isinstance(err, requests.exceptions.Timeout):
        return exception.Timeout(
            errmsg='no answer within %s s: %s' % (call.timeout[1], err),
            api=call.api), False
    return exception.ConnectionFailed(errmsg=str(err), api=call.api), False


def _not_sent(err):
    """Whether the connection failed before the request went out."""
    reason = err.args[0] if err.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (urllib3.exceptions.NewConnectionError,
                               urllib3.exceptions.ConnectTimeoutError))


def _base_url(url):
    parts = urllib.parse.urlsplit(url or '')
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise exception.InvalidParameter(
            errmsg='the Cloud Connector URL must be http(s)://host[:port], '
                   'not %r' % url, api='configuration')
    return url.rstrip('/')


def _verify_setting(base_url, ca_file, verify):
    if not verify:
        if base_url.startswith('https:'):
            LOG.warning('TLS certificate verification of the Cloud Connector '
                        'at %s is off: anyone able to intercept the '
                        'connection can read the admin token', base_url)
        return False
    if ca_file:
        if not os.path.isfile(ca_file):
            raise exception.InvalidParameter(
                errmsg='CA file %s does not exist' % ca_file,
                api='configuration')
        return ca_file
    return True
