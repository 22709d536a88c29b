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

"""The connector's response envelope, and the error each answer means.

Every answer is ``{overallRC, modID, rc, rs, errmsg, output}``; the server
derives the HTTP status from overallRC (100 -> 400; 400, 404, 409, 501, 503
as they are; anything else it cannot place -> 500).
"""

from nova_zvm import exception

_BY_STATUS = {
    400: exception.BadRequest,
    401: exception.Unauthorized,
    404: exception.NotFound,
    409: exception.Conflict,
    503: exception.Busy,
}

# Used when a 2xx answer still carries a failure in its envelope.
_BY_OVERALL_RC = {
    100: exception.BadRequest,
    404: exception.NotFound,
    409: exception.Conflict,
    503: exception.Busy,
}

# Enough of an unexpected (non-JSON) body to say what answered.
_TEXT_EXCERPT = 200

# SMAPI's "locked" answers (feilong's rcdescriptions.c): 400/12 image or
# profile definition locked, 404/12 and 408/12 image device locked. DirMaint
# refuses the change before making it, so a repeat is safe for a call that
# is a single directory change; the lock is held by another DirMaint request
# and goes away when that finishes.
LOCKED = frozenset([(400, 12), (404, 12), (408, 12)])
# zvmsdk turns those into its own conflicts for NIC and device calls
# (zvmsdk/returncode.py, 'conflict': "... error: <obj> is locked").
LOCKED_CONFLICTS = frozenset([7, 9, 11, 13, 15, 17])


def is_locked(err):
    """Whether z/VM refused the call because a directory entry was locked."""
    if err.overall_rc == 409:
        return err.rs in LOCKED_CONFLICTS
    return (err.rc, err.rs) in LOCKED


def output_of(api, response):
    """Return the envelope's ``output``, or raise the error it describes."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _unexpected(api, response)

    overall_rc = body.get('overallRC')
    if 200 <= status < 300 and not overall_rc:
        return body.get('output')

    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = _BY_OVERALL_RC.get(overall_rc, exception.ZVMFailure)
    raise cls(errmsg=body.get('errmsg') or response.reason or '',
              api=api, status=status, overall_rc=overall_rc,
              rc=body.get('rc'), rs=body.get('rs'),
              mod_id=body.get('modID'))


def error_for_status(api, response):
    """The error for a non-JSON answer (e.g. a proxy's error page)."""
    return _unexpected(api, response)


def _unexpected(api, response):
    status = response.status_code
    cls = _BY_STATUS.get(status, exception.ZVMFailure)
    text = (response.text or '')[:_TEXT_EXCERPT]
    return cls(errmsg='unexpected answer (%s): %s' % (
        response.headers.get('Content-Type', 'no content type'), text),
        api=api, status=status)
