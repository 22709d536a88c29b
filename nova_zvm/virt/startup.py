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

import os
import stat
import urllib.parse

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exception
from nova.objects import instance as instance_obj
from oslo_config import cfg
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import userid as zvm_userid

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# Instance ids the name template must turn into valid userids: the first,
# a small one and a large one (five hex digits).
SAMPLE_INSTANCE_IDS = (0, 1, 0xfffff)
SAMPLE_UUID = '00000000-0000-0000-0000-000000000000'
# Ids a long-lived cloud reaches (nova never reuses one): the template
# should still give valid userids there, or builds start failing one day.
GROWTH_INSTANCE_IDS = (0x100000, 10 ** 7, 0xffffff)


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
    """Raise InvalidConfiguration for the first wrong option; warn on risks."""
    _check_url()
    _check_name_template()
    _check_ca_file()
    _check_token_file()
    if (CONF.zvm.token_file and
            urllib.parse.urlparse(CONF.zvm.cloud_connector_url).scheme ==
            'http'):
        LOG.warning('[zvm] cloud_connector_url = %s is plain http with token '
                    'authentication: the admin token and the auth tokens '
                    'travel in clear; use https:// and [zvm] ca_file',
                    CONF.zvm.cloud_connector_url)
    if CONF.zvm.insecure:
        LOG.warning('[zvm] insecure = True: the Cloud Connector\'s TLS '
                    'certificate is not verified, so the admin token can be '
                    'intercepted; set [zvm] ca_file to the connector\'s CA '
                    'and insecure = False')


def _check_url():
    try:
        url = CONF.zvm.cloud_connector_url
    except (cfg.Error, ValueError) as err:
        # A URIOpt refuses values without a scheme or host when read.
        raise _invalid('[zvm] cloud_connector_url is not a valid URL (%s); '
                       'set it to the z/VM Cloud Connector\'s URL, e.g. '
                       'https://zcc.example.com:8080' % err) from err
    if not url:
        raise _invalid('[zvm] cloud_connector_url is not set; set it to the '
                       'z/VM Cloud Connector\'s URL, e.g. '
                       'https://zcc.example.com:8080')
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ('http', 'https') or not parsed.netloc:
        raise _invalid('[zvm] cloud_connector_url = %s is not an http:// or '
                       'https:// URL; set it to the z/VM Cloud Connector\'s '
                       'URL, e.g. https://zcc.example.com:8080' % url)


def sample_names(instance_ids=SAMPLE_INSTANCE_IDS):
    """Instance names the configured template gives for sample ids."""
    names = []
    for instance_id in instance_ids:
        # Nova's own Instance.name applies the template (ids and %(uuid)s).
        instance = instance_obj.Instance(id=instance_id, uuid=SAMPLE_UUID)
        names.append((instance_id, instance.name))
    return names


def _check_name_template():
    for instance_id, name in sample_names():
        if not zvm_userid.is_valid(name):
            raise _invalid(
                '[DEFAULT] instance_name_template = %(tpl)s gives %(name)r '
                'for instance id %(id)#x, which is not a valid z/VM userid; '
                '%(fix)s' % {'tpl': CONF.instance_name_template,
                             'name': name, 'id': instance_id,
                             'fix': zvm_userid.FIX_HINT})
    for instance_id, name in sample_names(GROWTH_INSTANCE_IDS):
        if not zvm_userid.is_valid(name):
            LOG.warning('[DEFAULT] instance_name_template = %(tpl)s gives '
                        '%(name)r for instance id %(id)#x (%(id)d), which is '
                        'not a valid z/VM userid: once nova\'s instance ids '
                        'reach it, every build on this host fails. Use a '
                        'template with room to grow, e.g. \'z%%07x\'',
                        {'tpl': CONF.instance_name_template, 'name': name,
                         'id': instance_id})
            break


def _check_ca_file():
    path = CONF.zvm.ca_file
    if path and not (os.path.isfile(path) and os.access(path, os.R_OK)):
        raise _invalid('[zvm] ca_file = %s is missing or not readable by '
                       'nova-compute; point it at the PEM file of the CA '
                       'that signed the Cloud Connector\'s certificate and '
                       'make it readable, or unset it to use the system\'s '
                       'CA bundle' % path)


def _check_token_file():
    path = CONF.zvm.token_file
    if not path:
        return
    if not os.path.isfile(path):
        raise _invalid('[zvm] token_file = %s does not exist; copy the Cloud '
                       'Connector\'s admin token file there (mode 0600, '
                       'owned by the nova-compute user), or unset it when '
                       'the connector runs without authentication' % path)
    if not os.access(path, os.R_OK):
        raise _invalid('[zvm] token_file = %s is not readable by '
                       'nova-compute; make it owned by the nova-compute '
                       'user with mode 0600' % path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        LOG.warning('[zvm] token_file %(path)s is readable by other users '
                    '(mode %(mode)04o); restrict it with chmod 0600',
                    {'path': path, 'mode': mode})


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
