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

"""Interfaces attached to and detached from guests, on the lab."""

import collections

from nova import exception as nova_exception
from testtools import content

from nova_zvm import exception as zvm_exception
from nova_zvm.tests.unit.virt import spawn_base
from nova_zvm.virt import image
from nova_zvm.virt import interfaces
from nova_zvm.virt import spawn


def _reading(call):
    """A z/VM call that changes nothing (queries of CP and SMAPI)."""
    return call.startswith(('cp:Q', 'cp:QUERY')) or '_Query' in call or \
        call.startswith('smapi:Image_Query') or call.endswith('_Query')


def _named(call):
    """A call as a fault can name it again: CP's words before a number.

    (The spool file number of a punch differs from one attach to the
    next.)
    """
    if not call.startswith('cp:'):
        return call
    words = []
    for word in call.split():
        if any(ch.isdigit() for ch in word):
            break
        words.append(word)
    return ' '.join(words)


class InterfaceTestCase(spawn_base.SpawnTestCase):

    def setUp(self):
        super().setUp()
        self.image_meta = self.glance.add()

    def guest(self, power_on=False):
        """A guest with one NIC on VSW1 (flat)."""
        inst = self.instance()
        inst.system_metadata = {'image_os_distro': 'rhel8.6'}
        first = self.vif(0, physnet='physnet1')
        manager = image.ImageManager(self.client, image_api=self.glance)
        spawn.spawn(self.client, self.virtapi, self.context, inst,
                    self.image_meta, [], 'secret', {}, [first],
                    power_on=power_on, image_manager=manager)
        self.addCleanup(spawn.destroy, self.client, self.context, inst,
                        [first])
        return inst, first

    def nics(self, inst):
        return self.user(inst.name)['nics']

    def attach(self, inst, vif):
        interfaces.attach_interface(self.client, inst, self.image_meta, vif)


class TestAttachStopped(InterfaceTestCase):

    def test_attach_then_detach(self):
        inst, first = self.guest()
        vif = self.vif(1, physnet='physnet2', vlan=7)

        self.attach(inst, vif)

        nic = self.nics(inst)['1003']
        self.assertEqual(vif['address'].upper(), nic['mac'].upper())
        self.assertEqual(vif['address'].upper(),
                         nic['directory_mac'].upper())
        self.assertEqual(('VSW2', 7), (nic['vswitch'], nic['vlan']))
        self.assertTrue(nic['coupled_directory'])
        self.assertEqual({'VSW1': None, 'VSW2': 7}, self.grants(inst.name))

        # At its next start the guest has it, coupled, with the port's MAC.
        self.client.guest_start(inst.name.upper())
        nic = self.nics(inst)['1003']
        self.assertTrue(nic['active'])
        self.assertTrue(nic['coupled_active'])
        self.assertEqual(vif['address'].upper(), nic['mac'].upper())
        self.client.guest_stop(inst.name.upper())

        interfaces.detach_interface(self.client, inst, vif)

        self.assertEqual(['1000'], sorted(self.nics(inst)))
        self.assertEqual({'VSW1': None}, self.grants(inst.name))

    def test_attach_twice_and_detach_twice_change_nothing_more(self):
        inst, first = self.guest()
        vif = self.vif(1, physnet='physnet1')
        self.attach(inst, vif)
        self.attach(inst, vif)
        self.assertEqual(['1000', '1003'], sorted(self.nics(inst)))

        interfaces.detach_interface(self.client, inst, vif)
        interfaces.detach_interface(self.client, inst, vif)
        self.assertEqual(['1000'], sorted(self.nics(inst)))
        # VSW1 still has the first NIC: its grant stays.
        self.assertEqual({'VSW1': None}, self.grants(inst.name))

    def test_detach_of_the_last_nic_revokes_the_grant(self):
        inst, first = self.guest()
        interfaces.detach_interface(self.client, inst, first)
        self.assertEqual({}, self.nics(inst))
        self.assertEqual({}, self.grants(inst.name))

    def test_vlan_nic_beside_a_flat_one_leaves_the_grant_as_it_was(self):
        inst, first = self.guest()
        vif = self.vif(1, physnet='physnet1', vlan=9)
        self.attach(inst, vif)
        self.assertEqual({'VSW1': 9}, self.grants(inst.name))
        self.assertEqual(9, self.nics(inst)['1003']['vlan'])

        interfaces.detach_interface(self.client, inst, vif)

        self.assertEqual(['1000'], sorted(self.nics(inst)))
        self.assertEqual({'VSW1': None}, self.grants(inst.name))

    def test_failure_at_every_call_leaves_nothing(self):
        # A new grant (VSW2) is revoked.
        self._fail_every_call(physnet='physnet2', vlan=7)

    def test_failure_at_every_call_restores_an_older_grant(self):
        # The boot NIC's grant on VSW1 (no VLAN) is put back as it was.
        self._fail_every_call(physnet='physnet1', vlan=7)

    def _fail_every_call(self, physnet, vlan):
        inst, first = self.guest()
        before = self.nics(inst), self.grants(inst.name)
        self.lab.zvm.reset_calls()
        vif = self.vif(1, physnet=physnet, vlan=vlan)
        self.attach(inst, vif)
        calls = [_named(c) for c in self.lab.zvm.calls()
                 if not _reading(c)]
        interfaces.detach_interface(self.client, inst, vif)
        self.assertTrue(any('Vswitch_Set' in c for c in calls), calls)
        self.addDetail('attach-calls', content.text_content(
            '\n'.join(calls)))

        seen = collections.Counter()
        failed = []
        for call in calls:
            seen[call] += 1
            self.lab.zvm.clear_faults()
            self.lab.zvm.inject_fault(call, rc=8, rs=99, nth=seen[call])
            try:
                self.attach(inst, self.vif(1, physnet=physnet, vlan=vlan))
            except zvm_exception.ZVMConnectorError:
                failed.append(call)
            else:
                self.fail('%s #%d: the attach did not fail'
                          % (call, seen[call]))
            finally:
                self.lab.zvm.clear_faults()
            self.assertEqual(before, (self.nics(inst),
                                      self.grants(inst.name)), call)
        self.assertEqual(len(calls), len(failed))


