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

"""``nova-zvm-status check`` against the lab: each check's outcomes.

Every test writes a nova.conf, runs the command (in this process, or as a
process where TLS needs a clean interpreter) and asserts on its exit code
and on what it says about each check.
"""

import io
import os
import socket

from nova_zvm.client import ZVMClient
from nova_zvm.lab import certs
from nova_zvm.lab import images
from nova_zvm.tests.unit.cmd import base

SUCCESS, WARNING, FAILURE = base.SUCCESS, base.WARNING, base.FAILURE


class TokenLabTestCase(base.LabStatusTestCase):
    """Plain HTTP, token authentication: the lab's default."""

    def client(self):
        client = ZVMClient(self.lab.url, token_file=self.lab.token_file)
        self.addCleanup(client.close)
        return client

    def test_ready_node_warns_only_of_plain_http(self):
        outcome = self.check()

        self.assertEqual(WARNING, outcome.code)
        self.assertEqual({'Cloud Connector': WARNING},
                         outcome.not_successful())
        self.assertIn('plain http', outcome.details('Cloud Connector'))
        self.assertIn('API version 1.0 (connector 1.6.3) is supported',
                      outcome.details('Cloud Connector'))
        self.assertIn('accepted the admin token', outcome.details('Token'))
        self.assertIn('disk pool ECKD:POOL1 on z/VM system ZVMLAB01',
                      outcome.details('Disk pool'))
        self.assertIn('physnet1 -> VSW1', outcome.details('Vswitches'))
        self.assertIn('not a member of an SSI cluster',
                      outcome.details('SSI'))

    def test_table_for_people(self):
        outcome = self.check(output='table')

        self.assertEqual(WARNING, outcome.code)
        self.assertIn('| nova-zvm status check', outcome.text)
        self.assertIn('| Check: Disk pool', outcome.text)
        self.assertIn('| Result: Warning', outcome.text)
        self.assertEqual(12, outcome.text.count('Check: '))

    def test_token_file_readable_by_others(self):
        token = self.copy_token(0o644)

        outcome = self.check({'zvm': {'token_file': token}})

        self.assertEqual(WARNING, outcome.result('Token'))
        self.assertIn('mode 0644', outcome.details('Token'))
        self.assertIn('chmod 0600', outcome.details('Token'))
        self.assertIn('accepted the admin token', outcome.details('Token'))

    def test_wrong_admin_token(self):
        token = os.path.join(self.tmp, 'wrong-token')
        with open(token, 'w') as token_file:
            token_file.write('not-the-admin-token')
        os.chmod(token, 0o600)

        outcome = self.check({'zvm': {'token_file': token}})

        self.assertEqual(FAILURE, outcome.code)
        self.assertIn('refused the admin token', outcome.details('Token'))
        self.assertIn('[zvm] token_file = %s' % token,
                      outcome.details('Token'))
        # The secret never shows; the other checks say the token is why.
        self.assertNotIn('not-the-admin-token', outcome.text)

    def test_missing_token_file(self):
        missing = os.path.join(self.tmp, 'nope')

        outcome = self.check({'zvm': {'token_file': missing}})

        self.assertEqual(FAILURE, outcome.result('Token'))
        self.assertIn('[zvm] token_file = %s does not exist' % missing,
                      outcome.details('Token'))

    def test_no_token_file_for_a_connector_that_needs_one(self):
        outcome = self.check(drop=[('zvm', 'token_file')])

        self.assertEqual(FAILURE, outcome.result('Token'))
        self.assertIn('requires a token', outcome.details('Token'))
        self.assertIn('set [zvm] token_file', outcome.details('Token'))

    def test_missing_vswitch(self):
        outcome = self.check(
            {'zvm': {'vswitch_mappings': 'physnet1:VSW1,physnet2:NOPE'}})

        self.assertEqual(FAILURE, outcome.code)
        self.assertEqual(FAILURE, outcome.result('Vswitches'))
        details = outcome.details('Vswitches')
        self.assertIn('vswitch NOPE (physical network physnet2) does not '
                      'exist on z/VM system ZVMLAB01', details)
        self.assertIn('which has VSW1', details)
        self.assertIn('[zvm] vswitch_mappings', details)

    def test_no_vswitch_mappings(self):
        outcome = self.check(drop=[('zvm', 'vswitch_mappings')])

        self.assertEqual(WARNING, outcome.result('Vswitches'))
        self.assertIn('vswitch_mappings is empty',
                      outcome.details('Vswitches'))

    def test_missing_disk_pool(self):
        outcome = self.check({'zvm': {'disk_pool': 'ECKD:NOPE'}})

        self.assertEqual(FAILURE, outcome.code)
        self.assertEqual(FAILURE, outcome.result('Disk pool'))
        self.assertIn('disk pool ECKD:NOPE does not exist on z/VM system '
                      'ZVMLAB01', outcome.details('Disk pool'))
        self.assertIn('set [zvm] disk_pool', outcome.details('Disk pool'))

    def test_template_that_gives_invalid_userids(self):
        outcome = self.check(
            {'DEFAULT': {'instance_name_template': 'instance-%08x'}})

        self.assertEqual(FAILURE, outcome.code)
        self.assertIn("gives 'instance-00000000'",
                      outcome.details('Instance names'))
        self.assertIn('z%07x', outcome.details('Instance names'))

    def test_template_close_to_overflowing(self):
        # Guests of instance ids 0xffff0 and 0x10 on this z/VM: 15 ids left.
        client = self.client()
        for userid in ('ZVMFFFF0', 'ZVM00010'):
            client.guest_create(userid, 1, 512, disk_list=[
                {'size': '1g', 'is_boot_disk': True}])
            self.addCleanup(client.guest_delete, userid)

        outcome = self.check(
            {'DEFAULT': {'instance_name_template': 'zvm%05x'}})

        self.assertEqual(WARNING, outcome.result('Instance names'))
        details = outcome.details('Instance names')
        self.assertIn('up to instance id 0xfffff and overflows at 0x100000 '
                      "('zvm100000')", details)
        self.assertIn('highest instance id among this z/VM\'s guests is '
                      '0xffff0, so 15 more instances fit', details)
        self.assertIn('renames every existing instance', details)

    def test_template_with_room(self):
        outcome = self.check()

        self.assertEqual(SUCCESS, outcome.result('Instance names'))
        self.assertIn('%d instances fit' % (0x10000000 - 1),
                      outcome.details('Instance names'))

    def test_template_that_overflows_within_a_cloud_s_life(self):
        outcome = self.check(
            {'DEFAULT': {'instance_name_template': 'zvm%05x'}})

        self.assertEqual(WARNING, outcome.result('Instance names'))
        self.assertIn('A long-lived cloud reaches instance id 0x100000',
                      outcome.details('Instance names'))

    def test_nova_options(self):
        outcome = self.check({'DEFAULT': {'force_config_drive': 'False'}})
        self.assertEqual(WARNING, outcome.result('Compute driver'))
        self.assertIn('set force_config_drive = True',
                      outcome.details('Compute driver'))

        outcome = self.check({'DEFAULT': {'compute_driver': 'zvm.ZVMDriver'}})
        self.assertEqual(FAILURE, outcome.code)
        self.assertIn("nova's in-tree z/VM driver",
                      outcome.details('Compute driver'))
        self.assertIn('set compute_driver = nova_zvm.ZVMDriver',
                      outcome.details('Compute driver'))

    def test_inconsistent_options(self):
        outcome = self.check({'zvm': {'connection_pool_size': '4',
                                      'read_timeout': '7200'}})

        self.assertEqual(WARNING, outcome.result('Option consistency'))
        details = outcome.details('Option consistency')
        self.assertIn('set connection_pool_size = 16 or more', details)
        self.assertIn('read_timeout (7200.0) <= long_read_timeout (3600.0) '
                      'does not hold', details)

    def test_image_path(self):
        # An image in the connector's repository: its size is the yardstick.
        client = self.client()
        path = client.file_import(io.BytesIO(images.build_image('CKD', 10)))
        name = 'status-check-image'
        client.image_import(name, 'file://' + path,
                            {'os_version': 'rhel8.6'})
        self.addCleanup(client.image_delete, name)

        outcome = self.check()
        self.assertEqual(SUCCESS, outcome.result('Image path'))
        self.assertIn('(created on first use)', outcome.details('Image path'))
        self.assertIn('the largest image on the connector is',
                      outcome.details('Image path'))

        not_a_dir = os.path.join(self.tmp, 'file')
        open(not_a_dir, 'w').close()
        outcome = self.check({'zvm': {'image_tmp_path': not_a_dir}})
        self.assertEqual(FAILURE, outcome.result('Image path'))
        self.assertIn('is not a directory', outcome.details('Image path'))

    def test_monitor_agrees_with_cp(self):
        client = self.client()
        client.guest_create('ZVM00100', 1, 512, disk_list=[
            {'size': '1g', 'is_boot_disk': True}])
        self.addCleanup(client.guest_delete, 'ZVM00100')
        client.guest_start('ZVM00100')

        outcome = self.check()

        self.assertEqual(SUCCESS, outcome.result('Monitor cache'))
        self.assertIn('agrees with CP', outcome.details('Monitor cache'))


