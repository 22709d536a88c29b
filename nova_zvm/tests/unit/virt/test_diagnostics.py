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

"""get_instance_diagnostics and get_diagnostics on the lab's moving stats."""

import time

from nova import exception as nova_exception

from nova_zvm.tests.unit.virt import driver_base

VSWITCH = 'VSW1'


def mac_of(userid):
    # One MAC per guest: the guests of a test class share one lab, and
    # z/VM refuses a second running NIC with a MACID already in use.
    return '02:00:00:%s' % ':'.join(
        '%02x' % b for b in userid.encode()[-3:])


class DiagnosticsTestCase(driver_base.DriverTestCase):

    def coupled_guest(self):
        """A running guest with NIC 1000 (``mac_of``) on the vswitch."""
        inst = self.guest(power='off')
        userid = self.userid(inst)
        self.client.guest_create_nic(userid, vdev='1000',
                                     mac_addr=mac_of(userid))
        self.client.vswitch_grant_user(VSWITCH, userid)
        self.client.guest_nic_couple_to_vswitch(userid, '1000', VSWITCH)
        self.client.guest_start(userid)
        return inst

    def wait_until_up(self, inst):
        """Until the guest has used 0.1 s of CPU (asked uncached).

        By then (0.4 s up at the lab's quarter of a vCPU) its NIC has
        counted frames in and out.
        """
        for _ in range(100):
            info = self.client.guest_get_info(self.userid(inst))
            if info['cpu_time_us'] >= 100000:
                return
            time.sleep(0.05)
        self.fail('no CPU time counted')

    def wait_for_growth(self, inst, first):
        """The next diagnostics whose CPU time is above ``first``'s."""
        for _ in range(100):
            time.sleep(0.05)
            second = self.driver.get_instance_diagnostics(inst)
            if second.cpu_details[0].time > first.cpu_details[0].time:
                return second
        self.fail('CPU time did not grow')

    def test_running_guest_figures_grow(self):
        inst = self.coupled_guest()
        self.wait_until_up(inst)
        first = self.driver.get_instance_diagnostics(inst)

        self.assertEqual('running', first.state)
        self.assertEqual('zvm', first.hypervisor)
        self.assertFalse(first.obj_attr_is_set('driver'))
        self.assertEqual(1, first.num_cpus)
        self.assertEqual(512, first.memory_details.maximum)
        self.assertEqual(0, first.num_disks)
        [nic] = first.nic_details
        self.assertEqual(mac_of(self.userid(inst)), nic.mac_address)
        self.assertEqual(1, first.num_nics)
        for field in ('rx_octets', 'rx_packets', 'tx_octets', 'tx_packets'):
            self.assertGreater(getattr(nic, field), 0, field)
        for field in ('rx_errors', 'rx_drop', 'tx_errors', 'tx_drop'):
            self.assertEqual(0, getattr(nic, field), field)

        second = self.wait_for_growth(inst, first)
        self.assertGreaterEqual(second.memory_details.used,
                                first.memory_details.used)
        self.assertLessEqual(second.memory_details.used, 512)
        # The connector may answer NIC counters from its monitor cache
        # ([monitor] cache_interval): they never go back.
        [nic2] = second.nic_details
        for field in ('rx_octets', 'rx_packets', 'tx_octets', 'tx_packets'):
            self.assertGreaterEqual(getattr(nic2, field), getattr(nic, field),
                                    field)
        # What z/VM cannot tell stays unset.
        self.assertIsNone(second.cpu_details[0].id)
        self.assertIsNone(nic2.rx_rate)
        self.assertFalse(second.obj_attr_is_set('uptime'))

    def test_guest_without_nics(self):
        inst = self.guest()
        diags = self.driver.get_instance_diagnostics(inst)
        self.assertEqual('running', diags.state)
        self.assertEqual([], diags.nic_details)
        self.assertEqual(0, diags.num_nics)
        self.assertIsNotNone(diags.cpu_details[0].time)

    def test_rest_calls_per_diagnostics(self):
        with_nic = self.coupled_guest()
        without_nic = self.guest()
        stopped = self.guest(power='off')
        expected = [
            (with_nic, 3),      # info, vnic counters, adapters (MACs)
            (without_nic, 2),   # info, vnic counters
            (stopped, 1),       # info
        ]
        for inst, calls in expected:
            self.lab.zvm.reset_rest_calls()
            self.driver.get_instance_diagnostics(inst)
            self.assertEqual(calls, len(self.lab.zvm.rest_calls()),
                             self.lab.zvm.rest_calls())

    def test_stopped_guest_has_state_and_no_figures(self):
        inst = self.coupled_guest()
        self.client.guest_stop(self.userid(inst))
        diags = self.driver.get_instance_diagnostics(inst)
        self.assertEqual('shutdown', diags.state)
        for field in ('maximum', 'used'):
            self.assertFalse(diags.memory_details.obj_attr_is_set(field))
        self.assertEqual(([], [], []), (diags.cpu_details, diags.nic_details,
                                        diags.disk_details))
        self.assertEqual({'state': 'shutdown'},
                         self.driver.get_diagnostics(inst))

    def test_paused_guest(self):
        inst = self.guest()
        self.driver.pause(inst)
        self.assertEqual('paused',
                         self.driver.get_instance_diagnostics(inst).state)

    def test_absent_guest_is_instance_not_found(self):
        inst = self.instance()
        for method in (self.driver.get_instance_diagnostics,
                       self.driver.get_diagnostics):
            self.assertRaises(nova_exception.InstanceNotFound, method, inst)

    def test_legacy_diagnostics(self):
        inst = self.coupled_guest()
        legacy = self.driver.get_diagnostics(inst)
        self.assertEqual('running', legacy['state'])
        self.assertEqual(512, legacy['memory_mb'])
        self.assertEqual(1, legacy['num_cpus'])
        self.assertGreaterEqual(legacy['cpu_time_ns'], 0)
        self.assertEqual(mac_of(self.userid(inst)),
                         legacy['nic0_mac_address'])
        for field in ('rx_octets', 'rx_packets', 'rx_errors', 'rx_drop',
                      'tx_octets', 'tx_packets', 'tx_errors', 'tx_drop'):
            self.assertIsInstance(legacy['nic0_' + field], int)
