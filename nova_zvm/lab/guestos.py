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


"""The guest operating system, as far as zvmsdk talks to it over IUCV.

No guest OS runs: the commands zvmsdk issues in a guest (reachability
pings, shutdown, os-release, root device lookup for capture, CPU and
memory hot-plug) are answered from the fake z/VM's state.
"""

import re
import time

from nova_zvm.lab import zvm as fake_zvm


def run(userid, user, command):
    """Answer a command zvmsdk runs in a guest through IUCV."""
    cmd = command.strip()
    if cmd == "echo 'ping'" or cmd == 'echo ping':
        return 'ping\n'
    if cmd.startswith('shutdown -r'):
        user['reboot_pending'] = True
        user['console'] += 'Rebooting.\n'
        return ''
    if cmd.startswith('shutdown -h'):
        # The guest's shutdown takes its ``shutdown`` seconds ('ignore':
        # it hangs and never halts; CP's signal timeout then forces it).
        shutdown = user.get('shutdown', 0)
        secs = float('inf') if shutdown == 'ignore' else float(shutdown)
        user['console'] += 'System halting.\n'
        if secs <= 0:
            user['os_up'] = False
        else:
            user['os_halt_at'] = time.monotonic() + secs
        return ''
    if cmd == 'pwd':
        return '/root\n'
    if cmd == 'ls /etc/*-release':
        return '/etc/os-release\n'
    if cmd == 'cat /etc/os-release':
        distro = user.get('os_version') or 'rhel8.6'
        m = re.match(r'([a-z]+)([\d.]+)', distro)
        name, version = (m.group(1), m.group(2)) if m else (distro, '1')
        return 'NAME="%s"\nID="%s"\nVERSION_ID="%s"\n' % (name, name,
                                                          version)
    if cmd.startswith('cat /proc/cmdline'):
        return '/dev/dasda1\n'
    if cmd.startswith('readlink -f'):
        return cmd.split()[-1] + '\n'
    if cmd.startswith('cat /proc/dasd/devices'):
        root = user['ipl'] or '0100'
        return ('0.0.%s(ECKD) at ( 94:     0) is dasda       : active '
                'at blocksize: 4096, 600840 blocks, 2347 MB\n'
                % root.lower().zfill(4))
    if cmd == 'lscpu --parse=ADDRESS':
        return ('# The following is the parsable format.\n# Address\n'
                + ''.join('%d\n' % int(a, 16)
                          for a in user.get('active_cpus', [])))
    m = re.match(r'vmcp def(?:ine)? cpu ((?:[0-9A-Fa-f]{1,2} ?)+)$', cmd)
    if m:
        for addr in m.group(1).split():
            addr = addr.upper().zfill(2)
            if int(addr, 16) >= user['max_vcpus']:
                raise fake_zvm.CommandFailed(
                    8, 'HCPCPU1458E CPU %s exceeds the maximum\n' % addr)
            user.setdefault('active_cpus', []).append(addr)
        return 'CPU %s defined\n' % m.group(1)
    if cmd.startswith('chcpu') or cmd.startswith('chmem'):
        if cmd.startswith('chmem -e'):
            mb = int(cmd.split()[-1].rstrip('Mm'))
            user['active_memory_mb'] = user.get(
                'active_memory_mb', user['memory_mb']) + mb
        return ''
    if cmd == 'lsmem':
        mb = user.get('active_memory_mb', user['memory_mb'])
        return ('RANGE                                  SIZE  STATE '
                'REMOVABLE BLOCK\n'
                'Memory block size:       256M\n'
                'Total online memory:     %dM\n'
                'Total offline memory:      0B\n' % mb)
    m = re.match(r'vmcp def(?:ine)? stor(?:age)? standby (\d+)M$', cmd)
    if m:
        return 'STORAGE = %dM\n' % user['memory_mb']
    if cmd.startswith('uname'):
        return 'Linux %s 6.1.0 s390x\n' % userid.lower()
    m = re.match(r'vmcp q(?:uery)? ([0-9a-fA-F]{1,4})$', cmd)
    if m:
        vdev = m.group(1).upper().zfill(4)
        nic = user['nics'].get(vdev)
        if nic is not None and nic.get('active'):
            return ('%s ON NIC %s  UNIT 000 SUBCHANNEL = 0010\n'
                    % (vdev, vdev))
        if vdev in user['minidisks']:
            return 'DASD %s 3390 LAB001 R/W %d CYL ON DASD\n' % (
                vdev, user['minidisks'][vdev]['size'])
        raise fake_zvm.CommandFailed(
            8, 'HCPQVD040E Device %s does not exist\n' % vdev)
    if cmd.startswith('/usr/bin/zvmguestconfigure'):
        return ''
    raise fake_zvm.NotEmulated('guest command (IUCV)', cmd)
