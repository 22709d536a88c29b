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

"""Snapshot a guest's root disk into a Glance image.

The path of one snapshot::

    guest_capture  -> the connector writes the root disk into its image
                      repository under a temporary name (it stops a running
                      guest for the copy and starts it again)
    image_export   -> the connector copies that image into a file of its
                      own file repository (made by an empty file_import
                      and reused by later snapshots)
    file_export    -> the file streams back to ``[zvm] image_tmp_path``
                      over HTTP(S): no SSH trust between the two hosts
    glance update  -> the file streams to Glance with the properties a later
                      spawn needs

Whatever happens, the temporary connector image and the local file are
removed; on failure the Glance image is deleted too, and the guest is left
in the power state it had before.
"""

import collections
import contextlib
import io
import os
import threading

from nova.compute import task_states
from nova import exception as nova_exception
from nova.i18n import _
from nova.image import glance
from nova.objects import fields as obj_fields
from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import localfiles
from nova_zvm.virt import power
from nova_zvm.virt import userid as zvm_userid

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# Prefix of the connector image a capture writes; the image cache skips
# snapshots in progress and cleans up leftovers of crashed ones.
CAPTURE_PREFIX = 'nova-snap-'

_CAPTURING = 'capturing the root disk on z/VM'

_in_progress = set()
_in_progress_lock = threading.Lock()


class SnapshotFailed(nova_exception.NovaException):
    msg_fmt = _("Snapshot %(image_id)s of instance %(instance)s failed "
                "while %(step)s: %(reason)s")


def capture_name(image_id):
    """Name of the temporary connector image a snapshot captures into."""
    return CAPTURE_PREFIX + image_id


def image_id_for_capture(name):
    """The Glance image id of capture ``name``; None if not a capture."""
    if name.startswith(CAPTURE_PREFIX):
        return name[len(CAPTURE_PREFIX):]
    return None


def snapshots_in_progress():
    """Glance image ids of the snapshots this process is taking now."""
    with _in_progress_lock:
        return set(_in_progress)


def local_snapshot_dir():
    return os.path.join(CONF.zvm.image_tmp_path, 'snapshots')


def snapshot(client, context, instance, image_id, update_task_state,
             image_api=None):
    """Capture ``instance``'s root disk and upload it as Glance ``image_id``.

    :param client: a ``nova_zvm.client.ZVMClient``
    :param image_api: a ``nova.image.glance.API`` (a new one when None)
    :raises SnapshotFailed: naming the step that failed; nothing of the
        snapshot is left behind (Glance, connector, local file)
    """
    image_api = image_api or glance.API()
    userid = zvm_userid.for_instance(instance)
    name = capture_name(image_id)
    local_path = os.path.join(local_snapshot_dir(), image_id + '.img')
    with _in_progress_lock:
        _in_progress.add(image_id)
    step = 'preparing'
    try:
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        step = _CAPTURING
        _capture(client, instance, userid, name)
        step = 'copying the image from the Cloud Connector'
        exported = _export(client, name, local_path)
        step = 'uploading the image to Glance'
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        _upload(image_api, context, instance, image_id, local_path,
                exported.get('os_version'))
    except Exception as err:
        LOG.error('Snapshot %(image)s failed while %(step)s: %(err)s',
                  {'image': image_id, 'step': step, 'err': err},
                  instance=instance)
        _delete_glance_image(image_api, context, image_id, instance)
        # Nova's own exceptions (instance deleted meanwhile, unexpected task
        # state, image deleted) carry meaning to the compute manager, and so
        # does a guest gone before the capture (the driver turns it into
        # InstanceNotFound).
        if isinstance(err, nova_exception.NovaException) or (
                step == _CAPTURING and
                isinstance(err, zvm_exception.NotFound)):
            raise
        raise SnapshotFailed(image_id=image_id, instance=instance.uuid,
                             step=step, reason=err) from err
    finally:
        _delete_connector_image(client, name, instance)
        localfiles.remove(local_path)
        with _in_progress_lock:
            _in_progress.discard(image_id)
    LOG.info('Snapshot %s uploaded to Glance', image_id, instance=instance)


