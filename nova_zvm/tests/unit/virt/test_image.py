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

"""Images on the connector: one import per image, files cleaned up."""

import hashlib
import os
import stat
import threading
from unittest import mock

import fixtures
from oslo_concurrency import lockutils
from oslo_config import fixture as config_fixture
import testtools

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import spawn

CONF = spawn_base.CONF


class TestImageManager(spawn_base.SpawnTestCase):

    def _manager(self):
        return image.ImageManager(self.client, image_api=self.glance)

    def _imports(self):
        return [c for c in self.lab.zvm.rest_calls()
                if c.startswith('POST /images')]

    def test_import_once_then_cached(self):
        meta = self.glance.add()
        self.lab.zvm.reset_rest_calls()
        name = self._manager().ensure(self.context, meta)
        self.assertEqual(meta.id, name)
        self.assertEqual(meta.id, self.client.image_query(
            imagename=name)[0]['imagename'])
        self._manager().ensure(self.context, meta)
        self.assertEqual(1, len(self._imports()))
        self.assertEqual([meta.id], self.glance.downloads)
        # the download is removed once the connector holds the image
        self.assertEqual([], self.local_files())

    def test_keep_image_files(self):
        self.conf.config(group='zvm', keep_image_files=True)
        meta = self.glance.add()
        self._manager().ensure(self.context, meta)
        kept = self.local_files()
        self.assertEqual(1, len(kept))
        self.assertIn(meta.id, kept[0])

    def test_failed_download_leaves_no_file(self):
        self.conf.config(group='zvm', keep_image_files=True)
        meta = self.glance.add()

        def broken(context, image_id, dest_path=None, **kw):
            with open(dest_path, 'wb') as f:
                f.write(b'partial')
            raise IOError('glance went away')

        self.glance.download = broken
        self.assertRaises(IOError, self._manager().ensure, self.context,
                          meta)
        self.assertEqual([], self.local_files())
        self.assertNotIn(meta.id, [i['imagename'] for i in
                                   self.client.image_query() or []])

    def test_failed_import_fails_the_spawn_and_leaves_nothing(self):
        meta = self.glance.add()
        inst = self.instance()
        self.lab.zvm.inject_fault('cmd:hexdump', rc=1)
        self.assertRaises(
            zvm_exception.ZVMConnectorError, spawn.spawn, self.client,
            self.virtapi, self.context, inst, meta, [], None, {}, [],
            image_manager=self._manager())
        self.assertIsNone(self.user(inst.name))
        self.assertEqual([], self.local_files())
        self.assertNotIn(meta.id, [i['imagename'] for i in
                                   self.client.image_query() or []])

    def test_conflict_from_a_racing_import_is_success(self):
        meta = self.glance.add()
        self._manager().ensure(self.context, meta)

        class Blind(image.ImageManager):
            # Another host imported it between our check and our import.
            def exists(self, name):
                return False

        blind = Blind(self.client, image_api=self.glance)
        self.assertEqual(meta.id, blind.ensure(self.context, meta))
        self.assertEqual([], self.local_files())

    def test_other_images_do_not_wait_for_one_import(self):
        slow, other = self.glance.add(), self.glance.add()
        # An import of ``slow`` holds its lock; ``other`` must not wait.
        with lockutils.lock('nova-zvm-image-' + slow.id):
            done = threading.Event()
            t = threading.Thread(target=lambda: (
                self._manager().ensure(self.context, other), done.set()))
            t.start()
            self.assertTrue(done.wait(60), 'import of another image waited')
            t.join()

    def test_importing_lists_images_under_way(self):
        meta = self.glance.add()
        seen = []
        real = self.glance.download

        def spy(context, image_id, **kw):
            seen.extend(image.ImageManager.importing())
            return real(context, image_id, **kw)

        self.glance.download = spy
        self._manager().ensure(self.context, meta)
        self.assertEqual([meta.id], seen)
        self.assertNotIn(meta.id, image.ImageManager.importing())

    def test_eight_concurrent_spawns_of_two_images_import_two(self):
        images = [self.glance.add(), self.glance.add()]
        manager = self._manager()
        self.lab.zvm.reset_rest_calls()
        instances = [self.instance(root_gb=5) for _ in range(8)]
        errors = []

        def run(inst, meta):
            try:
                spawn.spawn(self.client, self.virtapi, self.context, inst,
                            meta, [], None, {}, [], power_on=False,
                            image_manager=manager)
            except Exception as err:  # reported below
                errors.append(err)

        threads = [threading.Thread(target=run,
                                    args=(inst, images[i % 2]))
                   for i, inst in enumerate(instances)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for inst in instances:
            self.addCleanup(spawn.destroy, self.client, self.context, inst,
                            [])
        self.assertEqual([], errors)
        self.assertEqual(2, len(self._imports()), self._imports())
        self.assertEqual(sorted(m.id for m in images),
                         sorted(self.glance.downloads))
        users = self.lab.zvm.state()['users']
        for inst in instances:
            self.assertIn(inst.name.upper(), users)


class TestConnectorNames(testtools.TestCase):

    def test_names_round_trip(self):
        self.useFixture(config_fixture.Config(CONF)).config(
            instances_path=self.useFixture(fixtures.TempDir()).path)
        image_id = 'a0e5f6d2-1c3b-4f6e-9a7b-0c1d2e3f4a5b'
        name = image.ImageManager.connector_name(image_id)
        # Not imported by nova-zvm: not ours.
        self.assertIsNone(image.ImageManager.image_id_for_name(name))
        image.ImportRegistry().add(name)
        self.assertEqual(image_id, image.ImageManager.image_id_for_name(name))
        self.assertIsNone(image.ImageManager.image_id_for_name('rhel-gold'))
        self.assertIsNone(image.ImageManager.image_id_for_name(
            'nova-snap-' + image_id))

    def test_local_path_holds_the_image_id(self):
        path = image.ImageManager.local_path('abc')
        self.assertIn('abc', os.path.basename(path))


class TestImageFiles(spawn_base.SpawnTestCase):
    """Downloads are private, complete, and checked by the connector."""

    def setUp(self):
        super().setUp()
        # The usual umask: files 0644, directories 0755 unless made private.
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)

    def _manager(self):
        return image.ImageManager(self.client, image_api=self.glance)

    def _on_connector(self, image_id):
        return image_id in [i['imagename'] for i in
                            self.client.image_query() or []]

    def test_kept_download_is_private(self):
        self.conf.config(group='zvm', keep_image_files=True)
        meta = self.glance.add()
        self._manager().ensure(self.context, meta)
        path = image.ImageManager.local_path(meta.id)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual(0o700, stat.S_IMODE(
            os.stat(os.path.dirname(path)).st_mode))

    def test_download_cut_by_a_crash_is_not_imported_later(self):
        self.conf.config(group='zvm', keep_image_files=True)
        meta = self.glance.add()
        good = self.glance.download

        def crash(context, image_id, dest_path=None, **kw):
            with open(dest_path, 'wb') as f:
                f.write(b'partial')
            raise SystemExit('nova-compute killed')

        self.glance.download = crash
        # Killed: no cleanup runs.
        with mock.patch.object(image.localfiles, 'remove'):
            self.assertRaises(SystemExit, self._manager().ensure,
                              self.context, meta)
        self.glance.download = good
        self._manager().ensure(self.context, meta)
        # Before: the partial file sat at the final path and was imported.
        with open(image.ImageManager.local_path(meta.id), 'rb') as f:
            self.assertEqual(self.glance.images[meta.id][1], f.read())
        self.assertTrue(self._on_connector(meta.id))

    def test_the_connector_checks_glance_checksum(self):
        data = spawn_base.disk_image()
        bad = self.glance.add(data=data, checksum='0' * 32)
        self.assertRaises(zvm_exception.ZVMConnectorError,
                          self._manager().ensure, self.context, bad)
        self.assertFalse(self._on_connector(bad.id))
        good = self.glance.add(data=data,
                               checksum=hashlib.md5(data).hexdigest())
        self._manager().ensure(self.context, good)
        self.assertTrue(self._on_connector(good.id))
