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


"""Shared plumbing for the lab's tests: one lab per test class."""

import itertools

import requests

from nova_zvm.lab import images
from nova_zvm.tests.unit import base as unit_base

_userids = itertools.count(1)


class Connector(object):
    """Plain ``requests`` against the Cloud Connector's REST API."""

    def __init__(self, lab):
        self.lab = lab
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = lab.ca_file or True
        if lab.token_file:
            self.session.headers['X-Auth-Token'] = self.new_token()

    def admin_token(self):
        with open(self.lab.token_file) as f:
            return f.read().strip()

    def new_token(self):
        r = self.session.post(self.lab.url + '/token', timeout=10,
                              headers={'X-Admin-Token': self.admin_token()})
        r.raise_for_status()
        return r.headers['X-Auth-Token']

    def call(self, method, path, body=None, timeout=60, **kwargs):
        r = self.session.request(method, self.lab.url + path, json=body,
                                 timeout=timeout, **kwargs)
        return r.status_code, r.json()

    def ok(self, method, path, body=None, **kwargs):
        """Call and insist on success; returns the envelope's output."""
        status, env = self.call(method, path, body, **kwargs)
        if status >= 300 or env.get('overallRC'):
            raise AssertionError('%s %s -> %s %s' % (method, path, status,
                                                     env))
        return env['output']

    def create_guest(self, userid, vcpus=1, memory=1024, disks=None,
                     **extra):
        guest = {'userid': userid, 'vcpus': vcpus, 'memory': memory,
                 'disk_list': disks if disks is not None else
                 [{'size': '3g', 'is_boot_disk': True}]}
        guest.update(extra)
        return self.ok('POST', '/guests', {'guest': guest})

    def upload(self, data):
        """file_import: store bytes on the connector host; returns path."""
        r = self.session.put(self.lab.url + '/files', data=data, timeout=60,
                             headers={'Content-Type':
                                      'application/octet-stream'})
        r.raise_for_status()
        return r.json()['output']['dest_url']

    def download(self, connector_path):
        """file_export: the bytes of a file on the connector host."""
        r = self.session.post(self.lab.url + '/files', timeout=60,
                              json={'source_file': connector_path})
        r.raise_for_status()
        return r.content

    def import_image(self, name, data, os_version='rhel8.6'):
        url = self.upload(data)
        self.ok('POST', '/images', {'image': {
            'image_name': name, 'url': url,
            'image_meta': {'os_version': os_version}}})
        return url

    def action(self, userid, action, **body):
        body['action'] = action
        return self.ok('POST', '/guests/%s/action' % userid, body)


def disk_image(size, unit='CYL', kind='CKD', payload=b'root fs'):
    """A z/VM disk image file as creatediskimage writes it."""
    return images.build_image(kind, size, unit, payload)


def read_header(data):
    text = data[:64].decode('ascii')
    return text[:20], int(text[20:32]), text[33:36]


class LabTestCase(unit_base.ClassLabTestCase):
    """Starts one lab for the class; tests use their own userids."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn = Connector(cls.lab)

    @staticmethod
    def new_userid(prefix='T'):
        return '%s%05d' % (prefix, next(_userids))
