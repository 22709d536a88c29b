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

"""Spawn on the lab: what ends up on the fake z/VM."""

import os

from nova import exception as nova_exception

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import configdrive
from nova_zvm.virt import image
from nova_zvm.virt import ownership
from nova_zvm.virt import spawn


class TestSpawn(spawn_base.SpawnTestCase):

    def _spawn(self, instance, image_meta=None, network_info=(),
               **kwargs):
        image_meta = image_meta or self.glance.add()
        manager = image.ImageManager(self.client, image_api=self.glance)
        spawn.spawn(self.client, self.virtapi, self.context, instance,
                    image_meta, [('/etc/motd', b'hello z')], 'secret', {},
                    list(network_info), image_manager=manager, **kwargs)
        self.addCleanup(spawn.destroy, self.client, self.context, instance,
                        list(network_info))
        return self.user(instance.name)

    def _reader_files(self, user):
        contents = []
        for entry in user['reader']:
            with open(entry['path'], 'rb') as f:
                contents.append(f.read())
        return contents

    def test_happy_path(self):
        inst = self.instance(vcpus=2, memory_mb=2048, root_gb=5,
                             ephemeral_gb=1, swap=512)
        vifs = [self.vif(0, physnet='physnet1'),
                self.vif(1, physnet='physnet2', vlan=42)]
        user = self._spawn(inst, network_info=vifs)

        self.assertIsNotNone(user, 'no directory entry')
        self.assertEqual(2, user['vcpus'])
        self.assertEqual(2048, user['memory_mb'])
        self.assertEqual('on', user['power'])
        # root, ephemeral and swap, all from the configured pool
        self.assertEqual(3, len(user['minidisks']), user['minidisks'])
        self.assertEqual({'POOL1'},
                         {d['pool'] for d in user['minidisks'].values()})
        self.assertEqual({'0100': 'image', '0101': 'ext4', '0102': 'swap'},
                         {v: d['format']
                          for v, d in user['minidisks'].items()})
        # each NIC coupled to the vswitch of its physical network
        nics = {vdev.upper().lstrip('0'): nic
                for vdev, nic in user['nics'].items()}
        self.assertEqual('VSW1', nics['1000']['vswitch'])
        self.assertEqual('VSW2', nics['1003']['vswitch'])
        self.assertEqual(vifs[0]['address'], nics['1000']['mac'].lower())
        self.assertEqual({'VSW1': None, 'VSW2': 42},
                         self.grants(inst.name))

    def test_ephemerals_from_block_device_info(self):
        self.conf.config(default_ephemeral_format='ext3')
        inst = self.instance(ephemeral_gb=3)
        bdi = {'ephemerals': [{'size': 1, 'guest_format': 'xfs'},
                              {'size': 2, 'guest_format': None}]}
        user = self._spawn(inst, block_device_info=bdi)
        self.assertEqual({'0100': 'image', '0101': 'xfs', '0102': 'ext3'},
                         {v: d['format']
                          for v, d in user['minidisks'].items()})

    def test_config_drive_reaches_the_reader(self):
        inst = self.instance()
        user = self._spawn(inst, network_info=[self.vif(0)])
        drives = [c for c in self._reader_files(user) if b'CD001' in c]
        self.assertEqual(1, len(drives), 'one iso9660 config drive')
        # network metadata and the injected file are on it
        self.assertIn(b'network_data.json', drives[0])
        self.assertIn(b'10.0.0.5', drives[0])
        self.assertIn(b'hello z', drives[0])
        # the local copy is gone once uploaded
        self.assertFalse(configdrive.local_path(inst) in self.local_files())
        # Nothing else but the guest's ownership record.
        owners = ownership.OwnerRegistry().path
        self.assertEqual([os.path.join(owners, inst.name.upper())],
                         self.local_files())

    def test_power_on_false_leaves_it_off(self):
        inst = self.instance()
        user = self._spawn(inst, power_on=False)
        self.assertEqual('off', user['power'])
        self.assertNotIn('POST /guests/%s/action' % inst.name.upper(),
                         [c for c in self.lab.zvm.rest_calls()
                          if 'start' in c])

    def test_spawn_waits_until_the_guest_is_reachable(self):
        inst = self.instance()
        self.lab.zvm.reset_calls()
        self._spawn(inst)
        calls = self.lab.zvm.calls()
        # Reachability (IUCV) is checked after the guest was activated.
        started = calls.index('smapi:Image_Activate')
        self.assertIn('zthin:iucvclnt', calls[started:])

    def test_unreachable_guest_fails_the_spawn_and_is_removed(self):
        self.conf.config(group='zvm', reachable_timeout=1)
        inst = self.instance()
        self.lab.zvm.inject_fault('iucvclnt', rc=1, count=0)
        err = self.assertRaises(zvm_exception.ZVMFailure, self._spawn, inst)
        self.assertIn('not able to connect', str(err))
        self.assertIsNone(self.user(inst.name))

    def test_root_gb_zero_uses_the_image_size(self):
        inst = self.instance(root_gb=0)
        user = self._spawn(inst)
        sizes = [d['size'] for d in user['minidisks'].values()]
        self.assertEqual([3338], sizes)

    def test_waits_for_vif_plugged_of_inactive_ports(self):
        vifs = [self.vif(0, active=False), self.vif(1, active=True)]
        self._spawn(self.instance(), network_info=vifs)
        events, deadline = self.virtapi.waited[-1]
        self.assertEqual([('network-vif-plugged', vifs[0]['id'])], events)
        self.assertEqual(300, deadline)

    def test_vif_plug_timeout_fatal_rolls_back(self):
        self.virtapi.outcome = 'timeout'
        inst = self.instance()
        self.assertRaises(nova_exception.VirtualInterfaceCreateException,
                          self._spawn, inst, network_info=[self.vif(0)])
        self.assertIsNone(self.user(inst.name))
        self.assertEqual({}, self.grants(inst.name))

    def test_vif_plug_timeout_not_fatal_continues(self):
        self.conf.config(vif_plugging_is_fatal=False)
        self.virtapi.outcome = 'timeout'
        inst = self.instance()
        user = self._spawn(inst, network_info=[self.vif(0)])
        self.assertEqual('on', user['power'])

    def test_neutron_failure_event_rolls_back(self):
        self.virtapi.outcome = 'failed'
        inst = self.instance()
        self.assertRaises(nova_exception.VirtualInterfaceCreateException,
                          self._spawn, inst, network_info=[self.vif(0)])
        self.assertIsNone(self.user(inst.name))
