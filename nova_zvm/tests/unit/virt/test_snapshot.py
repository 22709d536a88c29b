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

"""Snapshot on the lab: what reaches Glance, what is left anywhere."""

import os
import re
import stat

import fixtures
from nova.compute import task_states
from nova import exception as nova_exception
from nova import objects
from oslo_utils import uuidutils
import testtools

from nova_zvm import exception as zvm_exception
from nova_zvm.lab import images as lab_images
from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import power
from nova_zvm.virt import snapshot
from nova_zvm.virt import spawn

CONF = spawn_base.CONF

# What the connector parses in an image file's first 48 bytes.
# The tags z/VM's unpackdiskimage accepts (feilong zthin-parts).
_HEADER = re.compile(rb'^xCAT (CKD|FBA) Disk Image:')


def _files(root):
    return sorted(os.path.join(d, f) for d, _s, fs in os.walk(root)
                  for f in fs)


class FakeGlance(spawn_base.FakeImageAPI):
    """Adds what a snapshot uses: update with data, and delete.

    The upload is read in chunks as glanceclient does; a text-mode file
    would hand over ``str`` and is refused. ``fail_upload`` (an exception)
    breaks the upload after its first chunk.
    """

    CHUNK = 64 * 1024

    def __init__(self):
        super().__init__()
        self.fail_upload = None
        self.upload_chunks = 0

    def new_snapshot(self, **properties):
        """A queued image, as nova's compute API creates before snapshot."""
        image_id = uuidutils.generate_uuid()
        record = {'id': image_id, 'name': 'snap-' + image_id[:8],
                  'status': 'queued', 'min_disk': 0, 'min_ram': 0,
                  'properties': dict(properties)}
        self.images[image_id] = (record, b'')
        return image_id

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        if image_id not in self.images:
            raise nova_exception.ImageNotFound(image_id=image_id)
        record, received = self.images[image_id]
        if data is not None:
            chunks = []
            while True:
                chunk = data.read(self.CHUNK)
                if not chunk:
                    break
                if not isinstance(chunk, bytes):
                    raise TypeError('image data must be bytes, got %s'
                                    % type(chunk).__name__)
                chunks.append(chunk)
                self.upload_chunks += 1
                if self.fail_upload is not None:
                    raise self.fail_upload
            received = b''.join(chunks)
        record = dict(record)
        props = dict(record['properties'])
        if purge_props:
            props = {}
        props.update(metadata.get('properties', {}))
        record.update({k: v for k, v in metadata.items()
                       if k != 'properties'})
        record['properties'] = props
        if data is not None:
            record['status'] = 'active'
            record['size'] = len(received)
        self.images[image_id] = (record, received)
        return dict(record)

    def delete(self, context, image_id):
        if self.images.pop(image_id, None) is None:
            raise nova_exception.ImageNotFound(image_id=image_id)
        return True


class SnapshotTestCase(spawn_base.SpawnTestCase):

    def setUp(self):
        super().setUp()
        self.glance = FakeGlance()
        self.manager = image.ImageManager(self.client, image_api=self.glance)
        self.task_states = []

    def update_task_state(self, task_state, expected_state=None):
        self.task_states.append((task_state, expected_state))

    def spawned(self, power_on=True, os_distro='rhel8.6', image_ref=None):
        """A guest deployed from a Glance image, running or stopped."""
        if image_ref is None:
            base = self.glance.add(properties={'os_distro': os_distro})
        else:
            base = objects.ImageMeta.from_dict(
                self.glance.get(self.context, image_ref))
        inst = self.instance(image_ref=base.id)
        # What nova keeps of the image in the instance (image_meta).
        inst.system_metadata = {'image_os_distro': os_distro,
                                'image_disk_format': 'raw'}
        spawn.spawn(self.client, self.virtapi, self.context, inst, base,
                    [], 'secret', {}, [], image_manager=self.manager,
                    power_on=power_on)
        self.addCleanup(spawn.destroy, self.client, self.context, inst, [])
        return inst

    def take(self, inst, image_id):
        snapshot.snapshot(self.client, self.context, inst, image_id,
                          self.update_task_state, image_api=self.glance)

    def power(self, inst):
        return self.user(inst.name)['power']

    def assert_nothing_left(self, image_id):
        self.assertNotIn(image_id, self.glance.images, 'Glance image kept')
        names = [i['imagename'] for i in self.client.image_query()]
        self.assertEqual([], [n for n in names if image_id in n],
                         'connector image kept')
        self.assertEqual([], [f for f in self.local_files()
                              if image_id in f], 'local file kept')
        self.assertEqual(set(), snapshot.snapshots_in_progress())