def _capture(client, instance, userid, name):
    """Capture the root disk; the guest ends in the power state it had.

    The connector stops a running guest for the copy and starts it again
    only when the capture succeeds, so a failure would leave it stopped.
    A paused guest is reported as running and comes back unpaused.
    """
    power_before = client.guest_get_power_state(userid)
    paused = userid in power.PauseRegistry()
    try:
        client.guest_capture(userid, name, capture_type='rootonly')
    finally:
        _restore_power_state(client, instance, userid, power_before, paused)


def _restore_power_state(client, instance, userid, power_before, paused):
    try:
        power_now = client.guest_get_power_state(userid)
        if power_now != power_before:
            LOG.info('Restoring power state %s after capture', power_before,
                     instance=instance)
            if power_before == 'on':
                client.guest_start(userid)
            else:
                client.guest_stop(userid)
        if paused and power_before == 'on':
            # Pausing a paused guest changes nothing on z/VM.
            client.guest_pause(userid)
    except Exception as err:
        # Never mask the capture's own outcome; the power sync reports it.
        LOG.warning('Could not restore power state %(state)s after '
                    'capture: %(err)s',
                    {'state': power_before, 'err': err}, instance=instance)


def _export(client, name, local_path):
    """Bring connector image ``name`` to ``local_path``, streamed.

    The Cloud Connector only exports into a path on its own host, and only
    streams files back from there.
    """
    with _export_slots.slot(client) as remote_path:
        exported = client.image_export(name, 'file://' + remote_path)
        localfiles.private_dir(os.path.dirname(local_path))
        client.file_export(remote_path, local_path)
    return exported or {}


class _ExportSlots(object):
    """Files in the connector's file repository that exports write over.

    An empty ``file_import`` makes such a file. The connector has no call
    that deletes one, so each is reused by later snapshots instead of every
    snapshot leaving a copy of its image behind: their number stays at the
    most snapshots this process ever exported at the same time. A slot
    whose export failed is dropped (its state is unknown).
    """

    def __init__(self):
        self._free = collections.defaultdict(list)  # connector URL -> paths
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self, client):
        with self._lock:
            free = self._free[client.url]
            path = free.pop() if free else None
        if path is None:
            path = client.file_import(io.BytesIO(b''))
        yield path
        # Only reached when the export worked.
        with self._lock:
            self._free[client.url].append(path)


_export_slots = _ExportSlots()


def _upload(image_api, context, instance, image_id, local_path,
            captured_os_version):
    properties = {
        'architecture': obj_fields.Architecture.S390X,
        'hypervisor_type': obj_fields.HVType.ZVM,
        'image_location': 'snapshot',
        'image_state': 'available',
        'owner_id': instance.project_id,
    }
    # The connector may record the guest's os version upper-cased; Glance's
    # os_distro (and the connector's import) want it lower-case.
    os_distro = (instance.image_meta.properties.get('os_distro') or
                 (captured_os_version or '').lower())
    if os_distro:
        properties['os_distro'] = os_distro
    metadata = {'disk_format': 'raw', 'container_format': 'bare',
                'properties': properties}
    # Binary mode and a file object: Glance reads it in chunks.
    with open(local_path, 'rb') as image_file:
        image_api.update(context, image_id, metadata, data=image_file,
                         purge_props=False)


def _delete_glance_image(image_api, context, image_id, instance):
    try:
        image_api.delete(context, image_id)
    except nova_exception.ImageNotFound:
        pass
    except Exception as err:
        LOG.warning('Could not delete Glance image %(image)s after a failed '
                    'snapshot: %(err)s', {'image': image_id, 'err': err},
                    instance=instance)


def _delete_connector_image(client, name, instance):
    try:
        # The connector answers success for an image it does not have.
        client.image_delete(name)
    except Exception as err:
        LOG.warning('Could not delete connector image %(name)s: %(err)s; '
                    'the image cache removes it later',
                    {'name': name, 'err': err}, instance=instance)
