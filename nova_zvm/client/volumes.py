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

"""Volume (FCP) calls: attach, detach, the host's connector."""

from nova_zvm.client import base
from nova_zvm.client import validate


class VolumeAPI(base.APIBase):

    def volume_attach(self, connection_info):
        # The connector runs the attach script in the guest over IUCV.
        return self._call('volume_attach', 'POST', '/guests/volumes',
                          json_body={'info': {'connection': connection_info}},
                          long_running=True)

    def volume_detach(self, connection_info):
        return self._call('volume_detach', 'DELETE', '/guests/volumes',
                          json_body={'info': {'connection': connection_info}},
                          long_running=True)

    def get_volume_connector(self, userid, reserve=False,
                             fcp_template_id=None, sp_name=None):
        api = 'get_volume_connector'
        # The connector reads this GET's parameters from a JSON body.
        return self._call(
            api, 'GET', base.path('volumes', 'conn',
                                  validate.userid(api, userid)),
            json_body={'info': {'reserve': reserve,
                                'fcp_template_id': fcp_template_id,
                                'storage_provider': sp_name}})

    def get_fcp_templates_details(self, statistics=True):
        """All FCP templates with, per path, their free and used FCPs.

        Read only: the connector's database as it is (``sync_with_zvm``
        stays off, so nothing is asked of or changed on z/VM).
        """
        return self._call(
            'get_fcp_templates_details', 'GET', '/volumes/fcptemplates/detail',
            params={'raw': 'false',
                    'statistics': 'true' if statistics else 'false',
                    'sync_with_zvm': 'false'})

    def get_fcp_templates(self):
        """The connector's FCP templates (id, name, defaults)."""
        return self._call('get_fcp_templates', 'GET', '/volumes/fcptemplates')

    def get_fcp_usage(self, fcp):
        """``[userid, reserved, connections, template id]`` of one FCP."""
        api = 'get_fcp_usage'
        return self._call(api, 'GET',
                          base.path('volumes', 'fcp', validate.vdev(api, fcp)))

    def volume_refresh_bootmap(self, fcpchannels, wwpns, lun,
                               fcp_template_id=None):
        """Write the bootmap of a LUN holding an image; the paths to it."""
        return self._call(
            'volume_refresh_bootmap', 'PUT', '/volumes/volume_refresh_bootmap',
            json_body={'info': {'fcpchannel': fcpchannels, 'wwpn': wwpns,
                                'lun': lun, 'wwid': '', 'transportfiles': '',
                                'guest_networks': [],
                                'fcp_template_id': fcp_template_id}},
            long_running=True)

    def set_fcp_usage(self, fcp, userid, reserved, connections,
                      fcp_template_id=None):
        """Overwrite one FCP's record (owner, reserved, connections)."""
        api = 'set_fcp_usage'
        return self._call(
            api, 'PUT', base.path('volumes', 'fcp', validate.vdev(api, fcp)),
            json_body={'info': {'userid': validate.userid(api, userid),
                                'reserved': int(reserved),
                                'connections': int(connections),
                                'fcp_template_id': fcp_template_id or ''}})
