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

"""The connector-side cleanup, on the lab's own file repository."""

import io
import os
import time

import fixtures

from nova_zvm.client import ZVMClient
from nova_zvm import connector_cleanup
from nova_zvm.tests.unit import base


class ConnectorCleanupTestCase(base.ClassLabTestCase):

    def setUp(self):
        super().setUp()
        self.client = ZVMClient(self.lab.url, token_file=self.lab.token_file,
                                max_retries=0)
        self.addCleanup(self.client.close)
        self.repository = os.path.join(self.lab.state_dir, 'files')

    def upload(self, data, age=0):
        """A file_import'ed file (as a config drive is), ``age`` s old."""
        remote = self.client.file_import(io.BytesIO(data))
        if isinstance(remote, dict):
            remote = remote['dest_url']
        path = remote[len('file://'):] if remote.startswith('file://') \
            else remote
        past = time.time() - age
        os.utime(path, (past, past))
        return path

    def test_removes_old_uploads_only(self):
        old = self.upload(b'config drive with a password', age=3 * 3600)
        young = self.upload(b'image being imported', age=60)
        elsewhere = os.path.join(self.repository, 'keep-me')
        with open(elsewhere, 'w') as f:
            f.write('not an upload')
        os.utime(elsewhere, (0, 0))

        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.assertEqual(0, connector_cleanup.main(
            ['--file-repository', self.repository, '--min-age', '7200']))

        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(young))
        self.assertTrue(os.path.exists(elsewhere))
        self.assertIn('removed %s' % old, out.getvalue())

    def test_dry_run_removes_nothing(self):
        old = self.upload(b'x', age=3 * 3600)
        out = io.StringIO()
        self.assertEqual(1, connector_cleanup.cleanup(
            self.repository, 7200, dry_run=True, out=out))
        self.assertTrue(os.path.exists(old))
        self.assertIn('would remove %s' % old, out.getvalue())

    def test_repository_from_the_connector_config(self):
        conf = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'zvmsdk.conf')
        with open(conf, 'w') as f:
            f.write('[file]\nfile_repository = %s\n' % self.repository)
        self.assertEqual(self.repository,
                         connector_cleanup.file_repository(conf))
        self.assertEqual(connector_cleanup.DEFAULT_REPOSITORY,
                         connector_cleanup.file_repository('/nonexistent'))
