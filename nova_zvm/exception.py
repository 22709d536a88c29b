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

"""Errors of the z/VM Cloud Connector client.

Every error carries what the connector said, so callers decide on the type
(``NotFound``) rather than on numbers. The attributes are ``None`` when the
connector did not answer (connection failures, timeouts) or when the client
refused a call before sending it (``InvalidParameter``).
"""


class ZVMConnectorError(Exception):
    """A Cloud Connector call failed.

    :ivar api: the API name (as in zvmconnector's table), e.g. ``guest_create``
    :ivar status: the HTTP status code, or None
    :ivar overall_rc: the envelope's ``overallRC``, or None
    :ivar rc: the envelope's ``rc``, or None
    :ivar rs: the envelope's ``rs``, or None
    :ivar errmsg: the connector's ``errmsg`` (or the client's reason)
    :ivar mod_id: the envelope's ``modID``, or None
    """

    def __init__(self, errmsg='', api=None, status=None, overall_rc=None,
                 rc=None, rs=None, mod_id=None):
        self.api = api
        self.status = status
        self.overall_rc = overall_rc
        self.rc = rc
        self.rs = rs
        self.errmsg = errmsg
        self.mod_id = mod_id
        super().__init__(self._describe())

    def _describe(self):
        parts = []
        if self.status is not None:
            parts.append('HTTP %s' % self.status)
        if self.overall_rc is not None:
            parts.append('overallRC %s rc %s rs %s' % (
                self.overall_rc, self.rc, self.rs))
        where = ' (%s)' % ', '.join(parts) if parts else ''
        return '%s failed%s: %s' % (self.api or 'Cloud Connector call',
                                    where, self.errmsg)


class BadRequest(ZVMConnectorError):
    """The connector refused the input (HTTP 400, overallRC 100)."""


class InvalidParameter(BadRequest, ValueError):
    """The client refused a value before sending it (e.g. a bad userid)."""


class Unauthorized(ZVMConnectorError):
    """The connector refused the token, even after one refresh (HTTP 401)."""


class NotFound(ZVMConnectorError):
    """The guest, image, vswitch, pool... does not exist (HTTP 404)."""


class Conflict(ZVMConnectorError):
    """It exists already, or it is in the wrong state (HTTP 409)."""


class Busy(ZVMConnectorError):
    """The connector is unavailable or at its limit (HTTP 503)."""


class ZVMFailure(ZVMConnectorError):
    """z/VM (SMAPI, CP, DirMaint) or the connector failed (HTTP 500...)."""


class ConnectionFailed(ZVMConnectorError):
    """The connector could not be reached, or dropped the connection."""


class Timeout(ZVMConnectorError):
    """The connector did not connect or answer within the timeout."""
