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

"""The config drive every guest gets: nova's iso9660 builder, network
metadata included.

The Cloud Connector refuses a deploy without transport files, so a config
drive is built on every spawn (whatever ``force_config_drive`` says). It is
written under ``<instances_path>/<uuid>/``, uploaded with ``file_import``
and removed locally right after the upload (or on destroy).
"""

import os

from nova.api.metadata import base as instance_metadata
from nova import exception
from nova.virt import configdrive as nova_configdrive
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm.virt import localfiles

CONF = conf.CONF
LOG = logging.getLogger(__name__)

ISO_NAME = 'cfgdrive.iso'


def instance_dir(instance):
    return os.path.join(CONF.instances_path, instance.uuid)


def local_path(instance):
    return os.path.join(instance_dir(instance), ISO_NAME)


def build(instance, injected_files, admin_password, network_info):
    """Write the instance's config drive; returns its local path."""
    if CONF.config_drive_format != 'iso9660':
        raise exception.ConfigDriveUnsupportedFormat(
            format=CONF.config_drive_format)
    extra_md = {'admin_pass': admin_password} if admin_password else {}
    metadata = instance_metadata.InstanceMetadata(
        instance, content=injected_files, extra_md=extra_md,
        network_info=network_info)
    path = local_path(instance)
    # It holds the admin password and user data.
    localfiles.private_file(path)
    with nova_configdrive.ConfigDriveBuilder(instance_md=metadata) as cdb:
        cdb.make_drive(path)
    LOG.debug('Config drive written to %s', path, instance=instance)
    return path


def upload(client, path):
    """Upload the config drive; returns its path on the connector host."""
    with open(path, 'rb') as iso:
        remote = client.file_import(iso)
    if isinstance(remote, dict):
        remote = remote.get('dest_url')
    if remote.startswith('file://'):
        remote = remote[len('file://'):]
    return remote


def remove(instance):
    """Remove the local config drive and the instance dir once empty."""
    path = local_path(instance)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    try:
        os.rmdir(instance_dir(instance))
    except OSError:
        # Not there, or holds files nova-zvm did not write: leave it.
        pass
