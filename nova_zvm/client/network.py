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

"""Network calls: NICs, guest network interfaces, vswitches."""

from nova_zvm.client import base
from nova_zvm.client import validate


class NetworkAPI(base.APIBase):

    def guest_create_nic(self, userid, vdev=None, nic_id=None, mac_addr=None,
                         active=None):
        api = 'guest_create_nic'
        if vdev is not None:
            validate.vdev(api, vdev)
        nic = base.given(vdev=vdev, nic_id=nic_id, mac_addr=mac_addr,
                         active=active)
        # One DirMaint change (plus CP's when active): repeat if locked.
        return self._call(api, 'POST', self._guest_path(api, userid, 'nic'),
                          json_body={'nic': nic}, locked_retry=True)

    def guest_delete_nic(self, userid, vdev, active=None):
        api = 'guest_delete_nic'
        return self._call(api, 'DELETE', self._nic_path(api, userid, vdev),
                          json_body=base.given(active=active),
                          locked_retry=True)

    def guest_nic_couple_to_vswitch(self, userid, nic_vdev, vswitch_name,
                                    active=None, vlan_id=None):
        api = 'guest_nic_couple_to_vswitch'
        info = {'couple': True,
                'vswitch': validate.vswitch(api, vswitch_name)}
        info.update(base.given(active=active, vlan_id=vlan_id))
        return self._call(api, 'PUT', self._nic_path(api, userid, nic_vdev),
                          json_body={'info': info}, locked_retry=True)

    def guest_nic_uncouple_from_vswitch(self, userid, nic_vdev, active=None):
        api = 'guest_nic_uncouple_from_vswitch'
        info = {'couple': False}
        info.update(base.given(active=active))
        return self._call(api, 'PUT', self._nic_path(api, userid, nic_vdev),
                          json_body={'info': info}, locked_retry=True)

    def guests_get_nic_info(self, userid=None, nic_id=None, vswitch=None):
        return self._call('guests_get_nic_info', 'GET', '/guests/nics',
                          params=base.given(userid=userid, nic_id=nic_id,
                                            vswitch=vswitch) or None)

    def guest_create_network_interface(self, userid, os_version,
                                       guest_networks, active=None):
        api = 'guest_create_network_interface'
        interface = {'os_version': os_version,
                     'guest_networks': guest_networks}
        interface.update(base.given(active=active))
        return self._call(api, 'POST',
                          self._guest_path(api, userid, 'interface'),
                          json_body={'interface': interface})

    def guest_delete_network_interface(self, userid, os_version, vdev,
                                       active=None):
        api = 'guest_delete_network_interface'
        interface = {'os_version': os_version,
                     'vdev': validate.vdev(api, vdev)}
        interface.update(base.given(active=active))
        return self._call(api, 'DELETE',
                          self._guest_path(api, userid, 'interface'),
                          json_body={'interface': interface})

    def vswitch_get_list(self):
        return self._call('vswitch_get_list', 'GET', '/vswitches')

    def vswitch_query(self, vswitch_name):
        return self._call('vswitch_query', 'GET',
                          self._vswitch_path('vswitch_query', vswitch_name))

    def vswitch_create(self, name, **kwargs):
        """Keywords (``rdev``, ``controller``, ``vid``...) go as they are."""
        api = 'vswitch_create'
        vswitch = {'name': validate.vswitch(api, name)}
        vswitch.update(base.given(**kwargs))
        return self._call(api, 'POST', '/vswitches',
                          json_body={'vswitch': vswitch})

    def vswitch_delete(self, vswitch_name):
        return self._call('vswitch_delete', 'DELETE',
                          self._vswitch_path('vswitch_delete', vswitch_name))

    def vswitch_grant_user(self, vswitch_name, userid):
        api = 'vswitch_grant_user'
        return self._call(
            api, 'PUT', self._vswitch_path(api, vswitch_name),
            json_body={'vswitch': {'grant_userid':
                                   validate.userid(api, userid)}})

    def vswitch_revoke_user(self, vswitch_name, userid):
        api = 'vswitch_revoke_user'
        return self._call(
            api, 'PUT', self._vswitch_path(api, vswitch_name),
            json_body={'vswitch': {'revoke_userid':
                                   validate.userid(api, userid)}})

    def vswitch_set_vlan_id_for_user(self, vswitch_name, userid, vlan_id):
        api = 'vswitch_set_vlan_id_for_user'
        return self._call(
            api, 'PUT', self._vswitch_path(api, vswitch_name),
            json_body={'vswitch': {'user_vlan_id': {
                'userid': validate.userid(api, userid),
                'vlanid': vlan_id}}})

    def _nic_path(self, api, userid, vdev):
        return self._guest_path(api, userid, 'nic', validate.vdev(api, vdev))

    def _vswitch_path(self, api, name):
        return base.path('vswitches', validate.vswitch(api, name))
