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


"""A fake SAN storage array: LUNs and which initiators may see them.

It knows nothing of z/VM: a LUN is addressed by the array's target port
WWPN and a LUN number; a host mapping lets one initiator WWPN (an FCP
device's NPIV port) see one LUN, as a storage administrator (or Cinder's
driver) sets it up.
"""

import threading


def _wwpn(text):
    w = text.lower()
    return w[2:] if w.startswith('0x') else w


def _lun(text):
    # LUNs travel as 16 hex digits ('0001000000000000') or '0x...'.
    return _wwpn(str(text)).rjust(16, '0')


class StorageArray(object):
    def __init__(self):
        self.lock = threading.Lock()
        # (target_wwpn, lun) -> {'size_gb', 'image'}
        self.luns = {}
        # initiator wwpn -> {(target_wwpn, lun)}
        self.mappings = {}

    def create_lun(self, target_wwpn, lun, size_gb=1, image=None):
        with self.lock:
            self.luns[(_wwpn(target_wwpn), _lun(lun))] = {
                'size_gb': size_gb, 'image': image}

    def delete_lun(self, target_wwpn, lun):
        key = (_wwpn(target_wwpn), _lun(lun))
        with self.lock:
            self.luns.pop(key, None)
            for luns in self.mappings.values():
                luns.discard(key)

    def map(self, initiator_wwpns, target_wwpn, lun):
        key = (_wwpn(target_wwpn), _lun(lun))
        with self.lock:
            if key not in self.luns:
                raise KeyError('no LUN %s on target %s' % (key[1], key[0]))
            for initiator in initiator_wwpns:
                self.mappings.setdefault(_wwpn(initiator), set()).add(key)

    def unmap(self, initiator_wwpns, target_wwpn, lun):
        key = (_wwpn(target_wwpn), _lun(lun))
        with self.lock:
            for initiator in initiator_wwpns:
                self.mappings.get(_wwpn(initiator), set()).discard(key)

    def visible(self, initiator_wwpn, target_wwpn, lun):
        """The LUN if the initiator may see it through that target."""
        key = (_wwpn(target_wwpn), _lun(lun))
        with self.lock:
            if key in self.mappings.get(_wwpn(initiator_wwpn), ()):
                return self.luns.get(key)
        return None

    def state(self):
        with self.lock:
            return {
                'luns': [dict(v, target_wwpn=t, lun=n)
                         for (t, n), v in sorted(self.luns.items())],
                'mappings': {i: sorted('%s/%s' % k for k in luns)
                             for i, luns in sorted(self.mappings.items())}}
