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

"""The z/VM Cloud Connector client: one method per REST API call."""

from nova_zvm.client import guests
from nova_zvm.client import host
from nova_zvm.client import images
from nova_zvm.client import network
from nova_zvm.client import streaming
from nova_zvm.client import transport
from nova_zvm.client import volumes


class ZVMClient(guests.GuestAPI, network.NetworkAPI, images.ImageAPI,
                host.HostAPI, volumes.VolumeAPI):
    """A client of one Cloud Connector, shared by all of nova-compute.

    Each method is named after the connector's API (zvmconnector's names),
    takes the same positional arguments and returns the answer's
    ``output``; failures raise ``nova_zvm.exception`` errors. Values that
    become part of a URL are checked first (``InvalidParameter``).

    :param url: ``http(s)://host:port`` of the connector
    :param token_file: the admin token file; None if the connector runs
        without authentication
    :param ca_file: CA bundle to verify an https connector (default: the
        system's CAs)
    :param verify: False turns TLS verification off (logged as a warning)
    :param connect_timeout: seconds to connect
    :param read_timeout: seconds to wait for an answer
    :param long_read_timeout: seconds to wait for image import/export, file
        upload/download, deploy, capture and live migration
    :param max_retries: retries of calls that are safe to repeat
    :param retry_interval: seconds before the first retry (then doubling)
    :param pool_size: pooled connections kept open
    """

    def __init__(self, url, token_file=None, ca_file=None, verify=True,
                 connect_timeout=10.0, read_timeout=120.0,
                 long_read_timeout=3600.0, max_retries=3, retry_interval=1.0,
                 pool_size=32, chunk_size=streaming.CHUNK_SIZE):
        self._transport = transport.Transport(
            url, token_file=token_file, ca_file=ca_file, verify=verify,
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            long_read_timeout=long_read_timeout, max_retries=max_retries,
            retry_interval=retry_interval, pool_size=pool_size)
        self._chunk_size = chunk_size

    @classmethod
    def from_conf(cls, conf):
        """A client built from the ``[zvm]`` options of ``conf``."""
        zvm = conf.zvm
        return cls(zvm.cloud_connector_url,
                   token_file=zvm.token_file,
                   ca_file=zvm.ca_file,
                   verify=not zvm.insecure,
                   connect_timeout=zvm.connect_timeout,
                   read_timeout=zvm.read_timeout,
                   long_read_timeout=zvm.long_read_timeout,
                   max_retries=zvm.max_retries,
                   retry_interval=zvm.retry_interval,
                   pool_size=zvm.connection_pool_size)

    @property
    def url(self):
        return self._transport.base_url

    def close(self):
        """Close the pooled connections; the client is unusable after."""
        self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
