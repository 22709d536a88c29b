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

"""Calls z/VM refused because a directory entry was locked: retried."""

from nova_zvm import exception
from nova_zvm.tests.unit.client import base

GUEST = base.URL + '/guests/ABC'
NIC = base.URL + '/guests/ABC/nic/1000'


def _locked(rc=400, rs=12, overall_rc=8, status=500):
    return {'status_code': status, 'json': base.envelope(
        overall_rc=overall_rc, rc=rc, rs=rs, errmsg='locked')}


class LockedRetryTestCase(base.MockedConnectorTestCase):

    def test_a_delete_is_repeated_while_the_entry_is_locked(self):
        self.mock.delete(GUEST, [_locked(), _locked(rc=408, rs=12),
                                 {'json': base.envelope(None)}])
        self.client(max_retries=3).guest_delete('ABC')
        self.assertEqual(3, len(self.requests_to('/guests/ABC', 'DELETE')))
        self.assertEqual(2, len(self.sleeps))

    def test_retries_are_bounded_and_the_last_error_raised(self):
        self.mock.delete(GUEST, [_locked()] * 5)
        err = self.assertRaises(exception.ZVMFailure,
                                self.client(max_retries=2).guest_delete,
                                'ABC')
        self.assertEqual((400, 12), (err.rc, err.rs))
        self.assertEqual(3, len(self.requests_to('/guests/ABC', 'DELETE')))

    def test_zvmsdk_locked_conflicts_are_repeated_too(self):
        # zvmsdk's conflict 11: "Failed to couple nic ... is locked".
        self.mock.put(NIC, [_locked(rc=409, rs=11, overall_rc=409,
                                    status=409),
                            {'json': base.envelope(None)}])
        self.client(max_retries=3).guest_nic_couple_to_vswitch(
            'ABC', '1000', 'VSW1')
        self.assertEqual(2, len(self.requests_to('/guests/ABC/nic/1000')))

    def test_other_failures_and_other_calls_are_not_repeated(self):
        self.mock.delete(GUEST, [_locked(rc=400, rs=8)] * 2)
        self.assertRaises(exception.ZVMFailure,
                          self.client(max_retries=3).guest_delete, 'ABC')
        self.assertEqual(1, len(self.requests_to('/guests/ABC', 'DELETE')))
        # guest_create is two DirMaint steps: a repeat is not safe.
        self.mock.post(base.URL + '/guests', [_locked()] * 2)
        self.assertRaises(exception.ZVMFailure,
                          self.client(max_retries=3).guest_create,
                          'ABC', 1, 512)
        self.assertEqual(1, len(self.requests_to('/guests', 'POST')))
