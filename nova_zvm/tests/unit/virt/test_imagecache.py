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

"""The image cache on the lab: what stays, what goes."""

import glob
import io
import os
import threading
import time

import fixtures
from oslo_utils import uuidutils

from nova_zvm.tests.unit.virt import driver_base
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import imagecache
from nova_zvm.virt import snapshot

CONF = spawn_base.CONF
DAY = 24 * 3600


class BlockingImageAPI(spawn_base.FakeImageAPI):
    """A download that holds on until the test lets it finish."""

    def __init__(self):
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def download(self, context, image_id, data=None, dest_path=None,
                 trusted_certs=None):
        super().download(context, image_id, data=data, dest_path=dest_path)
        self.started.set()
        self.release.wait(30)


class TestImageCache(spawn_base.SpawnTestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(group='image_cache',
                         remove_unused_original_minimum_age_seconds=DAY)
        self.manager = image.ImageManager(self.client, image_api=self.glance)

    # Builders and views --------------------------------------------------

    def imported(self, name=None):
        """A Glance image imported into the connector; its id."""
        meta = self.glance.add()
        if name is None:
            self.manager.ensure(self.context, meta)
            return meta.id
        remote = self.client.file_import(
            io.BytesIO(self.glance.images[meta.id][1]))
        self.client.image_import(name, 'file://' + remote,
                                 {'os_version': 'rhel8.6'})
        return name

    def age_on_connector(self, name, seconds):
        """Make the connector's copy of ``name`` look unused for a while."""
        pattern = os.path.join(self.lab.state_dir, 'images', 'netboot', '*',
                               name, '*')
        files = glob.glob(pattern)
        self.assertNotEqual([], files, pattern)
        past = time.time() - seconds
        for path in files:
            os.utime(path, (past, past))

    def local_file(self, image_id, seconds_old):
        path = image.ImageManager.local_path(image_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(b'image bytes')
        past = time.time() - seconds_old
        os.utime(path, (past, past))
        return path

    def connector_names(self):
        return {i['imagename'] for i in self.client.image_query()}

    def run_cache(self, instances=()):
        return imagecache.manage_image_cache(self.client, self.manager,
                                             self.context, list(instances))

    # Tests ---------------------------------------------------------------

    def test_removes_old_unused_keeps_used_and_young(self):
        old_unused = self.imported()
        old_used = self.imported()
        young = self.imported()
        for image_id in (old_unused, old_used):
            self.age_on_connector(image_id, 2 * DAY)
        user = self.instance(image_ref=old_used)

        removed, _files = self.run_cache([user])

        names = self.connector_names()
        self.assertNotIn(old_unused, names)
        self.assertIn(old_used, names)
        self.assertIn(young, names)
        self.assertIn(old_unused, removed)

    def test_keeps_images_it_did_not_create(self):
        golden = self.imported(name='golden-rhel8')
        self.age_on_connector(golden, 30 * DAY)
        # Named like a Glance image, imported by someone else (nova's
        # in-tree driver, another host): before, it was removed.
        other = self.imported(name=uuidutils.generate_uuid())
        self.age_on_connector(other, 30 * DAY)
        ours = self.imported()
        self.age_on_connector(ours, 30 * DAY)

        removed, _files = self.run_cache()

        self.assertIn(golden, self.connector_names())
        self.assertIn(other, self.connector_names())
        self.assertEqual([ours], removed)

    def test_removes_leftover_captures_but_not_running_snapshots(self):
        leftover = self.imported(
            name=snapshot.capture_name(uuidutils.generate_uuid()))
        running_id = uuidutils.generate_uuid()
        running = self.imported(name=snapshot.capture_name(running_id))
        for name in (leftover, running):
            self.age_on_connector(name, 2 * DAY)
        with snapshot._in_progress_lock:
            snapshot._in_progress.add(running_id)
        self.addCleanup(snapshot._in_progress.discard, running_id)

        self.run_cache()

        names = self.connector_names()
        self.assertNotIn(leftover, names)
        self.assertIn(running, names)

    def test_local_files(self):
        old_unused = self.local_file(uuidutils.generate_uuid(), 2 * DAY)
        used_id = uuidutils.generate_uuid()
        old_used = self.local_file(used_id, 2 * DAY)
        young = self.local_file(uuidutils.generate_uuid(), 60)
        # Someone else's file: no image id in its name.
        foreign = os.path.join(CONF.zvm.image_tmp_path, 'notes.txt')
        with open(foreign, 'w') as f:
            f.write('keep me')
        os.utime(foreign, (time.time() - 9 * DAY,) * 2)

        _images, removed = self.run_cache([self.instance(image_ref=used_id)])

        self.assertEqual([old_unused], removed)
        self.assertEqual(sorted([old_used, young, foreign]),
                         sorted(self.local_files()))

    def test_never_an_image_being_imported(self):
        # Its download sits in image_tmp_path, and "now" is days later.
        self.glance = BlockingImageAPI()
        self.manager = image.ImageManager(self.client, image_api=self.glance)
        meta = self.glance.add()
        importer = threading.Thread(target=self.manager.ensure,
                                    args=(self.context, meta))
        importer.start()
        self.addCleanup(importer.join, 30)
        self.addCleanup(self.glance.release.set)
        self.assertTrue(self.glance.started.wait(30))

        _images, removed = imagecache.manage_image_cache(
            self.client, self.manager, self.context, [],
            now=time.time() + 10 * DAY)

        self.assertEqual([], removed)
        self.glance.release.set()
        importer.join(30)
        self.assertIn(meta.id, self.connector_names())

    def test_switched_off(self):
        self.conf.config(group='image_cache', remove_unused_base_images=False)
        old = self.imported()
        self.age_on_connector(old, 2 * DAY)
        path = self.local_file(uuidutils.generate_uuid(), 2 * DAY)

        self.run_cache()

        self.assertIn(old, self.connector_names())
        self.assertEqual([path], self.local_files())


class TestCacheImage(spawn_base.SpawnTestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(group='image_cache',
                         remove_unused_original_minimum_age_seconds=DAY)

    def test_imports_once(self):
        manager = image.ImageManager(self.client, image_api=self.glance)
        meta = self.glance.add()

        first = imagecache.cache_image(self.client, manager, self.context,
                                       meta.id, image_api=self.glance)
        second = imagecache.cache_image(self.client, manager, self.context,
                                        meta.id, image_api=self.glance)

        self.assertTrue(first)
        self.assertFalse(second)
        names = {i['imagename'] for i in self.client.image_query()}
        self.assertIn(meta.id, names)
        self.assertEqual([meta.id], self.glance.downloads)
        # The download is gone once the connector has the image.
        self.assertEqual([], self.local_files())

    def test_kept_download_goes_with_its_image(self):
        self.conf.config(group='zvm', keep_image_files=True)
        manager = image.ImageManager(self.client, image_api=self.glance)
        meta = self.glance.add()
        imagecache.cache_image(self.client, manager, self.context, meta.id,
                               image_api=self.glance)
        kept = image.ImageManager.local_path(meta.id)
        self.assertEqual([kept], self.local_files())

        imagecache.manage_image_cache(self.client, manager, self.context, [],
                                      now=time.time() + 2 * DAY)

        self.assertEqual([], self.local_files())
        names = {i['imagename'] for i in self.client.image_query()}
        self.assertNotIn(meta.id, names)


class TestDriverImageCache(driver_base.DriverTestCase):
    """The image cache as nova's compute manager drives it."""

    def setUp(self):
        super().setUp()
        self.glance = spawn_base.FakeImageAPI()
        self.useFixture(fixtures.MonkeyPatch('nova.image.glance.API',
                                             lambda: self.glance))

    def test_precache_then_clean(self):
        self.assertTrue(self.driver.capabilities['has_imagecache'])
        meta = self.glance.add()

        self.assertTrue(self.driver.cache_image(self.context, meta.id))
        self.assertFalse(self.driver.cache_image(self.context, meta.id))
        names = {i['imagename'] for i in self.client.image_query()}
        self.assertIn(meta.id, names)

        # In use: stays, however old.
        self.cfg.config(group='image_cache',
                        remove_unused_original_minimum_age_seconds=0)
        user = self.instance()
        user.image_ref = meta.id
        self.driver.manage_image_cache(self.context, [user])
        names = {i['imagename'] for i in self.client.image_query()}
        self.assertIn(meta.id, names)

        self.driver.manage_image_cache(self.context, [])
        names = {i['imagename'] for i in self.client.image_query()}
        self.assertNotIn(meta.id, names)
