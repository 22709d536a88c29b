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


"""FCP devices, the storage array and volumes, through the real server."""

from nova_zvm.tests.unit.lab import base

TARGET = '500507680b21ac41'
LUN1 = '0x0001000000000000'
LUN2 = '0x0002000000000000'


class TestFCPVolumes(base.LabTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        out = cls.conn.ok('POST', '/volumes/fcptemplates', {
            'name': 'lab-tmpl', 'fcp_devices': '1a00-1a07;1b00-1b07',
            'host_default': True})
        cls.template = out['fcp_template']['id']

    def connector(self, userid, reserve=True):
        return self.conn.call('GET', '/volumes/conn/%s' % userid, {
            'info': {'reserve': reserve,
                     'fcp_template_id': self.template}})

    def test_wwpn_query_lists_devices_with_npiv_wwpns_and_chpids(self):
        fcps = self.lab.zvm.fcps()
        self.assertEqual(16, len(fcps))
        self.assertEqual('27', fcps['1A00']['chpid'])
        self.assertEqual('28', fcps['1B03']['chpid'])
        npiv = {d['npiv_wwpn'] for d in fcps.values()}
        self.assertEqual(16, len(npiv))
        self.assertIsNone(fcps['1A00']['owner'])

    def test_connector_reserves_one_fcp_per_path_and_releases(self):
        userid = self.new_userid('F')
        self.conn.create_guest(userid)
        status, env = self.connector(userid)
        self.assertEqual(200, status, env)
        conn = env['output']
        self.assertEqual(2, len(conn['zvm_fcp']))
        fcps = self.lab.zvm.fcps()
        paths = sorted(fcps[f.upper()]['chpid'] for f in conn['zvm_fcp'])
        self.assertEqual(['27', '28'], paths)
        # The NPIV WWPNs reported are those of the devices picked.
        self.assertEqual(sorted(fcps[f.upper()]['npiv_wwpn']
                                for f in conn['zvm_fcp']),
                         sorted(w.lower().replace('0x', '')
                                for w in conn['wwpns']))
        status, env = self.connector(userid, reserve=False)
        self.assertEqual(200, status, env)

    def attach_body(self, userid, fcps, mount='/dev/sdvol1', lun=LUN1):
        return {'info': {'connection': {
            'assigner_id': userid, 'zvm_fcp': fcps,
            'target_wwpn': ['0x' + TARGET], 'target_lun': lun,
            'os_version': 'rhel8.6', 'multipath': 'true',
            'mount_point': mount, 'is_root_volume': False}}}

    def running_guest_with_fcps(self):
        userid = self.new_userid('F')
        self.conn.create_guest(userid)
        self.conn.action(userid, 'start')
        status, env = self.connector(userid)
        self.assertEqual(200, status, env)
        return userid, env['output']

    def test_mapped_lun_attached_seen_by_guest_then_detached(self):
        userid, conn = self.running_guest_with_fcps()
        self.lab.zvm.create_lun(TARGET, LUN1, size_gb=5)
        self.lab.zvm.map_lun(conn['wwpns'], TARGET, LUN1)

        self.conn.ok('POST', '/guests/volumes',
                     self.attach_body(userid, conn['zvm_fcp']))
        vols = self.lab.zvm.volumes(userid)
        fcps = sorted(f.upper() for f in conn['zvm_fcp'])
        self.assertEqual(fcps, sorted(r for _v, r in vols['dedicate']))
        self.assertEqual(fcps, sorted(vols['attached'].values()))
        disk = vols['scsi_disks']['sdvol1']
        self.assertEqual(2, len(disk['paths']))
        self.assertTrue(disk['multipath'])
        devs = self.lab.zvm.fcps()
        self.assertEqual({userid}, {devs[f]['owner'] for f in fcps})

        body = self.attach_body(userid, conn['zvm_fcp'])
        body['info']['connection']['update_connections_only'] = False
        self.conn.ok('DELETE', '/guests/volumes', body)
        vols = self.lab.zvm.volumes(userid)
        self.assertEqual({}, vols['scsi_disks'])
        # The last connection gone, the FCPs are undedicated.
        self.assertEqual([], vols['dedicate'])
        self.assertEqual({}, vols['attached'])
        devs = self.lab.zvm.fcps()
        self.assertEqual({None}, {devs[f]['owner'] for f in fcps})

    def attach_fails(self, userid, conn, lun, details, target=TARGET):
        body = self.attach_body(userid, conn['zvm_fcp'], mount='/dev/sdbad',
                                lun=lun)
        body['info']['connection']['target_wwpn'] = ['0x' + target]
        status, env = self.conn.call('POST', '/guests/volumes', body)
        self.assertEqual(500, status, env)
        self.assertIn(details, env['errmsg'])
        vols = self.lab.zvm.volumes(userid)
        self.assertNotIn('sdbad', vols['scsi_disks'])
        # The connector's rollback undedicated the FCPs it dedicated.
        self.assertEqual([], vols['dedicate'])
        self.assertEqual({}, vols['attached'])

    def test_attach_fails_when_the_target_is_not_reachable(self):
        userid, conn = self.running_guest_with_fcps()
        # A target port no LUN of which is mapped to these FCPs (the
        # array is shared by the class's tests, and FCPs are reused).
        target = '500507680b21ac99'
        self.lab.zvm.create_lun(target, LUN2)
        self.lab.zvm.map_lun(['c05076de33ffffff'], target, LUN2)
        self.attach_fails(userid, conn, LUN2,
                          'can not find valid target WWPNs', target=target)

    def test_attach_fails_when_the_lun_is_not_mapped(self):
        userid, conn = self.running_guest_with_fcps()
        lun3 = '0x0003000000000000'
        self.lab.zvm.create_lun(TARGET, LUN1)
        self.lab.zvm.create_lun(TARGET, lun3)
        # The target is reachable (LUN1 is mapped), LUN 3 is not.
        self.lab.zvm.map_lun(conn['wwpns'], TARGET, LUN1)
        self.attach_fails(userid, conn, lun3, 'did not show up')

    def test_boot_from_an_fcp_lun_after_refresh_bootmap(self):
        userid = self.new_userid('F')
        status, env = self.connector(userid)
        self.assertEqual(200, status, env)
        conn = env['output']
        lun = '0x0004000000000000'
        self.lab.zvm.create_lun(TARGET, lun, size_gb=10, image='rhel8.6')
        self.lab.zvm.map_lun(conn['wwpns'], TARGET, lun)
        paths = self.conn.ok('PUT', '/volumes/volume_refresh_bootmap', {
            'info': {'fcpchannel': conn['zvm_fcp'],
                     'wwpn': ['0x' + TARGET], 'lun': lun,
                     'fcp_template_id': self.template}})
        # RESULT PATHS as the connector parsed them: FCP -> WWPNs.
        self.assertEqual(sorted(f.lower() for f in conn['zvm_fcp']),
                         sorted(paths))
        luns = self.lab.zvm.storage()['luns']
        self.assertTrue(next(x for x in luns if x['lun'].endswith(
            '0004000000000000'))['bootmap'])

        ipl = conn['zvm_fcp'][0]
        self.conn.create_guest(
            userid, disks=[], ipl_from=ipl, dedicate_vdevs=conn['zvm_fcp'],
            loaddev={'portname': TARGET, 'lun': lun[2:]})
        direct = self.conn.ok('GET', '/guests/%s/user_direct' % userid)
        self.assertIn('LOADDEV LUN %s' % lun[2:].upper(),
                      [x.upper() for x in direct['user_direct']])
        self.conn.action(userid, 'start')
        booted = self.lab.zvm.volumes(userid)['booted_from']
        self.assertEqual(ipl.upper(), booted['fcp'])
        self.assertEqual('rhel8.6', booted['image'])

    def test_refresh_bootmap_fails_for_an_unmapped_lun(self):
        status, env = self.connector(self.new_userid('F'))
        conn = env['output']
        lun = '0x0005000000000000'
        self.lab.zvm.create_lun(TARGET, lun, image='rhel8.6')
        status, env = self.conn.call(
            'PUT', '/volumes/volume_refresh_bootmap', {
                'info': {'fcpchannel': conn['zvm_fcp'],
                         'wwpn': ['0x' + TARGET], 'lun': lun,
                         'fcp_template_id': self.template}})
        self.assertEqual(500, status, env)
        self.assertIn('no path to LUN', env['errmsg'])
