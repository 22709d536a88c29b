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

"""A guest's diagnostics: CPU time, memory and NIC counters from z/VM.

At most three connector calls:

* ``guest_get_info`` (``Image_Performance_Query`` of this one guest, never
  cached): power state, CPU time of all virtual CPUs together, memory.
  A stopped guest ends here: its state and no figures.
* ``guest_inspect_vnics`` (``Virtual_Network_Vswitch_Query_Byte_Stats``):
  frame and byte counters of the guest's NICs coupled to a vswitch, which
  the connector's monitor may answer from its cache (``[monitor]
  cache_interval`` in zvmsdk.conf).
* ``guest_get_adapters_info`` (``Virtual_Network_Adapter_Query_Extended``),
  only when the guest has counted NICs: the MAC address of each, as z/VM
  gives it (its system MAC prefix before the port MAC's last three bytes).

z/VM cannot give: disk I/O (minidisk I/O is not in the connector's
statistics), per-vCPU times and utilisation, the guest's uptime, NIC
rates. These stay unset. ``cpu_details`` therefore holds one entry
without an id: the time of all virtual CPUs together.

Nova's ``HypervisorDriver`` enum (and the 2.48 response schema) has no
value for z/VM, so ``driver`` stays unset as well.
"""

from nova.compute import power_state
from nova.objects import diagnostics as nova_diagnostics

from nova_zvm.virt import power as zvm_power
from nova_zvm.virt import userid as zvm_userid

HYPERVISOR = 'zvm'

# Nova's NicDiagnostics field <- the connector's guest_inspect_vnics key.
NIC_COUNTERS = (
    ('rx_octets', 'nic_rx'),
    ('rx_packets', 'nic_fr_rx'),
    ('rx_errors', 'nic_fr_rx_err'),
    ('rx_drop', 'nic_fr_rx_dsc'),
    ('tx_octets', 'nic_tx'),
    ('tx_packets', 'nic_fr_tx'),
    ('tx_errors', 'nic_fr_tx_err'),
    ('tx_drop', 'nic_fr_tx_dsc'),
)


def instance_diagnostics(client, instance, paused=False):
    """Nova's ``Diagnostics`` of ``instance``'s guest.

    :param paused: nova paused the guest (z/VM reports it running)
    """
    userid = zvm_userid.for_instance(instance)
    info = client.guest_get_info(userid)
    state = zvm_power.nova_state(info.get('power_state'), paused)
    diags = nova_diagnostics.Diagnostics(
        state=power_state.STATE_MAP[state], hypervisor=HYPERVISOR,
        # Spawn always deploys with a config drive (the guest's network
        # and metadata come from it).
        config_drive=True)
    if info.get('power_state') != zvm_power.ON:
        # Logged off: z/VM keeps no figures of a guest that is not running.
        return diags
    diags.memory_details = nova_diagnostics.MemoryDiagnostics(
        maximum=_mb(info.get('max_mem_kb')), used=_mb(info.get('mem_kb')))
    cpu_time_us = info.get('cpu_time_us')
    if cpu_time_us is not None:
        diags.add_cpu(time=int(cpu_time_us) * 1000)
    if info.get('num_cpu') is not None:
        diags.num_cpus = int(info['num_cpu'])
    for nic in _nics(client, userid):
        diags.add_nic(**nic)
    return diags


def diagnostics(client, instance, paused=False):
    """The legacy (pre-2.48) diagnostics: one flat dict of the figures."""
    diags = instance_diagnostics(client, instance, paused=paused)
    legacy = {'state': diags.state}
    if diags.memory_details.obj_attr_is_set('maximum'):
        legacy['memory_mb'] = diags.memory_details.maximum
        legacy['memory_used_mb'] = diags.memory_details.used
    if diags.cpu_details:
        legacy['cpu_time_ns'] = diags.cpu_details[0].time
        legacy['num_cpus'] = diags.num_cpus
    for index, nic in enumerate(diags.nic_details):
        prefix = 'nic%d_' % index
        legacy[prefix + 'mac_address'] = nic.mac_address
        for field, _key in NIC_COUNTERS:
            legacy[prefix + field] = getattr(nic, field)
    return legacy


def _mb(kb):
    return None if kb is None else int(kb) // 1024


def _vdev(value):
    return ('%s' % value).strip().upper().zfill(4)


def _nics(client, userid):
    """NicDiagnostics keywords of the guest's coupled NICs, by vdev."""
    # The connector matches userids in the statistics case-sensitively
    # against z/VM's upper-case ones.
    answer = client.guest_inspect_vnics([userid.upper()])
    counted = next((nics for uid, nics in (answer or {}).items()
                    if uid.upper() == userid.upper()), [])
    if not counted:
        return []
    adapters = (client.guest_get_adapters_info(userid) or {}).get(
        'adapters') or []
    macs = {_vdev(adapter.get('adapter_address', '')):
            adapter.get('mac_address') for adapter in adapters}
    nics = []
    for nic in sorted(counted, key=lambda n: _vdev(n.get('nic_vdev', ''))):
        fields = {field: int(nic[key]) for field, key in NIC_COUNTERS
                  if nic.get(key) is not None}
        fields['mac_address'] = macs.get(_vdev(nic.get('nic_vdev', '')))
        nics.append(fields)
    return nics
