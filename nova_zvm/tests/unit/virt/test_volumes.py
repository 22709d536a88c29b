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

"""FCP volumes (virt/volumes.py) against the lab's connector and array."""

from nova import exception as nova_exception
from nova import objects
import testtools

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import spawn
from nova_zvm.virt import volumes

TARGETS = ('500507680b21ac41', '500507680b22ac41')


def fc_info(lun=1, targets=TARGETS, **extra):
    info = {'driver_volume_type': 'fibre_channel', 'serial': 'vol-%d' % lun,
            'data': {'target_wwn': list(targets), 'target_lun': lun}}
    info.update(extra)
    return info


class TestConnectionInfo(testtools.TestCase):

    def test_lun_numbers_in_z_vm_form(self):
        self.assertEqual('0x0001000000000000', volumes.fcp_lun(1))
        self.assertEqual('0x00ff000000000000', volumes.fcp_lun('255'))
        # Flat space addressing from 256 on.
        self.assertEqual('0x4100000000000000', volumes.fcp_lun(256))
        self.assertEqual('0x4001000000000000',
                         volumes.fcp_lun('0x4001000000000000'))
        self.assertRaises(ValueError, volumes.fcp_lun, 0x4000)

    def test_every_target_and_the_lun(self):
        self.assertEqual((list(TARGETS), '0x0002000000000000'),
                         volumes.fc_target(fc_info(2)))
        info = fc_info(3, targets=())
        info['data'].update(target_wwn='0x500507680B21AC41',
                            target_luns=[3, 3])
        self.assertEqual((['500507680b21ac41'], '0x0003000000000000'),
                         volumes.fc_target(info))

    def test_other_types_multiattach_and_mixed_luns_are_refused(self):
        iscsi = {'driver_volume_type': 'iscsi', 'serial': 'v1', 'data': {}}
        err = self.assertRaises(volumes.UnsupportedVolume,
                                volumes.fc_target, iscsi)
        self.assertIn('fibre_channel', str(err))
        err = self.assertRaises(volumes.UnsupportedVolume, volumes.fc_target,
                                fc_info(multiattach=True))
        self.assertIn('multiattach', str(err))
        mixed = fc_info()
        mixed['data']['target_luns'] = [1, 2]
        self.assertRaises(volumes.UnsupportedVolume, volumes.fc_target,
                          mixed)

    def test_encrypted_volumes_are_refused(self):
        self.assertRaises(nova_exception.VolumeEncryptionNotSupported,
                          volumes.check_encryption, fc_info(),
                          {'provider': 'luks'})
        volumes.check_encryption(fc_info(), None)


