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

"""Glance images on the Cloud Connector, imported once per image.

A spawn needs its image in the connector's image repository. When it is not
there yet, the image streams from Glance into ``[zvm] image_tmp_path``, is
uploaded with ``file_import`` (plain HTTP(S), no SSH trust between the
hosts) and imported from that ``file://`` path with ``image_import``.

Single flight: a lock per image id makes concurrent spawns of one image
import it once while different images import in parallel. Another
nova-compute racing us makes the connector answer 409; the image is there
then, which is all we wanted.
"""

import collections
import os
import re
import threading

from nova.image import glance
from oslo_concurrency import lockutils
from oslo_log import log as logging
from oslo_utils import uuidutils

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import localfiles
from nova_zvm.virt import validate

CONF = conf.CONF
LOG = logging.getLogger(__name__)

_LOCK_PREFIX = 'nova-zvm-image-'

# Image ids being imported by this process (a count: one per importer).
_importing = collections.Counter()
_importing_lock = threading.Lock()


class ImageManager(object):
    """Makes Glance images available on the connector, one import each."""

    def __init__(self, client, image_api=None):
        self._client = client
        self._image_api = image_api

    @property
    def image_api(self):
        if self._image_api is None:
            self._image_api = glance.API()
        return self._image_api

    @staticmethod
    def connector_name(image_id):
        """The connector's name of Glance image ``image_id``: the id itself.

        A UUID fits the connector's image name schema (1-255 characters)
        and keeps images recognisable to operators and to nova's in-tree
        driver.
        """
        return image_id

    @staticmethod
    def image_id_for_name(name):
        """Glance image id of connector image ``name``; None if not ours.

        Ours: imported by nova-zvm on this host (recorded when imported).
        A uuid-like name alone is not enough: nova's in-tree driver, an
        operator or another host may have imported it.
        """
        if not uuidutils.is_uuid_like(name):
            return None
        return name if name in ImportRegistry() else None

    @staticmethod
    def importing():
        """Glance image ids this process is importing right now."""
        with _importing_lock:
            return [image_id for image_id, n in _importing.items() if n > 0]

    @staticmethod
    def local_path(image_id):
        """Where the download of ``image_id`` goes (its id in the path)."""
        return os.path.join(CONF.zvm.image_tmp_path, 'spawn',
                            image_id + '.img')

    def exists(self, name):
        try:
            return bool(self._client.image_query(imagename=name))
        except zvm_exception.NotFound:
            return False

    def ensure(self, context, image_meta):
        """Import the image unless the connector has it; returns its name."""
        image_id = image_meta.id
        name = self.connector_name(image_id)
        if self.exists(name):
            return name
        with lockutils.lock(_LOCK_PREFIX + image_id):
            # Someone holding the lock before us may have imported it.
            if self.exists(name):
                return name
            _mark(image_id, 1)
            try:
                self._import(context, image_meta, name)
            finally:
                _mark(image_id, -1)
        return name

    def _import(self, context, image_meta, name):
        os_version = validate.connector_os_version(image_meta)
        path = self.local_path(image_meta.id)
        LOG.info('Importing image %(id)s (%(os)s) into the Cloud Connector',
                 {'id': image_meta.id, 'os': os_version})
        meta = {'os_version': os_version}
        checksum = _md5_checksum(image_meta)
        if checksum:
            # The connector compares it with what it imported.
            meta['md5sum'] = checksum
        imported = False
        try:
            if not (CONF.zvm.keep_image_files and os.path.exists(path)):
                _download(self.image_api, context, image_meta.id, path)
            with open(path, 'rb') as image_file:
                remote = self._client.file_import(image_file)
            try:
                self._client.image_import(name, _file_url(remote), meta)
            except zvm_exception.Conflict:
                # A racing importer (another compute host) won: fine; it
                # owns the image.
                LOG.info('Image %s was imported concurrently', name)
            else:
                ImportRegistry().add(name)
            imported = True
        finally:
            # A partial or failed download is never kept.
            if not (imported and CONF.zvm.keep_image_files):
                localfiles.remove(path)


class ImportRegistry(object):
    """Connector images nova-zvm imported from this host.

    The image cache removes these and no others. One empty file per image
    name, under ``<instances_path>/nova-zvm/images``.
    """

    @property
    def path(self):
        return os.path.join(CONF.instances_path, 'nova-zvm', 'images')

    def add(self, name):
        localfiles.private_file(os.path.join(self.path, name))

    def discard(self, name):
        localfiles.remove(os.path.join(self.path, name))

    def __contains__(self, name):
        return os.path.exists(os.path.join(self.path, name))


def _download(image_api, context, image_id, path):
    """Download to a private temporary name, renamed once complete.

    A crash mid-download leaves only the temporary file, which the next
    download overwrites: a partial image is never imported.
    """
    partial = path + '.part'
    localfiles.private_file(partial)
    try:
        image_api.download(context, image_id, dest_path=partial)
        os.replace(partial, path)
    finally:
        localfiles.remove(partial)


def _md5_checksum(image_meta):
    checksum = (image_meta.obj_attr_is_set('checksum') and
                image_meta.checksum or '')
    return checksum if re.fullmatch(r'[0-9a-fA-F]{32}', checksum) else None


def _file_url(remote):
    """A ``file://`` URL for what file_import answered (path or dict)."""
    if isinstance(remote, dict):
        remote = remote.get('dest_url') or remote.get('path')
    return remote if remote.startswith('file://') else 'file://' + remote


def _mark(image_id, delta):
    with _importing_lock:
        _importing[image_id] += delta
        if _importing[image_id] <= 0:
            del _importing[image_id]
