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

"""Start-up checks: the options, then the Cloud Connector itself.

A wrong option stops nova-compute with an error that names the option and
the fix. An unreachable connector does not: nova-compute keeps running,
the driver reports itself not ready, and it recovers when the connector
answers.
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exception
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm import preflight
from nova_zvm.preflight import options as preflight_options
from nova_zvm.virt import ownership
from nova_zvm.virt import userid as zvm_userid

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# Task states whose start-up recovery nova does without the driver (the
# instance goes to ERROR, or the task state is reset).
_OFFLINE_RECOVERY_TASKS = frozenset([
    task_states.SCHEDULING, task_states.BLOCK_DEVICE_MAPPING,
    task_states.NETWORKING, task_states.SPAWNING,
    task_states.REBUILDING, task_states.REBUILD_BLOCK_DEVICE_MAPPING,
    task_states.REBUILD_SPAWNING,
    task_states.IMAGE_SNAPSHOT_PENDING, task_states.IMAGE_PENDING_UPLOAD,
    task_states.IMAGE_UPLOADING, task_states.IMAGE_SNAPSHOT,
])


def recoverable_offline(instance):
    """Whether nova can recover ``instance`` at start-up without z/VM.

    Interrupted builds and rebuilds go to ERROR and interrupted snapshots
    get their task state reset; other task states need the connector.
    """
    if instance.vm_state == vm_states.BUILDING:
        return True
    return (instance.vm_state != vm_states.ERROR and
            instance.task_state in _OFFLINE_RECOVERY_TASKS)


def _invalid(message):
    return nova_exception.InvalidConfiguration(message)


def validate_options():
    """Raise InvalidConfiguration for the first wrong option; warn on risks.

    The checks are those of ``nova-zvm-status check`` (nova_zvm.preflight).
    """
    for check in preflight_options.STARTUP_CHECKS:
        result = check()
        if result.code == preflight.Code.FAILURE:
            raise _invalid(result.details)
        if result.code == preflight.Code.WARNING:
            LOG.warning(result.details)


def sample_names():
    """Instance names the configured template gives for sample ids."""
    return preflight_options.sample_names()


def check_connector(client):
    """Ask the connector for its version, a token and the disk pool.

    :returns: True when the connector answered, False when it could not be
        reached (logged as one warning line, no traceback)
    :raises InvalidConfiguration: when the connector refuses the token or
        does not know the disk pool
    """
    url = CONF.zvm.cloud_connector_url
    try:
        version = client.version()
        # An authenticated call: proves the token works, and the pool.
        pool = client.host_diskpool_get_info(disk_pool=CONF.zvm.disk_pool)
    except (zvm_exception.ConnectionFailed, zvm_exception.Timeout,
            zvm_exception.Busy, zvm_exception.ZVMFailure) as err:
        # ZVMFailure: a 5xx, e.g. SMAPI still coming up after an IPL; it
        # says nothing about the options.
        LOG.warning('The z/VM Cloud Connector at %(url)s is not reachable '
                    'or not ready (%(err)s); nova-compute keeps running and '
                    'retries',
                    {'url': url, 'err': err})
        return False
    except zvm_exception.Unauthorized as err:
        raise _invalid('The z/VM Cloud Connector at %s refused the admin '
                       'token (%s); set [zvm] token_file to the connector\'s '
                       'current admin token file' % (url, err)) from err
    except zvm_exception.ZVMConnectorError as err:
        raise _invalid('The z/VM Cloud Connector at %s cannot report disk '
                       'pool %s (%s); set [zvm] disk_pool (TYPE:NAME, e.g. '
                       'ECKD:POOL1) to a pool of the directory manager, or '
                       'configure the connector\'s own [zvm] disk_pool'
                       % (url, CONF.zvm.disk_pool or '(connector default)',
                          err)) from err
    LOG.info('Connected to the z/VM Cloud Connector at %(url)s: API version '
             '%(ver)s, %(auth)s, disk pool %(pool)s with %(free)s of '
             '%(total)s GB free',
             {'url': url, 'ver': _api_version(version),
              'auth': 'token accepted' if CONF.zvm.token_file
              else 'no authentication',
              'pool': CONF.zvm.disk_pool or '(connector default)',
              'free': (pool or {}).get('disk_available', '?'),
              'total': (pool or {}).get('disk_total', '?')})
    return True


def _api_version(version):
    if isinstance(version, dict):
        return version.get('api_version') or version.get('version') or \
            version
    return version


def record_unrecorded(power, instances):
    """Record launched instances' guests made without a record.

    Guests of nova's in-tree z/VM driver or of an older nova-zvm: from
    now on they are listed by list_instance_uuids and checked by uuid.
    """
    try:
        userids = set(power.list_userids())
    except zvm_exception.ZVMConnectorError as err:
        LOG.warning('Cannot list guests to record their instances: %s', err)
        return
    owners = ownership.OwnerRegistry()
    for instance in instances:
        try:
            userid = zvm_userid.for_instance(instance)
        except nova_exception.InvalidInput:
            continue
        if userid in userids and instance.launched_at and \
                instance.vm_state != 'error':
            owners.adopt(instance, userid)
