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


"""Images through the real server: import, deploy, capture, export."""

import os

import fixtures

from nova_zvm.tests.unit.lab import base


class TestImages(base.LabTestCase):

    def _deployed_guest(self, image, disk='3g'):
        userid = self.new_userid()
        self.conn.create_guest(userid, disks=[{'size': disk,
                                               'is_boot_disk': True}])
        config_drive = self.conn.upload(b'config-drive-' + userid.encode())
        self.conn.action(userid, 'deploy', image=image, vdev='0100',
                         transportfiles=config_drive.replace('file://', ''))
        return userid

    def test_import_then_query_and_root_disk_size(self):
        self.conn.import_image('img-query', base.disk_image(3000))

        images = self.conn.ok('GET', '/images?imagename=img-query')
        self.assertEqual('3000:CYL', images[0]['disk_size_units'])
        self.assertEqual('rhel8.6', images[0]['imageosdistro'])
        self.assertEqual('3000', self.conn.ok(
            'GET', '/images/img-query/root_disk_size'))

    def test_import_refuses_a_file_without_disk_image_header(self):
        url = self.conn.upload(b'this is not a disk image at all ' * 4)
        status, env = self.conn.call('POST', '/images', {'image': {
            'image_name': 'img-bad', 'url': url,
            'image_meta': {'os_version': 'rhel8.6'}}})
        self.assertNotEqual(200, status)
        status, env = self.conn.call('GET', '/images?imagename=img-bad')
        self.assertEqual(404, status)

    def test_deploy_unpacks_image_and_punches_config_drive(self):
        self.conn.import_image('img-deploy', base.disk_image(3000))

        userid = self._deployed_guest('img-deploy')

        disk = self.user(userid)['minidisks']['0100']
        self.assertEqual('img-deploy', disk['image'])
        reader = self.user(userid)['reader']
        contents = []
        for f in reader:
            with open(f['path'], 'rb') as fh:
                contents.append(fh.read())
        self.assertIn(b'config-drive-' + userid.encode(), contents)
        self.assertEqual({'X'}, {f['class'] for f in reader})

    def test_deploy_refuses_image_larger_than_the_disk(self):
        self.conn.import_image('img-big', base.disk_image(3000))
        userid = self.new_userid()
        self.conn.create_guest(userid, disks=[{'size': '1g',
                                               'is_boot_disk': True}])

        status, env = self.conn.call(
            'POST', '/guests/%s/action' % userid,
            {'action': 'deploy', 'image': 'img-big', 'vdev': '0100'})

        self.assertEqual(500, status)
        self.assertEqual((300, 3), (env['overallRC'], env['rs']))
        self.assertIn('Target disk is too small for specified image',
                      env['errmsg'])
        self.assertNotIn('image', self.user(userid)['minidisks']['0100'])

    def test_capture_writes_image_with_valid_header(self):
        self.conn.import_image('img-src', base.disk_image(3000))
        userid = self._deployed_guest('img-src')
        self.conn.action(userid, 'start')

        self.conn.action(userid, 'capture', image='snap-' + userid.lower())

        images = self.conn.ok('GET', '/images?imagename=snap-%s'
                              % userid.lower())
        self.assertEqual('4370:CYL', images[0]['disk_size_units'])
        exported = self.conn.ok('PUT', '/images/snap-%s' % userid.lower(),
                                {'location': {'dest_url': 'file://%s/out.img'
                                              % self.lab.state_dir}})
        data = self.conn.download(exported['image_path'].replace(
            'file://', ''))
        self.assertEqual(('xCAT CKD Disk Image:', 4370, 'CYL'),
                         base.read_header(data))
        # Captured from a running guest: stopped for the copy, restarted.
        self.assertEqual('on', self.user(userid)['power'])

    def test_delete_image(self):
        self.conn.import_image('img-del', base.disk_image(100))
        self.conn.ok('DELETE', '/images/img-del')
        status, env = self.conn.call('GET', '/images?imagename=img-del')
        self.assertEqual(404, status)


class TestFBAImages(base.LabTestCase):

    lab_kwargs = {'disk_pools': ['FBA:FBA1'], 'auth': 'none'}

    def test_fba_guest_deploy_and_capture(self):
        self.conn.import_image('fba-img', base.disk_image(
            2000000, unit='BLK', kind='FBA'))
        userid = self.new_userid()
        self.conn.create_guest(userid, disks=[{'size': '2g',
                                               'is_boot_disk': True}])
        disk = self.user(userid)['minidisks']['0100']
        self.assertEqual(('FBA', 'BLK', 4194304),
                         (disk['type'], disk['unit'], disk['size']))

        self.conn.action(userid, 'deploy', image='fba-img', vdev='0100')
        self.conn.action(userid, 'capture', image='fba-snap')

        images = self.conn.ok('GET', '/images?imagename=fba-snap')
        self.assertEqual('4194304:BLK', images[0]['disk_size_units'])


class TestRemoteHostCopies(base.LabTestCase):
    """nova's in-tree driver moves files with scp via remote_host."""

    lab_kwargs = {'auth': 'none'}

    def setUp(self):
        super().setUp()
        self.remote = self.useFixture(fixtures.TempDir()).path

    def test_import_export_and_deploy_through_remote_host(self):
        source = os.path.join(self.remote, 'image.img')
        with open(source, 'wb') as f:
            f.write(base.disk_image(1000))
        self.conn.ok('POST', '/images', {'image': {
            'image_name': 'img-scp', 'url': 'file://' + source,
            'image_meta': {'os_version': 'rhel9.2'},
            'remote_host': 'nova@127.0.0.1'}})
        self.assertEqual('1000', self.conn.ok(
            'GET', '/images/img-scp/root_disk_size'))

        dest = os.path.join(self.remote, 'exported.img')
        self.conn.ok('PUT', '/images/img-scp', {'location': {
            'dest_url': 'file://' + dest, 'remote_host': 'nova@127.0.0.1'}})
        with open(dest, 'rb') as f:
            self.assertEqual(('xCAT CKD Disk Image:', 1000, 'CYL'),
                             base.read_header(f.read()))

        userid = self.new_userid()
        self.conn.create_guest(userid)
        cfgdrive = os.path.join(self.remote, 'cfgdrive.iso')
        with open(cfgdrive, 'wb') as f:
            f.write(b'remote config drive')
        self.conn.action(userid, 'deploy', image='img-scp', vdev='0100',
                         transportfiles=cfgdrive,
                         remotehost='nova@127.0.0.1')
        self.assertIn('cfgdrive.iso',
                      [f['name'] for f in self.user(userid)['reader']])
        self.assertIn('cmd:scp', self.lab.zvm.calls())
