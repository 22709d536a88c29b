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

"""FCP volumes through nova's API: attach, detach, delete, faults.

Cinder is nova's fixture backed by the lab's storage array (see
``cinder``); the assertions read the fake z/VM: the guest's DEDICATE
lines, the devices CP attached to it, the SCSI disks its OS sees on each
path, and the connector's FCP records.
"""

import itertools
import time

from nova.tests.functional.api import client as api_client
from oslo_utils.fixture import uuidsentinel as uuids

from nova_zvm import client as zvm_client
from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import cinder
from nova_zvm.virt import volumes

TEMPLATE = 'nova-vols'
# LUN numbers unique in the process: the class's lab (and its array) is
# shared by the tests.
_LUNS = itertools.count(1)
EMPTY_TEMPLATE = 'no-devices'


class TestFCPVolumes(base.ZVMTestCase):

    # Several builds and attaches per test on a shared machine: a bound on
    # waiting, not a speed check.
    WAIT_TIMEOUT = 180

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        connector = cls.connector_client()
        connector._call('create_fcp_template', 'POST', '/volumes/fcptemplates',
                        json_body={'name': TEMPLATE,
                                   'fcp_devices': '1a00-1a07;1b00-1b07',
                                   'host_default': True})
        # Devices this z/VM system does not have: nothing to reserve.
        connector._call('create_fcp_template', 'POST', '/volumes/fcptemplates',
                        json_body={'name': EMPTY_TEMPLATE,
                                   'fcp_devices': '3c00-3c01;3d00-3d01'})

    @classmethod
    def connector_client(cls):
        return zvm_client.ZVMClient(cls.lab.url,
                                    token_file=cls.lab.token_file,
                                    ca_file=cls.lab.ca_file, max_retries=0)

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(
            cinder.ZVMCinderFixture(self, self.lab.zvm))
        self.connector = self.connector_client()

    def _configure_driver(self):
        super()._configure_driver()
        self.flags(fcp_template=TEMPLATE, group='zvm')

    # Helpers ---------------------------------------------------------------

    def new_volume(self, name):
        volume_id = getattr(uuids, name)
        self.cinder.create_fc_volume(volume_id, next(_LUNS))
        return volume_id

    def wait_action(self, server, action):
        """The finished instance action ``action``: its events' results."""
        deadline = time.monotonic() + self.WAIT_TIMEOUT
        while time.monotonic() < deadline:
            found = [a for a in self.api.get_instance_actions(server['id'])
                     if a['action'] == action]
            if found:
                details = self.api.get_instance_action_details(
                    server['id'], found[0]['request_id'])
                events = details.get('events') or []
                if events and all(e.get('finish_time') for e in events):
                    return [e['result'] for e in events]
            time.sleep(0.2)
        self.fail('%s of %s did not finish' % (action, server['id']))

    def _remove_leftover_guests(self):
        # Deleted behind nova's back, a guest keeps its FCP records in the
        # connector; the next test's guest of the same userid would get
        # them. End them as the driver's destroy does.
        leftovers = set(self.lab.zvm.state()['users']) - self._guests_before
        super()._remove_leftover_guests()
        ops = volumes.VolumeOps(self.connector_client())
        for userid in sorted(leftovers):
            ops.release_guest(None, userid)

    def post(self, call, *args, expect='Success'):
        # Nova's test RPC runs the compute's cast in the API call: a
        # failure there comes back as the API's 500.
        try:
            call(*args)
        except api_client.OpenStackApiException as err:
            if expect == 'Success':
                raise
            self.assertEqual(500, err.response.status_code)

    def attach(self, server, volume_id, expect='Success'):
        self.post(self.api.post_server_volume, server['id'],
                  {'volumeAttachment': {'volumeId': volume_id}},
                  expect=expect)
        self.assertEqual([expect], self.wait_action(server, 'attach_volume'))
        if expect == 'Success':
            self._wait_for_volume_attach(server['id'], volume_id)
        else:
            self._wait_for_volume_detach(server['id'], volume_id)

    def detach(self, server, volume_id):
        self.api.delete_server_volume(server['id'], volume_id)
        # The action first: nova's volume waits give up after 10 s.
        self.assertEqual(['Success'], self.wait_action(server,
                                                       'detach_volume'))
        self._wait_for_volume_detach(server['id'], volume_id)

    def mount_point(self, server, volume_id):
        return self.api.get_server_volume(server['id'],
                                          volume_id)['device']

    def fcp_records(self, userid):
        """{fcp: (reserved, connections)} of the FCPs recorded for userid."""
        found = {}
        for fcp in self.lab.zvm.fcps():
            usage = self.connector.get_fcp_usage(fcp.lower())
            if usage and str(usage[0]).upper() == userid and (
                    usage[1] or usage[2]):
                found[fcp] = (usage[1], usage[2])
        return found

    def assert_no_fcp_of(self, userid):
        vols = self.lab.zvm.volumes(userid) if self.zvm_exists(userid) \
            else {'dedicate': [], 'attached': {}}
        self.assertEqual([], vols['dedicate'])
        self.assertEqual({}, vols['attached'])
        self.assertEqual({}, self.fcp_records(userid))
        owners = {d['owner'] for d in self.lab.zvm.fcps().values()}
        self.assertNotIn(userid, owners)

    def zvm_exists(self, userid):
        return userid in self.lab.zvm.state()['users']

    def assert_unharmed(self, volume_id):
        luns = self.cinder.lun_state(volume_id)
        self.assertEqual(len(cinder.TARGETS), len(luns))
        mapped = [m for luns in self.lab.zvm.storage()['mappings'].values()
                  for m in luns if m.endswith(
                      '%04x000000000000' % self.cinder.luns[volume_id])]
        self.assertEqual([], mapped)

    # Tests -----------------------------------------------------------------

    def test_attach_to_a_running_server_then_detach(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        volume = self.new_volume('data1')

        self.attach(server, volume)

        vols = self.lab.zvm.volumes(userid)
        fcps = sorted(r for _v, r in vols['dedicate'])
        self.assertEqual(2, len(fcps))
        self.assertEqual(fcps, sorted(vols['attached'].values()))
        chpids = sorted(self.lab.zvm.fcps()[f]['chpid'] for f in fcps)
        self.assertEqual(['27', '28'], chpids)
        # The guest sees the LUN under the mount point's name on every
        # path: each FCP device through each target port.
        name = self.mount_point(server, volume).rsplit('/', 1)[-1]
        disk = vols['scsi_disks'][name]
        self.assertTrue(disk['multipath'])
        self.assertEqual(
            sorted((f, t) for f in fcps for t in cinder.TARGETS),
            sorted((p['fcp'], p['target_wwpn']) for p in disk['paths']))
        self.assertEqual({f: (1, 1) for f in fcps}, self.fcp_records(userid))
        self.assertEqual('in-use', self.cinder.volumes[volume]['status'])

        self.detach(server, volume)

        self.assertEqual({}, self.lab.zvm.volumes(userid)['scsi_disks'])
        self.assert_no_fcp_of(userid)
        self.assert_unharmed(volume)
        self.assertEqual('ACTIVE', self.api.get_server(server['id'])['status'])

    def test_two_volumes_share_the_fcps_until_the_last_is_detached(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        first, second = self.new_volume('first'), self.new_volume('second')
        self.attach(server, first)
        self.attach(server, second)
        vols = self.lab.zvm.volumes(userid)
        self.assertEqual(2, len(vols['dedicate']))
        self.assertEqual(2, len(vols['scsi_disks']))
        fcps = sorted(r for _v, r in vols['dedicate'])
        self.assertEqual({f: (1, 2) for f in fcps}, self.fcp_records(userid))

        self.detach(server, first)
        vols = self.lab.zvm.volumes(userid)
        self.assertEqual(fcps, sorted(r for _v, r in vols['dedicate']))
        self.assertEqual([self.mount_point(server, second).rsplit('/')[-1]],
                         list(vols['scsi_disks']))
        self.assertEqual({f: (1, 1) for f in fcps}, self.fcp_records(userid))

        self.detach(server, second)
        self.assert_no_fcp_of(userid)

    def test_attach_to_a_stopped_server(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        self.api.post_server_action(server['id'], {'os-stop': None})
        server = self.wait_for_status(server, 'SHUTOFF')
        volume = self.new_volume('stopped')

        self.attach(server, volume)

        vols = self.lab.zvm.volumes(userid)
        # In the directory for the next logon; nothing attached by CP.
        self.assertEqual(2, len(vols['dedicate']))
        self.assertEqual({}, vols['attached'])
        self.assertEqual('SHUTOFF',
                         self.api.get_server(server['id'])['status'])

        self.detach(server, volume)
        self.assert_no_fcp_of(userid)

    def test_delete_a_server_with_volumes_attached(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        volumes = [self.new_volume('del1'), self.new_volume('del2')]
        for volume in volumes:
            self.attach(server, volume)
        fcps = sorted(r for _v, r in self.lab.zvm.volumes(userid)['dedicate'])
        self.assertEqual(2, len(fcps))

        self.delete_server(server)

        self.assertFalse(self.zvm_exists(userid))
        self.assert_no_fcp_of(userid)
        for volume in volumes:
            self.assert_unharmed(volume)
        devices = self.lab.zvm.fcps()
        self.assertEqual({None}, {devices[f]['owner'] for f in fcps})

    def test_another_guests_fcps_survive_a_delete(self):
        keep, gone = self.boot_server(), self.boot_server()
        self.attach(keep, self.new_volume('keep'))
        self.attach(gone, self.new_volume('gone'))
        kept = self.fcp_records(base.userid_of(keep))

        self.delete_server(gone)

        self.assert_no_fcp_of(base.userid_of(gone))
        self.assertEqual(2, len(kept))
        self.assertEqual(kept, self.fcp_records(base.userid_of(keep)))
        self.assertEqual(1, len(self.lab.zvm.volumes(
            base.userid_of(keep))['scsi_disks']))

    def test_other_volume_types_are_refused_and_nothing_is_reserved(self):
        server = self.boot_server()
        self.attach(server, self.cinder.ISCSI_BACKED_VOL, expect='Error')
        self.assert_no_fcp_of(base.userid_of(server))
        self.assertEqual('ACTIVE', self.api.get_server(server['id'])['status'])

    def test_a_template_without_free_fcp_is_a_clear_error(self):
        self.flags(fcp_template=EMPTY_TEMPLATE, group='zvm')
        # A fresh view of the option.
        self.compute.manager.driver._volume_ops = None
        server = self.boot_server()
        volume = self.new_volume('nofcp')

        self.attach(server, volume, expect='Error')

        action = self.api.get_instance_actions(server['id'])[0]
        events = self.api.get_instance_action_details(
            server['id'], action['request_id'])['events']
        self.assertIn('No free FCP device on every path of FCP template '
                      '%s' % EMPTY_TEMPLATE, str(events))
        self.assert_no_fcp_of(base.userid_of(server))
        # Cinder was never asked to export the volume.
        self.assertEqual({}, self.cinder.volume_to_attachment[volume])
        self.assert_unharmed(volume)

    # A fault at each z/VM call of an attach leaves nothing behind.
    # (call, nth): each call of an attach on a running guest with two
    # paths, in order (the lab's call log): the directory and CP dedicate
    # of each FCP device, the punch of the script to the reader, and the
    # IUCV call that runs it.
    ATTACH_FAULTS = (('Image_Device_Dedicate_DM', 1),
                     ('Image_Device_Dedicate', 1),
                     ('Image_Device_Dedicate_DM', 2),
                     ('Image_Device_Dedicate', 2),
                     ('zthin:vmur', 1),
                     ('cp:TRANSFER', 1),
                     ('zthin:iucvclnt', 2))
    DETACH_FAULTS = (('zthin:vmur', 1),
                     ('zthin:iucvclnt', 2),
                     ('Image_Device_Undedicate_DM', 1),
                     ('Image_Device_Undedicate', 2))

    def test_attach_faults_roll_back(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        for n, (name, nth) in enumerate(self.ATTACH_FAULTS):
            volume = self.new_volume('fault%d' % n)
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(name, rc=300, rs=12, nth=nth)
            self.attach(server, volume, expect='Error')
            self.assert_no_fcp_of(userid)
            self.assert_unharmed(volume)
            self.assertEqual('available',
                             self.cinder.volumes[volume]['status'])
        # And a volume attaches afterwards.
        self.lab.zvm.clear_faults()
        self.attach(server, self.new_volume('after'))

    def test_detach_faults_keep_the_volume_attached_then_detach_cleanly(self):
        server = self.boot_server()
        userid = base.userid_of(server)
        volume = self.new_volume('detachfault')
        self.attach(server, volume)
        name = self.mount_point(server, volume).rsplit('/', 1)[-1]
        fcps = sorted(r for _v, r in self.lab.zvm.volumes(userid)['dedicate'])
        for name_nth in self.DETACH_FAULTS:
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(name_nth[0], rc=300, rs=12,
                                      nth=name_nth[1])
            self.post(self.api.delete_server_volume, server['id'], volume,
                      expect='Error')
            self.assertEqual(['Error'], self.wait_action(server,
                                                         'detach_volume'))
            # Still attached for nova, Cinder and the connector: the
            # connector restored what it had undone.
            self.api.get_server_volume(server['id'], volume)
            self.assertEqual({f: (1, 1) for f in fcps},
                             self.fcp_records(userid), name_nth)
            self.assertEqual(fcps, sorted(
                r for _v, r in self.lab.zvm.volumes(userid)['dedicate']))
            self.assertIn(name, self.lab.zvm.volumes(userid)['scsi_disks'])
        self.lab.zvm.clear_faults()
        self.detach(server, volume)
        self.assert_no_fcp_of(userid)
        self.assert_unharmed(volume)

    # Boot from volume ------------------------------------------------------

    def boot_from_volume(self, volume_id, flavor_id=None,
                         expected_status='ACTIVE'):
        server = self._build_server(networks='auto', flavor_id=flavor_id)
        server.pop('imageRef', None)
        server['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': volume_id, 'source_type': 'volume',
            'destination_type': 'volume', 'delete_on_termination': False}]
        server = self.api.post_server({'server': server})
        return self.wait_for_status(server, expected_status)

    def root_volume(self, name, size_gb=10):
        volume_id = getattr(uuids, name)
        self.cinder.create_fc_volume(volume_id, next(_LUNS),
                                     size_gb=size_gb, image='rhel8.6',
                                     bootable=True)
        return volume_id

    def test_boot_from_volume_and_delete(self):
        volume = self.root_volume('root1')
        server = self.boot_from_volume(volume)
        userid = base.userid_of(server)

        guest = self.zvm_guest(server)
        self.assertEqual({}, guest['minidisks'])
        vols = self.lab.zvm.volumes(userid)
        fcps = sorted(r for _v, r in vols['dedicate'])
        self.assertEqual(2, len(fcps))
        # IPLed from the LUN through one of its FCP devices.
        booted = vols['booted_from']
        self.assertIn(booted['fcp'], fcps)
        self.assertEqual('rhel8.6', booted['image'])
        self.assertEqual('%04x000000000000' % self.cinder.luns[volume],
                         booted['lun'].lower())
        self.assertIn(booted['target_wwpn'].lower(), cinder.TARGETS)
        self.assertEqual({f: (1, 1) for f in fcps}, self.fcp_records(userid))
        self.assertTrue(any(lun.get('bootmap')
                            for lun in self.cinder.lun_state(volume)))

        self.delete_server(server)

        self.assertFalse(self.zvm_exists(userid))
        self.assert_no_fcp_of(userid)
        # The volume outlives the server, image and all.
        luns = self.cinder.lun_state(volume)
        self.assertEqual({'rhel8.6'}, {lun['image'] for lun in luns})
        self.assert_unharmed(volume)

    def test_boot_from_volume_with_an_ephemeral_disk_is_refused(self):
        flavor = self._create_flavor(disk=0, ephemeral=1)
        volume = self.root_volume('root_eph')
        server = self.boot_from_volume(volume, flavor_id=flavor,
                                       expected_status='ERROR')
        self.assertIn('ephemeral', server['fault']['message'])
        self.assertFalse(self.zvm_exists(base.userid_of(server)))
        self.assert_no_fcp_of(base.userid_of(server))
        self.assert_unharmed(volume)

    def test_boot_from_volume_faults_leave_nothing(self):
        volume = self.root_volume('root_fault')
        for name in ('zthin:refresh_bootmap', 'Image_Create_DM',
                     'Image_Activate'):
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(name, rc=300, rs=12)
            server = self.boot_from_volume(volume, expected_status='ERROR')
            userid = base.userid_of(server)
            self.assertFalse(self.zvm_exists(userid), name)
            self.assert_no_fcp_of(userid)
            self.delete_server(server)
            self.assert_unharmed(volume)
            self.assertEqual('available',
                             self.cinder.volumes[volume]['status'])
