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

"""Where the client's errors become nova's exceptions.

The driver's methods are wrapped by :func:`translated`: nova's compute
manager reacts to its own exception types (InstanceNotFound,
VirtDriverNotReady...), and a fault must name the connector's codes.
"""

import functools
import inspect

from nova import exception as nova_exception
from nova.i18n import _

from nova_zvm import exception as zvm_exception
from nova_zvm.virt import userid as zvm_userid


class ZVMConnectorCallFailed(nova_exception.NovaException):
    msg_fmt = _("z/VM Cloud Connector call %(api)s failed for guest "
                "%(guest)s: overallRC %(overall_rc)s, rc %(rc)s, rs %(rs)s: "
                "%(errmsg)s")


class ZVMConnectorUnavailable(nova_exception.NovaException):
    msg_fmt = _("The z/VM Cloud Connector is not reachable (call %(api)s "
                "for guest %(guest)s): %(reason)s")


UNREACHABLE = (zvm_exception.ConnectionFailed, zvm_exception.Timeout)
# Errors that say the connector (or z/VM behind it) cannot work right now,
# e.g. SMAPI still coming up after an IPL: retried, never a config error.
TRANSIENT = UNREACHABLE + (zvm_exception.Busy, zvm_exception.ZVMFailure)

# The connector's module id (modID) of its guest module: a 404 from it is
# about the guest itself, not about an image, vswitch or volume.
GUEST_MODULE_ID = 10


def instance_of(func, args, kwargs):
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except TypeError:
        return None
    return bound.arguments.get('instance')


def guest_of(instance):
    if instance is None:
        return '-'
    try:
        return zvm_userid.for_instance(instance)
    except Exception:
        return getattr(instance, 'uuid', '-')


def translated(not_ready=False, guest_gone=True):
    """Turn the client's errors into nova's, naming the connector's codes.

    :param not_ready: an unreachable connector raises VirtDriverNotReady,
        for the methods whose callers in nova expect it
    :param guest_gone: the connector saying the instance's guest does not
        exist raises InstanceNotFound. Off for spawn: there nova reads
        InstanceNotFound as "deleted during the build" and records no
        fault, while any 404 in a build is a failed build.
    """
    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except zvm_exception.ZVMConnectorError as err:
                instance = instance_of(func, args, kwargs)
                raise nova_error(err, instance, not_ready,
                                 guest_gone) from err
        return wrapper
    return decorator


def drives_power(func):
    """The method changes its instance's power: no lifecycle event for it.

    Power operations of PowerOps need it not; other methods that stop,
    start or move a guest do (spawn, destroy, snapshot, migrations).
    """
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        instance = instance_of(func, (self,) + args, kwargs)
        if self._power is None or instance is None:
            return func(self, *args, **kwargs)
        with self._power.operating(instance):
            return func(self, *args, **kwargs)
    return wrapper


def is_guest_gone(err):
    """A 404 about the guest itself (not its image, vswitch...)."""
    return (isinstance(err, zvm_exception.NotFound) and
            err.mod_id == GUEST_MODULE_ID)


def nova_error(err, instance, not_ready, guest_gone=True):
    api = getattr(err, 'api', None) or '-'
    guest = guest_of(instance)
    if not_ready and isinstance(err, TRANSIENT):
        return nova_exception.VirtDriverNotReady()
    if isinstance(err, UNREACHABLE):
        return ZVMConnectorUnavailable(api=api, guest=guest, reason=err)
    if guest_gone and instance is not None and is_guest_gone(err):
        return nova_exception.InstanceNotFound(instance_id=instance.uuid)
    return ZVMConnectorCallFailed(
        api=api, guest=guest,
        overall_rc=getattr(err, 'overall_rc', None),
        rc=getattr(err, 'rc', None), rs=getattr(err, 'rs', None),
        errmsg=getattr(err, 'errmsg', None) or err)
