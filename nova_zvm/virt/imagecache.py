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

"""The image cache: the connector's image repository and image_tmp_path.

Images pile up in two places: the Cloud Connector's image repository (one
copy per Glance image the host ever deployed, plus leftovers of crashed
snapshots) and ``[zvm] image_tmp_path`` (downloads and snapshot files).
Nova's image cache manager calls :func:`manage_image_cache` periodically;
it removes what no instance here uses and nothing touched for
``[image_cache] remove_unused_original_minimum_age_seconds``. Images of
instances, images being imported and snapshots being taken are never
removed, and neither is a connector image nova-zvm did not import from
this host (recorded at import) or capture (its own name prefix).
"""

import os
import re
import time

from nova.image import glance
from nova import objects
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import image
from nova_zvm.virt import localfiles
from nova_zvm.virt import snapshot

CONF = conf.CONF
LOG = logging.getLogger(__name__)

_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}', re.IGNORECASE)


def manage_image_cache(client, image_manager, context, all_instances,
                       now=None):
    """Remove unused, old images from the connector and image_tmp_path.

    :param image_manager: the driver's ``nova_zvm.virt.image.ImageManager``
        (its naming and the imports it has under way)
    :param all_instances: the instances nova counts as users of this host's
        images (an ``InstanceList``)
    :returns: ``(connector image names removed, local paths removed)``
    """
    if not CONF.image_cache.remove_unused_base_images:
        return [], []
    now = time.time() if now is None else now
    min_age = CONF.image_cache.remove_unused_original_minimum_age_seconds
    keep_ids = (_image_ids_in_use(all_instances) |
                set(image_manager.importing()) |
                snapshot.snapshots_in_progress())
    removed_images = _clean_connector(client, image_manager, keep_ids,
                                      now, min_age)
    removed_files = _clean_tmp_path(keep_ids, now, min_age)
    return removed_images, removed_files


def cache_image(client, image_manager, context, image_id, image_api=None):
    """Import Glance image ``image_id`` into the connector ahead of a spawn.

    :returns: True when it was imported now, False when the connector had it
    """
    name = image_manager.connector_name(image_id)
    if _connector_has(client, name):
        return False
    image_api = image_api or glance.API()
    image_meta = objects.ImageMeta.from_dict(image_api.get(context,
                                                           image_id))
    image_manager.ensure(context, image_meta)
    return True


def _image_ids_in_use(all_instances):
    return {inst.image_ref for inst in all_instances if inst.image_ref}


def _connector_has(client, name):
    try:
        return bool(client.image_query(imagename=name))
    except zvm_exception.NotFound:
        return False


def _clean_connector(client, image_manager, keep_ids, now, min_age):
    removed = []
    for record in client.image_query() or []:
        name = record.get('imagename') or ''
        image_id = (image_manager.image_id_for_name(name) or
                    snapshot.image_id_for_capture(name))
        if image_id is None:
            continue  # not ours: an operator's image
        if image_id in keep_ids:
            continue
        last_access = float(record.get('last_access_time') or -1)
        if last_access < 0:
            # The connector could not stat the file: age unknown, keep it.
            continue
        if now - last_access < min_age:
            continue
        try:
            client.image_delete(name)
        except zvm_exception.ZVMConnectorError as err:
            LOG.warning('Could not remove unused image %(name)s from the '
                        'Cloud Connector: %(err)s', {'name': name, 'err': err})
            continue
        image.ImportRegistry().discard(name)
        LOG.info('Removed image %(name)s from the Cloud Connector, unused '
                 'for %(age)d s', {'name': name, 'age': now - last_access})
        removed.append(name)
    return removed


def _clean_tmp_path(keep_ids, now, min_age):
    """Remove old files of image_tmp_path that belong to no kept image.

    Every file nova-zvm (and nova's in-tree z/VM driver) writes there has
    its Glance image id in its path; files without one are not ours.
    """
    root = CONF.zvm.image_tmp_path
    removed = []
    for dirpath, _dirs, files in os.walk(root):
        for fname in files:
            path = os.path.join(dirpath, fname)
            relative = os.path.relpath(path, root)
            if not _UUID.search(relative):
                continue
            if any(image_id in relative for image_id in keep_ids):
                continue
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            if now - max(st.st_mtime, st.st_atime) < min_age:
                continue
            if not localfiles.remove(path):
                continue
            LOG.info('Removed unused image file %s', path)
            removed.append(path)
    return removed
