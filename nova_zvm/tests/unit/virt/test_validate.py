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

"""Spawn's pre-flight checks.

The first class checks the rules alone; the second runs real spawns on the
lab and proves a refused spawn changes nothing on z/VM.
"""

from nova import exception as nova_exception
from nova import objects
from oslo_utils import units
import testtools

from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import spawn
from nova_zvm.virt import validate

objects.register_all()


def _image(**props):
    return objects.ImageMeta.from_dict({
        'id': 'c3b5e7a4-0000-4000-8000-000000000001', 'disk_format': 'raw',
        'properties': props})


class TestOsVersion(testtools.TestCase):

    def test_release_in_os_distro(self):
        for distro, expected in [('rhel8.6', 'rhel8.6'), ('RHEL7', 'rhel7'),
                                 ('sles15', 'sles15'), ('SUSE12.5',
                                                        'sles12.5'),
                                 ('ubuntu22.04', 'ubuntu22.04'),
                                 ('redhat9', 'rhel9')]:
            self.assertEqual(expected, validate.connector_os_version(
                _image(os_distro=distro)), distro)

    def test_missing_os_distro_names_the_property(self):
        err = self.assertRaises(nova_exception.ImageUnacceptable,
                                validate.connector_os_version, _image())
        self.assertIn('os_distro is missing', str(err))
        self.assertIn('set the image property os_distro', str(err))

    def test_rhcos_is_refused(self):
        # deployed from Ignition, not from a config drive
        self.assertRaises(nova_exception.ImageUnacceptable,
                          validate.connector_os_version,
                          _image(os_distro='rhcos4.12'))

    def test_unknown_distribution(self):
        err = self.assertRaises(nova_exception.ImageUnacceptable,
                                validate.connector_os_version,
                                _image(os_distro='windows'))
        self.assertIn("'windows'", str(err))
        self.assertIn('rhel', str(err))

    def test_unsupported_release(self):
        for distro in ('rhel5', 'sles10', 'ubuntu18', 'rhel'):
            err = self.assertRaises(nova_exception.ImageUnacceptable,
                                    validate.connector_os_version,
                                    _image(os_distro=distro))
            self.assertIn('release', str(err), distro)


class TestSpawnRefusals(spawn_base.SpawnTestCase):
    """A refused spawn: its message, and no call that changes z/VM."""

    def _refused(self, exc_class, instance, image_meta, network_info=()):
        self.lab.zvm.reset_rest_calls()
        self.lab.zvm.reset_calls()
        err = self.assertRaises(
            exc_class, spawn.spawn, self.client, self.virtapi, self.context,
            instance, image_meta, [], 'secret', {}, list(network_info),
            image_manager=self._images())
        self.assertEqual([], self.changing_rest_calls())
        self.assertIsNone(self.user(instance.name))
        self.assertEqual([], self.local_files())
        self.assertEqual([], self.glance.downloads)
        return str(err)

    def _images(self):
        from nova_zvm.virt import image
        return image.ImageManager(self.client, image_api=self.glance)

    def test_qcow2_image(self):
        meta = self.glance.add(disk_format='qcow2')
        msg = self._refused(nova_exception.ImageUnacceptable,
                            self.instance(), meta)
        self.assertIn("disk_format is 'qcow2'", msg)
        self.assertIn('disk_format=raw', msg)

    def test_missing_os_distro(self):
        meta = self.glance.add(properties={'os_distro': None})
        msg = self._refused(nova_exception.ImageUnacceptable,
                            self.instance(), meta)
        self.assertIn('os_distro is missing', msg)

    def test_unsupported_os_distro(self):
        meta = self.glance.add(properties={'os_distro': 'centos7'})
        msg = self._refused(nova_exception.ImageUnacceptable,
                            self.instance(), meta)
        self.assertIn("'centos7'", msg)

    def test_root_disk_smaller_than_image(self):
        meta = self.glance.add()
        meta.size = 3 * units.Gi
        msg = self._refused(nova_exception.ImageUnacceptable,
                            self.instance(root_gb=2), meta)
        self.assertIn('root disk of 2 GiB', msg)
        self.assertIn('root_gb of at least 3', msg)

    def test_root_disk_smaller_than_the_image_disk(self):
        # The image's header says 3338 cylinders (2.3 GiB); a 2 GiB root
        # disk is 2913. Checked once the connector holds the image, before
        # the guest is created.
        meta = self.glance.add()
        self._images().ensure(self.context, meta)
        self.glance.downloads.clear()
        msg = self._refused(nova_exception.ImageUnacceptable,
                            self.instance(root_gb=2), meta)
        self.assertIn('3338 CYL', msg)
        self.assertIn('root_gb of at least 3', msg)

    def test_unmapped_physical_network(self):
        msg = self._refused(nova_exception.InvalidInput, self.instance(),
                            self.glance.add(),
                            [self.vif(0), self.vif(1, physnet='physnet9')])
        self.assertIn("'physnet9'", msg)
        self.assertIn('[zvm] vswitch_mappings', msg)

    def test_vif_without_physical_network(self):
        msg = self._refused(nova_exception.InvalidInput, self.instance(),
                            self.glance.add(), [self.vif(0, physnet=None)])
        self.assertIn('vswitch_mappings', msg)

    def test_invalid_userid(self):
        self.conf.config(instance_name_template='instance-%08x')
        inst = self.instance()
        msg = self._refused(nova_exception.InvalidInput, inst,
                            self.glance.add())
        self.assertIn('instance_name_template', msg)

    def test_existing_guest(self):
        inst = self.instance()
        userid = inst.name.upper()
        self.client.guest_create(userid, 1, 512, disk_list=[
            {'size': '1g', 'is_boot_disk': True}])
        self.addCleanup(self.client.guest_delete, userid)
        self.lab.zvm.reset_rest_calls()
        self.assertRaises(
            nova_exception.InstanceExists, spawn.spawn, self.client,
            self.virtapi, self.context, inst,
            self.glance.add(), [], None, {}, [],
            image_manager=self._images())
        self.assertEqual([], self.changing_rest_calls())
        self.assertIsNotNone(self.user(userid))