class TestSnapshot(SnapshotTestCase):

    def _check_uploaded(self, image_id):
        record, data = self.glance.images[image_id]
        header = _HEADER.match(data[:48])
        self.assertIsNotNone(header, data[:48])
        # The connector's parser: a right-aligned size at bytes 20-31 and
        # the unit at 33-35.
        self.assertGreater(int(data[20:32]), 0)
        self.assertIn(data[33:36], (b'CYL', b'BLK'))
        # unpackdiskimage's parser: HLen at 37, one 512-byte header block.
        self.assertIsNotNone(lab_images.parse_header(data))
        self.assertEqual(b' HLen: 0055', data[36:47])
        self.assertEqual(b' ' * (512 - 55), data[55:512])
        self.assertEqual('raw', record['disk_format'])
        self.assertEqual('bare', record['container_format'])
        self.assertEqual('active', record['status'])
        props = record['properties']
        self.assertEqual('rhel8.6', props['os_distro'])
        self.assertEqual('s390x', props['architecture'])
        self.assertEqual('zvm', props['hypervisor_type'])
        return data

    def test_running_guest_keeps_running(self):
        inst = self.spawned(power_on=True)
        image_id = self.glance.new_snapshot(kept='yes')
        self.lab.zvm.reset_calls()

        self.take(inst, image_id)

        self._check_uploaded(image_id)
        # Properties nova's API put on the image survive (no purge).
        self.assertEqual('yes',
                         self.glance.images[image_id][0]['properties']['kept'])
        self.assertEqual('on', self.power(inst))
        # It really was stopped for the copy of its disk.
        self.assertIn('zthin:creatediskimage', self.lab.zvm.calls())
        self.assertEqual(
            [(task_states.IMAGE_PENDING_UPLOAD, None),
             (task_states.IMAGE_UPLOADING, task_states.IMAGE_PENDING_UPLOAD)],
            self.task_states)
        # Only the Glance image remains: no capture, no local file.
        self.glance.images.pop(image_id)
        self.assert_nothing_left(image_id)

    def test_stopped_guest_stays_stopped(self):
        inst = self.spawned(power_on=False)
        self.assertEqual('off', self.power(inst))
        image_id = self.glance.new_snapshot()

        self.take(inst, image_id)

        self._check_uploaded(image_id)
        self.assertEqual('off', self.power(inst))

    def test_snapshots_reuse_their_file_on_the_connector(self):
        # The connector cannot delete files of its file repository: a
        # second snapshot writes over the first one's file.
        inst = self.spawned(power_on=False)
        self.take(inst, self.glance.new_snapshot())
        repository = os.path.join(self.lab.state_dir, 'files')
        files_before = _files(repository)

        second = self.glance.new_snapshot()
        self.take(inst, second)

        self.assertEqual(files_before, _files(repository))
        self._check_uploaded(second)

    def test_paused_guest_stays_paused(self):
        inst = self.spawned(power_on=True)
        # As the driver pauses: the connector call and its own record.
        self.client.guest_pause(inst.name)
        power.PauseRegistry().add(inst.name.upper())
        image_id = self.glance.new_snapshot()

        self.take(inst, image_id)

        self._check_uploaded(image_id)
        self.assertEqual('paused', self.power(inst))

    def test_os_distro_falls_back_to_the_captured_one(self):
        inst = self.spawned(power_on=False)
        inst.system_metadata = {}
        image_id = self.glance.new_snapshot()

        self.take(inst, image_id)

        props = self.glance.images[image_id][0]['properties']
        self.assertEqual('rhel8.6', props['os_distro'])

    def test_spawn_from_the_snapshot(self):
        inst = self.spawned(power_on=True)
        image_id = self.glance.new_snapshot()
        self.take(inst, image_id)

        clone = self.spawned(image_ref=image_id)

        self.assertEqual('on', self.power(clone))
        # The uploaded bytes were imported as the snapshot's own image
        # and unpacked onto the clone's root disk.
        names = [i['imagename'] for i in self.client.image_query()]
        self.assertIn(image_id, names)
        disks = self.user(clone.name)['minidisks']
        self.assertIn('image', [d.get('format') for d in disks.values()])