class NoAuthLabTestCase(base.LabStatusTestCase):
    """Plain HTTP without authentication."""

    lab_kwargs = {'auth': 'none'}

    def test_no_token_needed(self):
        outcome = self.check()

        self.assertEqual(WARNING, outcome.code)
        self.assertEqual({'Cloud Connector': WARNING},
                         outcome.not_successful())
        self.assertIn('without authentication',
                      outcome.details('Cloud Connector'))
        self.assertIn('runs without authentication',
                      outcome.details('Token'))


class UnreachableTestCase(base.StatusTestMixin, base.unit_base.testtools
                          .TestCase):
    """Nothing listens at cloud_connector_url."""

    def setUp(self):
        super().setUp()
        self.make_workdir()
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]

    def lab_options(self):
        return {'DEFAULT': {'compute_driver': 'nova_zvm.ZVMDriver',
                            'instance_name_template': 'z%07x',
                            'force_config_drive': 'True'},
                'zvm': {'cloud_connector_url':
                        'http://127.0.0.1:%d' % self.port,
                        'image_tmp_path': self.images,
                        'vswitch_mappings': 'physnet1:VSW1'}}

    def test_every_connector_check_fails_with_the_reason(self):
        outcome = self.check()

        self.assertEqual(FAILURE, outcome.code)
        self.assertIn('cannot be reached', outcome.details('Cloud Connector'))
        self.assertIn('check [zvm] cloud_connector_url',
                      outcome.details('Cloud Connector'))
        for check in ('Token', 'Disk pool', 'Vswitches', 'SSI',
                      'FCP templates', 'Monitor cache'):
            self.assertEqual(FAILURE, outcome.result(check), check)
            self.assertIn('not checked: the Cloud Connector at '
                          'http://127.0.0.1:%d cannot be reached' % self.port,
                          outcome.details(check))
        # What needs no connector is still checked.
        self.assertEqual(SUCCESS, outcome.result('Image path'))
        self.assertEqual(SUCCESS, outcome.result('Instance names'))

    def test_url_that_is_no_url(self):
        outcome = self.check({'zvm': {'cloud_connector_url': 'zcc:8080'}})

        self.assertEqual(FAILURE, outcome.code)
        self.assertIn('[zvm] cloud_connector_url is not a valid URL',
                      outcome.details('Connector URL'))
        self.assertIn('not checked: the Cloud Connector at (an invalid '
                      '[zvm] cloud_connector_url) cannot be reached',
                      outcome.details('Disk pool'))


