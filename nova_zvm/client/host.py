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

"""Host calls: the z/VM host, its guests, disk pools and SSI cluster."""

from nova_zvm.client import base


class HostAPI(base.APIBase):

    def version(self):
        return self._call('version', 'GET', '/')

    def host_get_info(self):
        return self._call('host_get_info', 'GET', '/host')

    def host_get_guest_list(self):
        return self._call('host_get_guest_list', 'GET', '/host/guests')

    def host_diskpool_get_info(self, disk_pool=None):
        """Total, used and free space of a ``TYPE:NAME`` disk pool.

        Without ``disk_pool``, of the connector's own ``[zvm] disk_pool``.
        """
        return self._call('host_diskpool_get_info', 'GET', '/host/diskpool',
                          params=base.given(poolname=disk_pool) or None)

    def host_get_diskpool_volumes(self, disk_pool=None):
        return self._call('host_get_diskpool_volumes', 'GET',
                          '/host/diskpool_volumes',
                          params=base.given(poolname=disk_pool) or None)

    def host_get_volume_info(self, volume=None):
        return self._call('host_get_volume_info', 'GET', '/host/volume',
                          params=base.given(volumename=volume) or None)

    def host_get_ssi_info(self):
        return self._call('host_get_ssi_info', 'GET', '/host/ssi')
