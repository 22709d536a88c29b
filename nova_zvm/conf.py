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

"""The ``[zvm]`` options nova-zvm adds to nova's own.

Nova already registers ``[zvm] cloud_connector_url``, ``ca_file``,
``image_tmp_path`` and ``reachable_timeout`` (``nova.conf.zvm``); they are
reused as they are, since registering them again raises
``DuplicateOptError``. Everything here is new and lives in ``[zvm]`` too.
"""

from oslo_config import cfg

import nova.conf
from nova.conf import zvm as nova_zvm_conf

CONF = nova.conf.CONF

connection_opts = [
    cfg.StrOpt('token_file',
               help="""
Path of the Cloud Connector's admin token file.

When the z/VM Cloud Connector runs with token authentication
(``[wsgi] auth = token`` in zvmsdk.conf), the driver reads the admin token
from this file, exchanges it for an auth token and refreshes it when the
connector refuses it. The file should be readable by the nova-compute user
only (mode 0600).

Possible values:
    * Unset (the default): the connector runs without authentication.
    * A path to the file holding the connector's admin token.
"""),
    cfg.BoolOpt('insecure',
                default=False,
                help="""
Skip verification of the Cloud Connector's TLS certificate.

By default an ``https`` ``cloud_connector_url`` is verified against
``[zvm] ca_file``, or without it against certifi's CA bundle (requests'
default, not the system store). Setting this to True turns
verification off, which exposes the admin token to anyone able to intercept
the connection; the driver logs a warning at start-up when it is set.
"""),
    cfg.FloatOpt('connect_timeout',
                 default=10.0,
                 min=0.1,
                 help="""
Seconds to wait for a TCP (and TLS) connection to the Cloud Connector.
"""),
    cfg.FloatOpt('read_timeout',
                 default=120.0,
                 min=1,
                 help="""
Seconds to wait for the Cloud Connector to answer an ordinary call.

Calls that move or write whole disks use ``long_read_timeout`` instead.
"""),
    cfg.FloatOpt('long_read_timeout',
                 default=3600.0,
                 min=1,
                 help="""
Seconds to wait for the Cloud Connector to answer a long operation.

Applies to image import and export, file upload and download, guest deploy,
guest capture and live migration, which copy whole disks on z/VM.
"""),
    cfg.IntOpt('max_retries',
               default=3,
               min=0,
               help="""
How many times a call that is safe to repeat is retried.

Only connection failures and "busy" answers (HTTP 503, e.g. the connector's
limit of concurrent deploys and captures) are retried, with exponential
backoff and jitter. 0 disables retries.
"""),
    cfg.FloatOpt('retry_interval',
                 default=1.0,
                 min=0,
                 help="""
Seconds before the first retry; each later retry waits about twice as long.
"""),
    cfg.IntOpt('connection_pool_size',
               default=32,
               min=1,
               help="""
Maximum number of pooled HTTP connections to the Cloud Connector.

Size it to nova-compute's concurrency (e.g. ``sync_power_state_pool_size``
and ``max_concurrent_builds``): a call that finds the pool exhausted opens a
new, unpooled connection.
"""),
]