class TestSnapshotFailures(SnapshotTestCase):

    def test_capture_failure_leaves_nothing_and_guest_running(self):
        inst = self.spawned(power_on=True)
        image_id = self.glance.new_snapshot()
        self.lab.zvm.inject_fault('zthin:creatediskimage', rc=1)

        err = self.assertRaises(snapshot.SnapshotFailed, self.take, inst,
                                image_id)

        self.assertIn('capturing', str(err))
        self.assert_nothing_left(image_id)
        # The connector stopped it for the capture and gave up; we did not.
        self.assertEqual('on', self.power(inst))

    def test_export_failure_leaves_nothing(self):
        inst = self.spawned(power_on=False)
        image_id = self.glance.new_snapshot()
        real_export = self.client.file_export

        def broken_export(connector_path, dest_path):
            # The stream breaks after the file arrived: it must not stay.
            real_export(connector_path, dest_path)
            raise zvm_exception.ConnectionFailed(
                errmsg='connection reset by peer', api='file_export')

        self.client.file_export = broken_export

        err = self.assertRaises(snapshot.SnapshotFailed, self.take, inst,
                                image_id)

        self.assertIn('copying the image', str(err))
        self.assertIsInstance(err.__cause__, zvm_exception.ConnectionFailed)
        self.assert_nothing_left(image_id)
        self.assertEqual('off', self.power(inst))

    def test_upload_failure_leaves_nothing(self):
        inst = self.spawned(power_on=True)
        image_id = self.glance.new_snapshot()
        self.glance.fail_upload = OSError('glance went away')

        err = self.assertRaises(snapshot.SnapshotFailed, self.take, inst,
                                image_id)

        self.assertIn('uploading', str(err))
        self.assertEqual(1, self.glance.upload_chunks)
        self.assert_nothing_left(image_id)
        self.assertEqual('on', self.power(inst))

    def test_guest_gone_is_not_found(self):
        # The driver turns this into InstanceNotFound: nova's manager then
        # knows the instance was deleted during the snapshot.
        inst = self.instance()
        image_id = self.glance.new_snapshot()

        self.assertRaises(zvm_exception.NotFound, self.take, inst, image_id)
        self.assert_nothing_left(image_id)

    def test_nova_errors_pass_through_after_cleanup(self):
        # The instance was deleted meanwhile: nova's manager knows this
        # exception, so it is not wrapped.
        inst = self.spawned(power_on=False)
        image_id = self.glance.new_snapshot()

        def deleted(task_state, expected_state=None):
            if task_state == task_states.IMAGE_UPLOADING:
                raise nova_exception.UnexpectedDeletingTaskStateError(
                    instance_uuid=inst.uuid, expected='image_pending_upload',
                    actual='deleting')

        self.assertRaises(nova_exception.UnexpectedDeletingTaskStateError,
                          snapshot.snapshot, self.client, self.context, inst,
                          image_id, deleted, image_api=self.glance)
        self.assert_nothing_left(image_id)


class TestCaptureNames(testtools.TestCase):

    def test_round_trip(self):
        image_id = uuidutils.generate_uuid()
        name = snapshot.capture_name(image_id)
        self.assertEqual(image_id, snapshot.image_id_for_capture(name))
        self.assertIsNone(snapshot.image_id_for_capture(image_id))
        # Never the name spawn's ImageManager gives the same image.
        self.assertNotEqual(image.ImageManager.connector_name(image_id),
                            name)


class TestDriverSnapshot(driver_base.DriverTestCase):
    """ZVMDriver.snapshot: what nova's compute manager gets to see."""

    def setUp(self):
        super().setUp()
        self.glance = FakeGlance()
        self.useFixture(fixtures.MonkeyPatch(
            'nova_zvm.virt.snapshot.glance.API', lambda: self.glance))

    @staticmethod
    def no_op(task_state, expected_state=None):
        pass

    def test_vanished_guest_is_instance_not_found(self):
        inst = self.instance()
        image_id = self.glance.new_snapshot()

        self.assertRaises(nova_exception.InstanceNotFound,
                          self.driver.snapshot, self.context, inst, image_id,
                          self.no_op)
        self.assertNotIn(image_id, self.glance.images)

    def test_failed_capture_is_a_clear_nova_error(self):
        inst = self.guest(power='on')    # a guest without any disk
        image_id = self.glance.new_snapshot()

        err = self.assertRaises(snapshot.SnapshotFailed,
                                self.driver.snapshot, self.context, inst,
                                image_id, self.no_op)

        self.assertIn('capturing the root disk', str(err))
        self.assertNotIn(image_id, self.glance.images)
        self.assertEqual('on', self.zvm_power(inst))


class TestSnapshotFilesPrivate(SnapshotTestCase):

    def test_root_disk_copy_is_private(self):
        # The usual umask would make it 0644 in a 0755 directory.
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)
        inst = self.spawned(power_on=False)
        image_id = self.glance.new_snapshot()
        modes = []
        update = self.glance.update

        def seeing_the_file(context, image_id, metadata, data=None,
                            **kwargs):
            if data is not None:
                modes.append((
                    stat.S_IMODE(os.fstat(data.fileno()).st_mode),
                    stat.S_IMODE(os.stat(
                        snapshot.local_snapshot_dir()).st_mode)))
            return update(context, image_id, metadata, data=data, **kwargs)

        self.glance.update = seeing_the_file
        self.take(inst, image_id)
        self.assertEqual([(0o600, 0o700)], modes)
