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

"""Images, deploy, capture and the deploy limit, against the lab."""

import io
import os
import threading

import fixtures

from nova_zvm import exception
from nova_zvm.tests.unit.client import lab_base

# zvmsdk's default [wsgi] max_concurrent_deploy_capture, which the lab keeps.
DEPLOY_LIMIT = 20


class ImageTestCase(lab_base.LabClientTestCase):

    def test_import_query_size_delete(self):
        client = self.client()
        name = self.import_image(client, lab_base.disk_image(size=4370))

        [record] = client.image_query(name)
        self.assertEqual((name, 'rhel8.6'), (record['imagename'],
                                             record['imageosdistro']))
        self.assertEqual(4370, int(client.image_get_root_disk_size(name)))

        client.image_delete(name)
        self.assertRaises(exception.NotFound, client.image_query, name)
        self.assertRaises(exception.NotFound,
                          client.image_get_root_disk_size, name)

    def test_duplicate_import_is_a_conflict(self):
        client = self.client()
        name = self.import_image(client)
        remote = client.file_import(io.BytesIO(lab_base.disk_image()))

        err = self.assertRaises(exception.Conflict, client.image_import,
                                name, 'file://' + remote,
                                {'os_version': 'rhel8.6'})
        self.assertEqual((409, 300, 13), (err.status, err.overall_rc, err.rs))

    def test_export_then_download(self):
        client = self.client()
        data = lab_base.disk_image(payload=os.urandom(300 * 1024))
        name = self.import_image(client, data)
        remote = client.file_import(io.BytesIO(b''))
        dest = os.path.join(self.useFixture(fixtures.TempDir()).path, 'img')

        client.image_export(name, 'file://' + remote)
        client.file_export(remote, dest)

        with open(dest, 'rb') as f:
            self.assertEqual(data, f.read())

    def test_deploy_and_capture(self):
        client = self.client()
        name = self.import_image(client)
        userid = self.new_guest(client)
        config = client.file_import(io.BytesIO(b'config drive'))

        client.guest_deploy(userid, name, transportfiles=config,
                            vdev='0100')

        self.assertEqual('image',
                         self.user(userid)['minidisks']['0100']['format'])

        client.guest_start(userid)
        captured = self.new_name('cap')
        self.addCleanup(self.delete_image_quietly, client, captured)
        client.guest_capture(userid, captured)
        self.assertEqual(captured, client.image_query(captured)[0][
            'imagename'])

    def test_deploy_of_an_unknown_image(self):
        client = self.client()
        userid = self.new_guest(client)

        self.assertRaises(exception.ZVMConnectorError, client.guest_deploy,
                          userid, 'no-such-image', vdev='0100')


class DeployLimitTestCase(lab_base.LabClientTestCase):
    """The connector answers 503 above its deploy/capture limit."""

    def test_503_at_the_limit_then_retry(self):
        client = self.client(pool_size=DEPLOY_LIMIT + 1, max_retries=6,
                             retry_interval=0.25)
        name = self.import_image(client)
        config = client.file_import(io.BytesIO(b'config drive'))
        userids = [self.new_guest(client) for _ in range(DEPLOY_LIMIT + 1)]
        self.lab.zvm.set_latency({'unpackdiskimage': 1.5})
        self.lab.zvm.reset_rest_calls()
        errors = []

        def deploy(userid):
            try:
                client.guest_deploy(userid, name, transportfiles=config,
                                    vdev='0100')
            except Exception as err:
                errors.append(err)

        threads = [threading.Thread(target=deploy, args=(userid,))
                   for userid in userids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

        self.assertEqual([], errors)
        state = self.lab.zvm.state()['users']
        self.assertEqual(
            ['image'] * len(userids),
            [state[u]['minidisks']['0100']['format'] for u in userids])
        # At least one deploy was refused at the limit and sent again.
        deploys = [c for c in self.lab.zvm.rest_calls()
                   if c.endswith('/action')]
        self.assertGreater(len(deploys), len(userids))
        self.assertIn('HTTP 503', self.log.output)