driver_opts = [
    cfg.DictOpt('vswitch_mappings',
                default={},
                help="""
Map neutron physical networks to z/VM virtual switches.

Each VIF of a server is coupled to the vswitch its physical network maps
to; the driver grants the guest access to that vswitch and sets its VLAN id
for VLAN networks, so no separate z/VM neutron agent is needed.

Example:
    vswitch_mappings = physnet1:VSWITCH1,provider:XCATVSW2
"""),
    cfg.StrOpt('mac_prefix',
               default='02:00:00',
               regex=r'^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){2}$',
               help="""
The z/VM system's MAC prefix (``VMLAN MACPREFIX`` in its SYSTEM CONFIG).

A NIC's directory entry keeps only the last three bytes of a MAC (its
MACID); CP puts this prefix in front of them. An interface is attached only
for a port whose MAC starts with this prefix, so that the guest's NIC
carries the port's MAC; set neutron's ``base_mac`` to match (e.g.
``base_mac = 02:00:00:00:00:00``). z/VM's default prefix is 02-00-00.
"""),
    cfg.StrOpt('disk_pool',
               help="""
Disk pool the guests' minidisks are carved from, as ``TYPE:NAME``.

TYPE is ``ECKD`` or ``FBA``; NAME is a directory manager (DirMaint) group.
When unset, the Cloud Connector's own ``[zvm] disk_pool`` is used. The
pool's size is reported to placement as the host's DISK_GB inventory.

Example:
    disk_pool = ECKD:POOL1
"""),
    cfg.StrOpt('user_profile',
               help="""
Directory profile included in every guest's user definition.

When unset, the Cloud Connector's own ``[zvm] user_profile`` is used.
"""),
    cfg.IntOpt('max_guest_vcpus',
               default=64,
               min=1,
               help="""
Most virtual CPUs one guest may be defined with.

Used as the VCPU max_unit reported to placement and as the guest's maximum
CPU count in its user definition.
"""),
    cfg.IntOpt('max_guest_memory_mb',
               default=262144,
               min=1,
               help="""
Most memory (MiB) one guest may be defined with.

Used as the MEMORY_MB max_unit reported to placement.
"""),
    cfg.IntOpt('power_state_cache_ttl',
               default=15,
               min=0,
               help="""
Seconds a bulk snapshot of all guests' power states stays valid.

Nova's power state sync asks for the number of instances and then the state
of each; the driver answers all of them from one bulk query to the
connector. Power operations of the driver and ``use_cache=False`` lookups
always ask the connector, and what they learn of one guest updates that
guest's entry only.

0 turns the bulk snapshot off: each ``get_info`` asks the connector for
that guest's state exactly, and the instance count and list ask for the
guest list only (a power sync of N guests costs N + 1 calls).
"""),
    cfg.IntOpt('lifecycle_poll_interval',
               default=5,
               min=0,
               help="""
Seconds between two polls of guests' power for lifecycle events.

z/VM does not notify anyone when a guest stops, starts or is forced off
outside nova. Every interval the driver takes one bulk snapshot of all
guests' power (one guest list and one statistics request of the Cloud
Connector, whatever the number of guests, plus exact queries of at most 10
guests while the connector's monitor repeats cached figures; see the
connector's ``[monitor] cache_interval`` in zvmsdk.conf) and tells nova
about each change of a guest this host owns that the driver did not make
itself, so that, for example, a server shut down from inside shows SHUTOFF
within seconds instead of at nova's next power state sync.

0 turns the polling off: nova then learns of such changes only at its
``sync_power_state_interval``. The polling also stops when
``[workarounds] handle_virt_lifecycle_events`` is False, since nova then
ignores driver events.
"""),
    cfg.IntOpt('console_log_max_bytes',
               default=100 * 1024,
               min=1024,
               help="""
Most bytes of a guest's console log returned by ``get_console_output``.

The newest output is kept when the log is longer.
"""),
    cfg.StrOpt('fcp_template',
               help="""
The Cloud Connector's FCP template (its id or name) that FCP volumes use.

Each guest with volumes gets one free FCP device per path of the template,
dedicated to it while it has volumes; the devices' NPIV WWPNs are what
Cinder maps LUNs to. Unset: the connector's default template (its
``host_default`` one). ``nova-status upgrade check`` says whether the
template exists and has free devices on every path.
"""),
    cfg.BoolOpt('keep_image_files',
                default=False,
                help="""
Keep downloaded image files in ``image_tmp_path`` after the connector has
imported them.

By default a file downloaded from Glance is removed once the Cloud
Connector holds the image, since the connector keeps its own copy.
"""),
]

ALL_OPTS = connection_opts + driver_opts


def register_opts(conf=CONF):
    # nova.conf has registered the [zvm] group and its four options already.
    conf.register_opts(ALL_OPTS, group='zvm')


def list_opts():
    """Options for oslo-config-generator (entry point ``nova_zvm``).

    Nova's own ``[zvm]`` options are listed too, so that the sample and the
    option reference describe the whole section the driver reads.
    """
    return [('zvm', nova_zvm_conf.zvm_opts + ALL_OPTS)]


register_opts()
