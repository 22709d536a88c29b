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

"""What every group of API methods shares: paths, bodies, answers."""

import urllib.parse

from nova_zvm.client import envelope
from nova_zvm.client import validate
from nova_zvm import exception


def given(**kwargs):
    """The keyword arguments the caller set (not None), for a body.

    The connector's schemas refuse ``null`` for most optional fields; leaving
    a field out lets the connector apply its own default.
    """
    return {key: value for key, value in kwargs.items() if value is not None}


def path(*segments):
    """A URL path from already validated segments, each one quoted."""
    return '/' + '/'.join(urllib.parse.quote(str(segment), safe='')
                          for segment in segments)


class APIBase(object):
    """Needs ``self._transport`` (a ``transport.Transport``)."""

    def _call(self, api, method, url_path, json_body=None, params=None,
              long_running=False, busy_retry=None, wait=None,
              locked_retry=False):
        """Send one call; return the envelope's ``output`` or raise.

        :param wait: seconds the call asks the connector to wait (its read
            timeout covers them)
        :param locked_retry: repeat the call (bounded, with the transport's
            backoff) while z/VM answers that a directory entry is locked;
            only for calls that are one DirMaint change or idempotent
            (see ``envelope.is_locked``)
        """
        attempt = 0
        while True:
            response = self._transport.request(
                api, method, url_path, json_body=json_body, params=params,
                long_running=long_running, busy_retry=busy_retry, wait=wait)
            try:
                return envelope.output_of(api, response)
            except (exception.ZVMFailure, exception.Conflict) as err:
                if (not locked_retry or not envelope.is_locked(err) or
                        attempt >= self._transport.max_retries):
                    raise
                attempt += 1
                self._transport.wait_before_retry(
                    api, attempt, 'a directory entry is locked (%s)' % err)
            finally:
                response.close()

    def _guest_path(self, api, userid, *rest):
        return path('guests', validate.userid(api, userid), *rest)
