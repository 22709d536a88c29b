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

"""Nova's Cinder fixture, backed by the lab's storage array over FC.

Each volume made with :meth:`ZVMCinderFixture.create_fc_volume` is a LUN
of the lab's array, reachable through two target ports. As a Cinder Fibre
Channel driver does, an attachment update with a host connector maps the
LUN to the connector's initiator WWPNs (the guest's NPIV ports) and
returns ``fibre_channel`` connection_info naming every target port; an
attachment delete unmaps it again.
"""

import copy

from nova.tests import fixtures as nova_fixtures

# The array's two target ports (one per fabric).
TARGETS = ('500507680b21ac41', '500507680b22ac41')


def _hex(text):
    """A WWPN or LUN in one notation: lower case, no ``0x``, 16 digits.

    The array writes LUNs as bare hex digits, Cinder's side as
    ``0x``-prefixed ones (``_lun``).
    """
    text = str(text).strip().lower()
    return (text[2:] if text.startswith('0x') else text).rjust(16, '0')


class ZVMCinderFixture(nova_fixtures.CinderFixture):

    def __init__(self, test, lab_zvm, targets=TARGETS):
        super().__init__(test)
        self.lab_zvm = lab_zvm
        self.targets = list(targets)
        # volume id -> LUN number on the array
        self.luns = {}

    def create_fc_volume(self, volume_id, lun, size_gb=1, image=None,
                         bootable=False):
        """A LUN on every target port, known to Cinder as ``volume_id``."""
        for target in self.targets:
            self.lab_zvm.create_lun(target, '0x%04x000000000000' % lun,
                                    size_gb=size_gb, image=image)
        self.luns[volume_id] = lun
        self.volumes[volume_id] = {
            'id': volume_id, 'display_name': volume_id, 'size': size_gb,
            'status': 'available', 'attach_status': 'detached',
            'multiattach': False, 'availability_zone': self.az,
            'bootable': bootable}
        if image:
            self.volumes[volume_id]['volume_image_metadata'] = {
                'architecture': 's390x', 'os_distro': image,
                'hypervisor_type': 'zvm'}
        return volume_id

    def _lun(self, lun):
        return '0x%04x000000000000' % lun

    def _find_connection_info(self, volume_id, attachment_id):
        if volume_id not in self.luns:
            return super()._find_connection_info(volume_id, attachment_id)
        return {
            'driver_volume_type': 'fibre_channel',
            'serial': volume_id,
            'data': {
                'volume_id': volume_id,
                'attachment_id': attachment_id,
                'target_discovered': False,
                'target_wwn': copy.copy(self.targets),
                'target_lun': self.luns[volume_id],
                'access_mode': 'rw',
            }}

    def _connector_of(self, attachment_id):
        volume_id, attachment, _all = self._find_attachment(attachment_id)
        return volume_id, attachment.get('connector')

    def _map(self, volume_id, connector, mapped):
        if volume_id not in self.luns or not connector:
            return
        wwpns = connector.get('wwpns') or []
        for target in self.targets:
            if mapped:
                self.lab_zvm.map_lun(wwpns, target,
                                     self._lun(self.luns[volume_id]))
            else:
                self.lab_zvm.unmap_lun(wwpns, target,
                                       self._lun(self.luns[volume_id]))

    def fake_attachment_create(self, context, volume_id, instance_uuid,
                               connector=None, mountpoint=None):
        attachment = super().fake_attachment_create(
            context, volume_id, instance_uuid, connector=connector,
            mountpoint=mountpoint)
        self._map(volume_id, connector, True)
        return attachment

    def fake_attachment_update(self, context, attachment_id, connector,
                               mountpoint=None):
        ref = super().fake_attachment_update(context, attachment_id,
                                             connector, mountpoint=mountpoint)
        volume_id, _conn = self._connector_of(attachment_id)
        self._map(volume_id, connector, True)
        return ref

    def fake_attachment_delete(self, context, attachment_id):
        volume_id, connector = self._connector_of(attachment_id)
        self._map(volume_id, connector, False)
        super().fake_attachment_delete(context, attachment_id)
        if volume_id in self.volumes and not self.volume_to_attachment[
                volume_id]:
            self.volumes[volume_id].update(status='available',
                                           attach_status='detached')

    def stray_mappings(self, attached=None):
        """The array's host mappings that no volume attachment accounts for.

        A connected attachment (one with a host connector) of a volume in
        ``attached`` (volume ids; None: every volume) accounts for the
        volume's LUN on each target port to each of its connector's
        initiator WWPNs, as a Cinder FC driver maps it. Anything else the
        array maps, of this fixture's LUNs or not, is stray.

        :returns: ``[(initiator, 'target/lun')]`` in the array's notation
        """
        accounted = set()
        for volume_id, attachments in self.volume_to_attachment.items():
            if volume_id not in self.luns or (
                    attached is not None and volume_id not in attached):
                continue
            lun = _hex(self._lun(self.luns[volume_id]))
            for attachment in attachments.values():
                connector = attachment.get('connector') or {}
                for wwpn in connector.get('wwpns') or []:
                    accounted.update((_hex(wwpn), _hex(target), lun)
                                     for target in self.targets)
        stray = []
        for initiator, mapped in sorted(
                self.lab_zvm.storage()['mappings'].items()):
            for key in mapped:
                target, _sep, lun = key.rpartition('/')
                if (_hex(initiator), _hex(target), _hex(lun)) not in accounted:
                    stray.append((initiator, key))
        return stray

    def lun_state(self, volume_id):
        """The array's record of the volume's LUN on each target port."""
        wanted = self._lun(self.luns[volume_id])[2:]
        return [lun for lun in self.lab_zvm.storage()['luns']
                if lun['lun'].endswith(wanted)]