class TLSLabTestCase(base.LabStatusTestCase):
    """HTTPS with a token, run as a process.

    TLS needs a clean interpreter in a test worker (see
    client.test_lab_transport).
    """

    lab_kwargs = {'tls': True}

    def test_verified_against_the_ca_file_by_the_console_script(self):
        outcome = self.check_in_subprocess(console_script=True)

        self.assertEqual(SUCCESS, outcome.code, outcome.text)
        self.assertEqual({}, outcome.not_successful())
        self.assertIn('answers over TLS, its certificate verified against '
                      '[zvm] ca_file = %s' % self.lab.ca_file,
                      outcome.details('Cloud Connector'))

    def test_wrong_ca(self):
        # Another lab's self-signed certificate: same name, another key.
        other = os.path.join(self.tmp, 'other')
        os.makedirs(os.path.join(other, 'etc'))
        wrong_ca, _ = certs.make_cert(other)

        outcome = self.check_in_subprocess({'zvm': {'ca_file': wrong_ca}})

        self.assertEqual(FAILURE, outcome.code, outcome.text)
        details = outcome.details('Cloud Connector')
        self.assertIn('is not trusted by [zvm] ca_file = %s' % wrong_ca,
                      details)
        self.assertIn('set [zvm] ca_file to the PEM file of the CA',
                      details)

    def test_insecure(self):
        outcome = self.check_in_subprocess({'zvm': {'insecure': 'True'}},
                                           drop=[('zvm', 'ca_file')])

        self.assertEqual(WARNING, outcome.code, outcome.text)
        self.assertIn('not verified ([zvm] insecure = True)',
                      outcome.details('Cloud Connector'))
