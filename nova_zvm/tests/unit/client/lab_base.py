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

"""The client against the lab: the real Cloud Connector on a fake z/VM."""

import io
import itertools
import logging

import fixtures

from nova_zvm.client import ZVMClient
from nova_zvm import exception
from nova_zvm.lab import images
from nova_zvm.tests.unit import base as unit_base

_numbers = itertools.count(1)


def disk_image(size=10, unit='CYL', kind='CKD', payload=b'root fs'):
    """A z/VM disk image file: the header the connector parses, then data."""
    return images.build_image(kind, size, unit, payload)


class LabClientTestCase(unit_base.ClassLabTestCase):
    """One lab per test class; each test uses its own userids and names."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        if self.lab_is_controllable():
            self.addCleanup(self.lab.zvm.set_latency, {})

    def client(self, **kwargs):
        kwargs.setdefault('token_file', self.lab.token_file)
        kwargs.setdefault('ca_file', self.lab.ca_file)
        kwargs.setdefault('connect_timeout', 5.0)
        kwargs.setdefault('read_timeout', 60.0)
        kwargs.setdefault('retry_interval', 0.2)
        client = ZVMClient(kwargs.pop('url', self.lab.url), **kwargs)
        self.addCleanup(client.close)
        return client

    @staticmethod
    def new_userid(prefix='C'):
        return '%s%06d' % (prefix, next(_numbers))

    @staticmethod
    def new_name(prefix='img'):
        return '%s-%d' % (prefix, next(_numbers))

    def new_guest(self, client, **kwargs):
        userid = self.new_userid()
        kwargs.setdefault('disk_list', [{'size': '3g',
                                         'is_boot_disk': True}])
        client.guest_create(userid, 1, 1024, **kwargs)
        self.addCleanup(self._delete_quietly, client, userid)
        return userid

    @staticmethod
    def _delete_quietly(client, userid):
        try:
            client.guest_delete(userid)
        except Exception:
            pass

    def import_image(self, client, data=None):
        name = self.new_name()
        remote = client.file_import(io.BytesIO(data or disk_image()))
        client.image_import(name, 'file://' + remote,
                            {'os_version': 'rhel8.6'})
        self.addCleanup(self.delete_image_quietly, client, name)
        return name

    @staticmethod
    def delete_image_quietly(client, name):
        try:
            client.image_delete(name)
        except exception.ZVMConnectorError:
            pass
