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

"""The z/VM host's resources as nova and placement want them.

Nova's resource periodic task asks for the node list, the available
resources and the provider tree one after the other; all of them are
answered from one ``host_get_info`` (plus one ``host_diskpool_get_info``
when ``[zvm] disk_pool`` names the pool) cached for a few seconds. When the
connector fails, the last good figures are kept and the failure is logged
once, until the connector answers again.
"""

import threading
import time

from nova.compute import utils as compute_utils
from nova import exception as nova_exception
from nova.objects import fields as obj_fields
import os_resource_classes as orc
import os_traits
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import units

from nova_zvm import conf
from nova_zvm import exception as zvm_exception

CONF = conf.CONF
LOG = logging.getLogger(__name__)

# Short enough to see changes every periodic cycle (60 s by default), long
# enough that the methods of one cycle share a single host_get_info.
HOST_INFO_TTL = 10.0
# Bytes per unit of a volume's size: a 3390 cylinder, an FBA block.
UNIT_BYTES = {'CYL': 737280, 'BLK': 512}


class HostStats(object):
    """The connector's host and disk pool figures, cached briefly."""

    def __init__(self, client, ttl=HOST_INFO_TTL, clock=time.monotonic):
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._stats = None
        self._taken_at = None
        self._failing = False
        self._volumes = PoolVolumes(client)

    def get(self, refresh=False):
        """The latest figures; the last good ones when the connector fails.

        :raises nova.exception.VirtDriverNotReady: when the connector never
            answered since nova-compute started
        """
        with self._lock:
            if (not refresh and self._stats is not None and
                    self._clock() - self._taken_at < self._ttl):
                return self._stats
            try:
                stats = self._query()
            except zvm_exception.ZVMConnectorError as err:
                self._note_failure(err)
                if self._stats is None:
                    raise nova_exception.VirtDriverNotReady() from err
                # Retry on the next cycle, not on every call of this one.
                self._taken_at = self._clock()
                return self._stats
            if self._failing:
                LOG.info('The z/VM Cloud Connector answers again; host '
                         'figures are current')
            self._failing = False
            self._stats = stats
            self._taken_at = self._clock()
            return stats

    def _note_failure(self, err):
        if not self._failing:
            LOG.warning('Cannot get host information from the z/VM Cloud '
                        'Connector (%s); keeping the last figures until it '
                        'answers again', err)
        self._failing = True

    def _query(self):
        info = dict(self._client.host_get_info())
        if CONF.zvm.disk_pool:
            pool = self._client.host_diskpool_get_info(
                disk_pool=CONF.zvm.disk_pool)
            info.update(pool)
        largest = self._volumes.largest()
        if largest is not None:
            info['disk_max_minidisk'] = largest
        return info

    def disk_limit(self):
        """The largest minidisk the pool can place: ``(units, unit)``.

        From the last figures, however old (volumes do not shrink): a spawn
        costs no host query. None when the connector does not say (the
        check is then skipped).
        """
        with self._lock:
            stats = self._stats
        if stats is None:
            try:
                stats = self.get()
            except nova_exception.VirtDriverNotReady:
                return None
        return stats.get('disk_max_minidisk')

    def nodename(self):
        return self.get().get('hypervisor_hostname') or CONF.host


class PoolVolumes(object):
    """The volumes of the disk pool, and the largest minidisk they can hold.

    DirMaint places each minidisk inside one volume of the pool (a 3390-54
    holds 65,520 cylinders, about 45 GiB), so no minidisk is larger than
    the pool's largest volume, however much the pool holds in all. A
    volume's size never changes: each is asked for once.
    """

    def __init__(self, client):
        self._client = client
        self._sizes = {}

    def largest(self):
        """``(units, 'CYL'|'BLK')`` of the largest volume, or None."""
        try:
            names = (self._client.host_get_diskpool_volumes(
                disk_pool=CONF.zvm.disk_pool or None) or {}).get(
                    'diskpool_volumes', '').split()
            for name in names:
                if name not in self._sizes:
                    info = self._client.host_get_volume_info(volume=name)
                    self._sizes[name] = _volume_units(info)
        except zvm_exception.ZVMConnectorError as err:
            LOG.warning('Cannot list the volumes of the disk pool (%s); '
                        'the largest disk is not limited', err)
            return None
        sizes = [self._sizes[n] for n in names if self._sizes[n]]
        return max(sizes, key=_bytes) if sizes else None


