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


"""Guest statistics that move: CPU time, memory and NIC byte counters.

A running guest uses a quarter of each virtual CPU and touches memory
from half its size up to all of it within a minute of logon; a coupled
NIC receives 1,500 bytes and sends 1,000 bytes per second (12 and 8
frames). The figures only grow while the guest runs, so a test can poll
twice and see them change. ``Virtual_Network_Vswitch_Query_Byte_Stats``
answers in the line layout zvmsdk's ``_parse_vswitch_inspect_data``
walks by position (no uplinks, eight bridge lines, no VLANs).
"""

import re
import time

from nova_zvm.lab import fcp

CPU_SHARE = 0.25
RX_BYTES_PER_S, TX_BYTES_PER_S = 1500, 1000
RX_FRAMES_PER_S, TX_FRAMES_PER_S = 12, 8


def _up_seconds(user, now):
    since = user.get('stats_logon')
    if user['power'] == 'off' or since is None:
        return 0.0
    return max(0.0, now - since)


def install(dispatcher):
    smapi = dispatcher.smapi
    zvm = smapi.zvm
    perf_block = smapi.perf_block
    activate = smapi.do_Image_Activate

    def do_Image_Activate(ops):
        out = activate(ops)
        userid, user = smapi._user(ops)
        user['stats_logon'] = time.monotonic()
        return out

    def moving_perf_block(userid, user):
        up = _up_seconds(user, time.monotonic())
        mem_kb = user['memory_mb'] * 1024
        used_kb = int(mem_kb * min(1.0, 0.5 + up / 120.0))
        cpu_us = int(user['vcpus'] * up * CPU_SHARE * 1000000)
        block = perf_block(userid, user)
        block = re.sub(r'Used CPU time: "\d+ uS"',
                       'Used CPU time: "%d uS"' % cpu_us, block)
        block = re.sub(r'Elapsed time: "\d+ uS"',
                       'Elapsed time: "%d uS"' % int(up * 1000000), block)
        return re.sub(r'Used memory: "\d+ KB"',
                      'Used memory: "%d KB"' % used_kb, block)

    def do_Virtual_Network_Vswitch_Query_Byte_Stats(ops):
        now = time.monotonic()
        names = sorted(zvm.vswitches)
        lines = ['vswitch count: %d' % len(names), '']
        for n, name in enumerate(names, 1):
            lines += ['vswitch number: %d' % n, 'vswitch name: %s' % name,
                      'uplink count: 0']
            lines += ['bridge_fr_rx: 0', 'bridge_fr_rx_dsc: 0',
                      'bridge_fr_rx_err: 0', 'bridge_fr_tx: 0',
                      'bridge_fr_tx_dsc: 0', 'bridge_fr_tx_err: 0',
                      'bridge_rx: 0', 'bridge_tx: 0']
            here = getattr(zvm, 'member', None)
            nics = [(u, v, zvm.users[u]) for u, v, _nic in zvm.couplings(
                name, active_only=True) if here is None or (
                    zvm.users[u].get('member') or fcp.FIRST_MEMBER) ==
                here.name]
            lines.append('nic count: %d' % len(nics))
            for userid, vdev, user in nics:
                up = _up_seconds(user, now)
                lines += ['nic_id: %s %s' % (userid, vdev),
                          'nic_fr_rx: %d' % int(up * RX_FRAMES_PER_S),
                          'nic_fr_rx_dsc: 0', 'nic_fr_rx_err: 0',
                          'nic_fr_tx: %d' % int(up * TX_FRAMES_PER_S),
                          'nic_fr_tx_dsc: 0', 'nic_fr_tx_err: 0',
                          'nic_rx: %d' % int(up * RX_BYTES_PER_S),
                          'nic_tx: %d' % int(up * TX_BYTES_PER_S)]
            lines += ['vlan count: 0', '']
        return '\n'.join(lines) + '\n'

    smapi.do_Image_Activate = do_Image_Activate
    smapi.perf_block = moving_perf_block
    smapi.do_Virtual_Network_Vswitch_Query_Byte_Stats = (
        do_Virtual_Network_Vswitch_Query_Byte_Stats)
