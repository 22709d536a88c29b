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

"""Logging a guest off, and waiting until z/VM has finished doing so.

A logoff is not instant on z/VM: without IMMED, CP signals the guest and
waits for it to shut down (up to the system's signal timeout); even a
forced logoff takes a moment. Meanwhile the guest is still logged on:
SMAPI answers 200/16 "being deactivated", a logon is refused and DirMaint
will not purge the user (zvmsdk's 596/6831). The connector's stop returns
at once when it meets 200/16, so whoever needs the guest off (a hard stop,
a hard reboot, a delete) waits here, bounded.
"""

import time

from oslo_log import log as logging

from nova_zvm import exception as zvm_exception

LOG = logging.getLogger(__name__)

# How long to wait for a logoff z/VM has already started: at most the
# system's signal timeout (minutes on most systems) plus the logoff.
LOGOFF_TIMEOUT = 600.0
FIRST_POLL = 0.1
MAX_POLL = 5.0


class LogoffTimeout(zvm_exception.ZVMConnectorError):
    """A guest was still logged on when the wait ran out."""


def wait_until_off(client, userid, timeout=LOGOFF_TIMEOUT,
                   clock=time.monotonic, sleep=time.sleep):
    """Poll the guest's power state until it is off (or gone).

    :raises LogoffTimeout: still on after ``timeout`` seconds
    """
    deadline = clock() + timeout
    delay = FIRST_POLL
    while True:
        try:
            if client.guest_get_power_state(userid) != 'on':
                return
        except zvm_exception.NotFound:
            return
        if clock() >= deadline:
            raise LogoffTimeout(
                errmsg='guest %s is still logged on %d s after it was told '
                       'to log off' % (userid, timeout),
                api='guest_get_power_state')
        sleep(delay)
        delay = min(MAX_POLL, delay * 2)


def stop(client, userid, timeout=LOGOFF_TIMEOUT):
    """Force the guest off (IMMED) and wait until z/VM has logged it off.

    A guest already being logged off (after a clean shutdown that did not
    finish) is waited for: z/VM refuses a second deactivate meanwhile.
    """
    client.guest_stop(userid)
    wait_until_off(client, userid, timeout=timeout)


def stop_if_running(client, userid, timeout=LOGOFF_TIMEOUT):
    """Like ``stop`` for a guest that may be off or absent already."""
    try:
        if client.guest_get_power_state(userid) != 'on':
            return
    except zvm_exception.NotFound:
        return
    LOG.debug('Logging off %s before it is changed', userid)
    stop(client, userid, timeout=timeout)


def hard_restart(client, userid, timeout=LOGOFF_TIMEOUT):
    """Force the guest off and log it on again (a hard reboot).

    Not the connector's reset: that waits for the guest to shut down on
    CP's signal, which a hung guest never does.
    """
    stop(client, userid, timeout=timeout)
    client.guest_start(userid)