def _volume_units(info):
    """``(units, unit)`` from host_get_volume_info's answer, or None."""
    info = info or {}
    if 'volume_size' not in info and len(info) == 1:
        # Keyed by the volume name in some answers.
        info = next(iter(info.values())) or {}
    try:
        units_ = int(info.get('volume_size'))
    except (TypeError, ValueError):
        return None
    kind = str(info.get('volume_type', ''))
    return (units_, 'BLK') if kind.startswith('9336') else (units_, 'CYL')


def _bytes(limit):
    return limit[0] * UNIT_BYTES[limit[1]]


def max_minidisk_gb(stats):
    """Whole GiB that fit in the largest volume, or None if unknown."""
    limit = stats.get('disk_max_minidisk')
    return _bytes(limit) // units.Gi if limit else None


def available_resource(stats):
    """The resource dict of ``ComputeDriver.get_available_resource``."""
    return {
        'vcpus': int(stats.get('vcpus', 0)),
        'memory_mb': int(stats.get('memory_mb', 0)),
        'local_gb': int(stats.get('disk_total', 0)),
        'vcpus_used': int(stats.get('vcpus_used', 0)),
        'memory_mb_used': int(stats.get('memory_mb_used', 0)),
        'local_gb_used': int(stats.get('disk_used', 0)),
        'hypervisor_type': obj_fields.HVType.ZVM,
        'hypervisor_version': int(stats.get('hypervisor_version', 0)),
        'hypervisor_hostname': stats.get('hypervisor_hostname') or CONF.host,
        'cpu_info': jsonutils.dumps(stats.get('cpu_info', {})),
        'disk_available_least': int(stats.get('disk_available', 0)),
        'supported_instances': [(obj_fields.Architecture.S390X,
                                 obj_fields.HVType.ZVM,
                                 obj_fields.VMMode.HVM)],
        'numa_topology': None,
    }


def inventory(stats, ratios):
    """Placement inventory of the node from the host figures.

    :param ratios: allocation ratios by resource class, as
        ``ComputeDriver._get_allocation_ratios`` computes them
    """
    vcpus = int(stats.get('vcpus', 0))
    memory_mb = int(stats.get('memory_mb', 0))
    disk_gb = int(stats.get('disk_total', 0))
    result = {}
    # Placement refuses inventory with a total of 0.
    if vcpus:
        result[orc.VCPU] = _record(vcpus, CONF.zvm.max_guest_vcpus,
                                   CONF.reserved_host_cpus,
                                   ratios[orc.VCPU])
    if memory_mb:
        result[orc.MEMORY_MB] = _record(memory_mb,
                                        CONF.zvm.max_guest_memory_mb,
                                        CONF.reserved_host_memory_mb,
                                        ratios[orc.MEMORY_MB])
    if disk_gb:
        reserved_gb = compute_utils.convert_mb_to_ceil_gb(
            CONF.reserved_host_disk_mb)
        # No instance gets a disk larger than one volume can hold.
        largest = max_minidisk_gb(stats)
        result[orc.DISK_GB] = _record(
            disk_gb, disk_gb if largest is None else largest, reserved_gb,
            ratios[orc.DISK_GB])
    return result


def _record(total, guest_limit, reserved, ratio):
    return {
        'total': total,
        'min_unit': 1,
        'max_unit': max(1, min(total, guest_limit)),
        'step_size': 1,
        'allocation_ratio': ratio,
        'reserved': reserved,
    }


TRAITS = (os_traits.HW_ARCH_S390X,)


def uptime(stats):
    """The host's IPL time, as the connector reports it."""
    return stats.get('ipl_time', '')