class TestVolumeOps(spawn_base.SpawnTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from nova_zvm.client import ZVMClient
        client = ZVMClient(cls.lab.url, token_file=cls.lab.token_file,
                           ca_file=cls.lab.ca_file, max_retries=0)
        for name, devices in (('tmpl', '1a00-1a07;1b00-1b07'),
                              ('empty', '3c00-3c01')):
            client._call('create_fcp_template', 'POST',
                         '/volumes/fcptemplates',
                         json_body={'name': name, 'fcp_devices': devices})
        cls.next_lun = 0x10

    def setUp(self):
        super().setUp()
        self.conf.config(group='zvm', fcp_template='tmpl')
        self.ops = volumes.VolumeOps(self.client)

    def guest(self, running=True):
        inst = self.instance()
        inst.system_metadata = {'image_os_distro': 'rhel8.6'}
        self.client._call('guest_create', 'POST', '/guests', json_body={
            'guest': {'userid': inst.name, 'vcpus': 1, 'memory': 512,
                      'disk_list': [{'size': '1g', 'is_boot_disk': True,
                                     'disk_pool': 'ECKD:POOL1'}]}})
        self.addCleanup(self.client.guest_delete, inst.name)
        if running:
            self.client.guest_start(inst.name)
        return inst

    def lun_for(self, connector):
        type(self).next_lun += 1
        lun = self.next_lun
        for target in TARGETS:
            self.lab.zvm.create_lun(target, volumes.fcp_lun(lun))
            self.lab.zvm.map_lun(connector['wwpns'], target,
                                 volumes.fcp_lun(lun))
        return fc_info(lun)

    def usage(self, fcps):
        return {f: tuple(self.client.get_fcp_usage(f)[:3]) for f in fcps}

    def test_connector_reserves_once_per_guest(self):
        inst = self.instance()
        first = self.ops.connector(inst)
        again = self.ops.connector(inst)
        self.assertEqual(first['zvm_fcp'], again['zvm_fcp'])
        self.assertEqual(2, len(first['wwpns']))
        self.assertTrue(first['multipath'])
        self.assertEqual({f: (inst.name.upper(), 1, 0)
                          for f in first['zvm_fcp']},
                         self.usage(first['zvm_fcp']))
        self.ops.release_guest(inst, inst.name.upper())
        self.assertEqual({f: (inst.name.upper(), 0, 0)
                          for f in first['zvm_fcp']},
                         self.usage(first['zvm_fcp']))

    def test_a_template_without_free_devices_is_refused(self):
        self.conf.config(group='zvm', fcp_template='empty')
        err = self.assertRaises(volumes.NoFreeFCP, self.ops.connector,
                                self.instance())
        self.assertIn('FCP template empty', str(err))

    def test_an_unknown_template_is_named(self):
        self.conf.config(group='zvm', fcp_template='nope')
        err = self.assertRaises(volumes.NoFCPTemplate, self.ops.connector,
                                self.instance())
        self.assertIn('fcp_template = nope', str(err))
        self.assertIn('tmpl', str(err))

    def test_attach_and_detach_on_a_running_guest(self):
        inst = self.guest()
        userid = inst.name.upper()
        info = self.lun_for(self.ops.connector(inst))
        self.ops.attach(inst, info, '/dev/vdb')
        vols = self.lab.zvm.volumes(userid)
        self.assertEqual(4, len(vols['scsi_disks']['vdb']['paths']))
        fcps = sorted(r for _v, r in vols['dedicate'])
        self.assertEqual(2, len(fcps))

        self.ops.detach(inst, info, '/dev/vdb')
        vols = self.lab.zvm.volumes(userid)
        self.assertEqual(([], {}), (vols['dedicate'], vols['scsi_disks']))
        self.assertEqual({f.lower(): (userid, 0, 0) for f in fcps},
                         self.usage([f.lower() for f in fcps]))

    def test_a_failed_attach_releases_the_reservation(self):
        inst = self.guest()
        userid = inst.name.upper()
        connector = self.ops.connector(inst)
        # Not mapped to these initiators: the guest cannot find the LUN.
        info = fc_info(0x3f)
        self.lab.zvm.create_lun(TARGETS[0], volumes.fcp_lun(0x3f))
        self.assertRaises(zvm_exception.ZVMConnectorError, self.ops.attach,
                          inst, info, '/dev/vdc')
        self.assertEqual([], self.lab.zvm.volumes(userid)['dedicate'])
        self.assertEqual({f: (userid, 0, 0) for f in connector['zvm_fcp']},
                         self.usage(connector['zvm_fcp']))

    def test_release_guest_frees_only_that_guests_records(self):
        mine, other = self.instance(), self.instance()
        my_fcps = self.ops.connector(mine)['zvm_fcp']
        other_fcps = self.ops.connector(other)['zvm_fcp']
        # A connection count the deleted guest left behind.
        self.client.set_fcp_usage(my_fcps[0], mine.name.upper(), 1, 2,
                                  self.ops.template_id())
        self.ops.release_guest(mine, mine.name.upper())
        self.assertEqual({f: (mine.name.upper(), 0, 0) for f in my_fcps},
                         self.usage(my_fcps))
        self.assertEqual({f: (other.name.upper(), 1, 0)
                          for f in other_fcps}, self.usage(other_fcps))
        self.ops.release_guest(other, other.name.upper())


class TestBootFromVolume(spawn_base.SpawnTestCase):
    """spawn with a root volume: checks first, then all or nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from nova_zvm.client import ZVMClient
        client = ZVMClient(cls.lab.url, token_file=cls.lab.token_file,
                           ca_file=cls.lab.ca_file, max_retries=0)
        client._call('create_fcp_template', 'POST', '/volumes/fcptemplates',
                     json_body={'name': 'boot',
                                'fcp_devices': '1a00-1a07;1b00-1b07',
                                'host_default': True})
        cls.luns = iter(range(0x60, 0xff))

    def setUp(self):
        super().setUp()
        self.conf.config(group='zvm', fcp_template='boot',
                         reachable_timeout=30)
        self.ops = volumes.VolumeOps(self.client)

    def image_meta(self, **extra):
        return objects.ImageMeta.from_dict(dict(
            {'properties': {'os_distro': 'rhel8.6'}, 'min_disk': 0},
            **extra))

    def root(self, inst, mapped=True, size=10):
        lun = next(self.luns)
        for target in TARGETS:
            self.lab.zvm.create_lun(target, volumes.fcp_lun(lun),
                                    size_gb=size, image='rhel8.6')
        if mapped:
            # What nova's prep_block_device and Cinder do before spawn.
            wwpns = self.ops.connector(inst)['wwpns']
            for target in TARGETS:
                self.lab.zvm.map_lun(wwpns, target, volumes.fcp_lun(lun))
        return {'block_device_mapping': [{
            'boot_index': 0, 'connection_info': fc_info(lun),
            'mount_device': '/dev/sda', 'volume_size': size}],
            'root_device_name': '/dev/sda'}

    def spawn(self, inst, bdi, image_meta=None):
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    image_meta or self.image_meta(), [], 'pw', {}, [],
                    block_device_info=bdi)

    def records(self, userid):
        found = {}
        for fcp in self.lab.zvm.fcps():
            usage = self.client.get_fcp_usage(fcp.lower())
            if str(usage[0]).upper() == userid and (usage[1] or usage[2]):
                found[fcp] = tuple(usage[1:3])
        return found

    def test_the_guest_ipls_from_the_lun(self):
        inst = self.instance(root_gb=0)
        bdi = self.root(inst)
        self.spawn(inst, bdi)
        userid = inst.name.upper()
        vols = self.lab.zvm.volumes(userid)
        fcps = sorted(r for _v, r in vols['dedicate'])
        self.assertEqual(2, len(fcps))
        self.assertIn(vols['booted_from']['fcp'], fcps)
        self.assertEqual({}, self.user(inst.name)['minidisks'])
        self.assertEqual({f: (1, 1) for f in fcps}, self.records(userid))

        spawn.destroy(self.client, self.context, inst, [])
        self.assertIsNone(self.user(inst.name))
        self.assertEqual({}, self.records(userid))
        # The volume is left as it is: the image and the bootmap.
        lun = volumes.fcp_lun(bdi['block_device_mapping'][0][
            'connection_info']['data']['target_lun'])[2:]
        mine = [found for found in self.lab.zvm.storage()['luns']
                if found['lun'] == lun]
        self.assertEqual(2, len(mine))
        self.assertEqual({'rhel8.6'}, {found['image'] for found in mine})
        self.assertTrue(any(found.get('bootmap') for found in mine))

    def test_checks_come_before_anything_is_made(self):
        inst = self.instance(ephemeral_gb=1)
        bdi = self.root(inst, mapped=False)
        self.lab.zvm.reset_rest_calls()
        err = self.assertRaises(nova_exception.InvalidInput, self.spawn,
                                inst, bdi)
        self.assertIn('ephemeral', str(err))
        small = self.instance()
        bdi = self.root(small, mapped=False, size=5)
        err = self.assertRaises(nova_exception.InvalidInput, self.spawn,
                                small, bdi, self.image_meta(min_disk=8))
        self.assertIn('min_disk', str(err))
        bdi['block_device_mapping'][0]['connection_info'] = {
            'driver_volume_type': 'rbd', 'data': {}}
        self.assertRaises(volumes.UnsupportedVolume, self.spawn, small, bdi)
        self.assertEqual([], self.changing_rest_calls())

    def test_a_failure_at_each_step_leaves_nothing(self):
        for fault in ('zthin:refresh_bootmap', 'Image_Create_DM',
                      'Image_Activate'):
            inst = self.instance(root_gb=0)
            bdi = self.root(inst)
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(fault, rc=300, rs=12)
            self.assertRaises(zvm_exception.ZVMConnectorError, self.spawn,
                              inst, bdi)
            userid = inst.name.upper()
            self.assertIsNone(self.user(inst.name), fault)
            self.assertEqual({}, self.records(userid), fault)
