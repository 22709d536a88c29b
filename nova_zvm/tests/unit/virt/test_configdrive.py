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

"""The config drive: nova's iso9660 with network metadata, uploaded."""

import json
import os
import subprocess

from nova import exception as nova_exception

from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import configdrive


def _iso_file(iso, path):
    """One file of an iso9660 image, read with isoinfo (genisoimage)."""
    return subprocess.check_output(
        ['isoinfo', '-R', '-i', iso, '-x', path], timeout=30)


class TestConfigDrive(spawn_base.SpawnTestCase):

    def test_build_has_network_metadata_files_and_password(self):
        inst = self.instance()
        vifs = [self.vif(0, ipv6=True)]
        path = configdrive.build(inst, [('/etc/motd', b'hi')], 'pw', vifs)
        self.assertEqual(configdrive.local_path(inst), path)
        self.assertTrue(path.startswith(spawn_base.CONF.instances_path))
        net = json.loads(_iso_file(path,
                                   '/openstack/latest/network_data.json'))
        self.assertEqual(vifs[0]['address'],
                         net['links'][0]['ethernet_mac_address'])
        addresses = {n.get('ip_address') for n in net['networks']}
        self.assertEqual({'10.0.0.5', 'fd00:0::5'}, addresses)
        meta = json.loads(_iso_file(path,
                                    '/openstack/latest/meta_data.json'))
        self.assertEqual(inst.uuid, meta['uuid'])
        self.assertEqual('pw', meta['admin_pass'])
        self.assertEqual([{'path': '/etc/motd',
                           'content_path': '/content/0000'}], meta['files'])

    def test_upload_returns_a_connector_path(self):
        inst = self.instance()
        path = configdrive.build(inst, [], None, [])
        remote = configdrive.upload(self.client, path)
        self.assertTrue(remote.startswith('/'), remote)

    def test_remove_is_idempotent(self):
        inst = self.instance()
        configdrive.build(inst, [], None, [])
        configdrive.remove(inst)
        configdrive.remove(inst)
        self.assertFalse(os.path.exists(configdrive.instance_dir(inst)))

    def test_only_iso9660(self):
        self.conf.config(config_drive_format='vfat')
        self.assertRaises(nova_exception.ConfigDriveUnsupportedFormat,
                          configdrive.build, self.instance(), [], None, [])
