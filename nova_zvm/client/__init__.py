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

"""A thin REST client for the z/VM Cloud Connector (zvmsdk's REST API).

::

    client = ZVMClient.from_conf(CONF)          # or ZVMClient(url, ...)
    client.guest_get_power_state('ZVM00001')    # -> 'on' | 'off'
    path = client.file_import('/tmp/img')       # streamed; a path there
    client.image_import('name', 'file://' + path, {'os_version': 'rhel8'})
    client.close()

Methods are named after the connector's APIs (zvmconnector's table), take
the same positional arguments and return the answer's ``output``. Failures
raise ``nova_zvm.exception`` errors (``NotFound``, ``Conflict``,
``BadRequest``/``InvalidParameter``, ``Unauthorized``, ``Busy``,
``ZVMFailure``, ``ConnectionFailed``, ``Timeout``), all
``ZVMConnectorError`` with ``api``, ``status``, ``overall_rc``, ``rc``,
``rs``, ``errmsg``, ``mod_id``.

What the connector (1.6.3) answers, seen on the lab:

* ``guest_delete`` and ``image_delete`` of something absent succeed;
* ``image_query(name)`` of an absent image raises ``NotFound``;
* unknown guests are ``NotFound`` (404), a duplicate guest or image
  ``Conflict`` (409), a body its schema refuses ``BadRequest`` (400);
* ``guest_create_network_interface`` defines the NIC itself (a prior
  ``guest_create_nic`` on the same vdev makes it fail with 409);
* ``guest_inspect_stats`` lists running guests only.

One client is meant to be shared by all threads (native or green) of a
nova-compute: one connection pool, one cached token.
"""

from nova_zvm.client.client import ZVMClient

__all__ = ['ZVMClient']