class TestRefused(InterfaceTestCase):

    def test_running_guest_is_refused_before_any_change(self):
        inst, first = self.guest(power_on=True)
        self.lab.zvm.reset_rest_calls()
        err = self.assertRaises(interfaces.HotplugUnsupported, self.attach,
                                inst, self.vif(1))
        self.assertIn('Stop the server', str(err))
        self.assertEqual([], self.changing_rest_calls())
        self.assertEqual(['1000'], sorted(self.nics(inst)))

    def test_foreign_mac_prefix_is_refused_before_any_call(self):
        inst, first = self.guest()
        vif = self.vif(1)
        vif['address'] = 'fa:16:3e:12:34:56'
        self.lab.zvm.reset_rest_calls()
        err = self.assertRaises(nova_exception.InvalidInput, self.attach,
                                inst, vif)
        self.assertIn('02:00:00', str(err))
        self.assertIn('mac_prefix', str(err))
        self.assertEqual([], self.lab.zvm.rest_calls())

    def test_configured_prefix_is_honoured(self):
        self.conf.config(group='zvm', mac_prefix='fa-16-3e')
        vif = self.vif(1)
        vif['address'] = 'fa:16:3e:12:34:56'
        self.assertEqual(vif['address'], interfaces.check_mac(vif))
        vif['address'] = '02:00:00:12:34:56'
        self.assertRaises(nova_exception.InvalidInput,
                          interfaces.check_mac, vif)

    def test_unmapped_physnet_is_refused_before_any_call(self):
        inst, first = self.guest()
        self.lab.zvm.reset_rest_calls()
        err = self.assertRaises(nova_exception.InvalidInput, self.attach,
                                inst, self.vif(1, physnet='elsewhere'))
        self.assertIn('vswitch_mappings', str(err))
        self.assertEqual([], self.lab.zvm.rest_calls())


class TestDetachRunning(InterfaceTestCase):

    def test_detach_from_a_running_guest(self):
        inst, first = self.guest(power_on=True)
        self.assertTrue(self.nics(inst)['1000']['coupled_active'])
        interfaces.detach_interface(self.client, inst, first)
        self.assertEqual({}, self.nics(inst))
        self.assertEqual({}, self.grants(inst.name))
        self.assertEqual('on', self.user(inst.name)['power'])
