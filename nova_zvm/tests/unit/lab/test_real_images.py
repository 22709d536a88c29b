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


"""The image format of z/VM's zthin scripts, as the lab enforces it."""

from nova_zvm.lab import images
from nova_zvm.tests.unit.lab import base


def _old_lab_image(size):
    # What the lab used to write (and zvmsdk's make_dummy_image writes):
    # not a tag unpackdiskimage knows.
    text = 'z/VM CKD Disk Image:%12d CYL HLen: 0055 GZIP: 6' % size
    return text.ljust(512).encode() + b'\0' * 64


class TestRealImageFormat(base.LabTestCase):

    def _guest(self, disk='3g'):
        userid = self.new_userid('R')
        self.conn.create_guest(userid, disks=[{'size': disk,
                                               'is_boot_disk': True}])
        return userid

    def _deploy(self, userid, image):
        return self.conn.call('POST', '/guests/%s/action' % userid,
                              {'action': 'deploy', 'image': image,
                               'vdev': '0100'})

    def test_header_is_the_one_creatediskimage_writes(self):
        data = images.build_image('CKD', 3338, payload=b'x')
        self.assertEqual(
            b'xCAT CKD Disk Image:        3338 CYL HLen: 0055 GZIP: 6',
            data[:55])
        self.assertEqual(b' ' * (512 - 55), data[55:512])
        self.assertEqual(('FBA', 4194304, 'BLK', 0), images.parse_header(
            images.image_header('FBA', 4194304, compression=0)))
        self.assertIsNone(images.parse_header(_old_lab_image(10)))

    def test_deploy_refuses_an_unknown_tag_as_unpackdiskimage_does(self):
        # zvmsdk's import only looks for 'CKD' in the text: it accepts the
        # file; the deploy is where z/VM refuses it.
        self.conn.import_image('img-oldtag', _old_lab_image(100))
        userid = self._guest()

        status, env = self._deploy(userid, 'img-oldtag')

        self.assertEqual(500, status)
        self.assertEqual((300, 3), (env['overallRC'], env['rs']))
        self.assertIn('Disk image type not recognized', env['errmsg'])
        self.assertNotIn('image', self.user(userid)['minidisks']['0100'])

    def test_deploy_refuses_a_running_target(self):
        self.conn.import_image('img-run', base.disk_image(100))
        userid = self._guest()
        self.conn.action(userid, 'start')

        status, env = self._deploy(userid, 'img-run')

        self.assertEqual(500, status)
        self.assertIn('The specified target system is currently running',
                      env['errmsg'])
        self.assertNotIn('image', self.user(userid)['minidisks']['0100'])

    def test_capture_round_trips_in_the_real_format(self):
        self.conn.import_image('img-rt', base.disk_image(100))
        userid = self._guest()
        self.assertEqual(0, self._deploy(userid, 'img-rt')[1]['overallRC'])

        self.conn.action(userid, 'capture', image='rt-' + userid.lower())
        exported = self.conn.ok('PUT', '/images/rt-%s' % userid.lower(),
                                {'location': {'dest_url': 'file://%s/rt.img'
                                              % self.lab.state_dir}})
        data = self.conn.download(exported['image_path'].replace(
            'file://', ''))

        self.assertEqual(images.image_header('CKD', 4370, 'CYL'),
                         data[:images.HEADER_LEN])
        # The captured image deploys again.
        self.conn.import_image('img-rt2', data)
        clone = self._guest()
        self.assertEqual(0, self._deploy(clone, 'img-rt2')[1]['overallRC'])
        self.assertEqual('img-rt2',
                         self.user(clone)['minidisks']['0100']['image'])
