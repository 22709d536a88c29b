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

"""What must hold once the soak has settled, read from every side.

Each check returns a list of violations (strings naming the server, guest,
file or figure), so one run reports everything that is wrong at once.
The sides: nova's API and placement; the fake z/VM's directory, disk pools,
NICs and vswitch grants; the Cloud Connector's own guest and image records;
nova-compute's files (instances_path, image_tmp_path); the test process's
threads and file descriptors.
"""

import collections
import gc
import os
import re
import threading

from nova.compute import power_state

from nova_zvm import client as zvm_client
from nova_zvm import exception as zvm_exception
from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import fixtures as zvm_fixtures
from nova_zvm.virt import image as zvm_image
from nova_zvm.virt import snapshot as zvm_snapshot

CONF = base.CONF

# A server's state in nova, the guest's power on z/VM, nova's power state.
EXPECTED_POWER = {
    'ACTIVE': ('on', power_state.RUNNING),
    'SHUTOFF': ('off', power_state.SHUTDOWN),
    'PAUSED': ('paused', power_state.PAUSED),
}

# A fault names its cause when it says which connector call failed (the
# driver's errors start with the API name: "guest_start failed (HTTP 500,
# overallRC 400 rc 200 rs 12): ..."), that the connector could not be
# reached, or which step of nova-zvm failed ("Snapshot ... failed while").
CAUSE = re.compile(
    r'\b(guest|image|file|vswitch|host|token)_\w+ failed\b'
    r'|Cloud Connector|overallRC \d+|\brc \d+ rs \d+'
    r'|failed while|z/VM')

# What nova does to a server whose build a nova-compute restart cut: its
# start-up sets the server to ERROR without a fault, and the old service's
# build then fails to save its state (nova.compute.manager._init_instance
# and the build's instance.save(expected_task_state=spawning)).
RESTARTED_MID_BUILD = 'nova-compute restarted mid-build'
CUT_BUILD_FAULT = re.compile(
    r"^$|^Conflict updating instance \S+\. Expected: "
    r"\{'task_state': \['spawning'\]\}\. Actual: \{'task_state': None\}$")

# Top-level entries of instances_path besides the instances' own
# directories: nova-zvm's records, and the file where nova's image cache
# manager registers the hosts sharing the path.
DRIVER_DIR = 'nova-zvm'
NOVA_FILES = ('compute_nodes', 'locks')


# Threads that wait for work in an executor's pool: nova's (futurist) and
# the standard library's. A pool keeps up to its max_workers idle.
POOL_WORKERS = ('futurist._thread.ThreadWorker',
                'concurrent.futures.thread._worker')
# One per direction of a connection the relay carries to the connector.
RELAY_PUMP = 'nova_zvm.tests.functional.fixtures.ConnectorRelay._pump'


def process_resources():
    """Threads and file descriptors of this process, by kind."""
    gc.collect()
    threads = [t for t in threading.enumerate() if t.is_alive()]
    kinds = collections.Counter(_thread_kind(t) for t in threads)
    fds = collections.Counter(_fd_targets())
    return {
        'threads': len(threads),
        'pool_workers': sum(kinds[k] for k in POOL_WORKERS),
        'relay_connections': kinds[RELAY_PUMP] // 2,
        'other_threads': collections.Counter({
            k: n for k, n in kinds.items()
            if k not in POOL_WORKERS and k != RELAY_PUMP}),
        'fds': sum(fds.values()),
        'sockets': fds['socket'],
        'other_fds': collections.Counter({k: n for k, n in fds.items()
                                          if k != 'socket'}),
    }


def leaks(before, after, connection_pool_size, thread_slack, fd_slack):
    """Threads and descriptors that grew beyond what may grow.

    Idle workers of nova's executors are nova's (the pools keep them up
    to their sizes, and nova's test fixtures make new pools per service):
    counted, not checked. Connections to the connector may grow up to the
    driver's connection pool (each costs a socket here and two in the
    relay); anything else by the slack only.
    """
    problems = []
    if after['relay_connections'] > connection_pool_size:
        problems.append('%d connections open to the connector, the pool '
                        'holds %d' % (after['relay_connections'],
                                      connection_pool_size))
    grown = after['other_threads'] - before['other_threads']
    if sum(grown.values()) > thread_slack:
        problems.append('threads grew: %s' % dict(grown))
    allowed = before['sockets'] + 3 * after['relay_connections'] + fd_slack
    if after['sockets'] > allowed:
        problems.append('%d sockets open, %d before and %d connections to '
                        'the connector' % (after['sockets'],
                                           before['sockets'],
                                           after['relay_connections']))
    grown = after['other_fds'] - before['other_fds']
    if sum(grown.values()) > fd_slack:
        problems.append('file descriptors grew: %s' % dict(grown))
    return problems


def _thread_kind(thread):
    """What a thread runs: its target's name, or its class's."""
    target = getattr(thread, '_target', None)
    if target is None:
        target = type(thread)
    return '%s.%s' % (getattr(target, '__module__', '?'),
                      getattr(target, '__qualname__', repr(target)))


def _fd_targets():
    for fd in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink('/proc/self/fd/' + fd)
        except OSError:
            continue
        # 'socket:[123]' -> 'socket'; a file by its path.
        yield target.split(':[')[0]


def cause_of(name, fault, building_at_restart=()):
    """The cause a server's ERROR fault names, or None if it names none.

    Nova's own reaction to a nova-compute restart names nothing; it is
    accepted only for servers the soak knows were building on the host it
    restarted, and only in nova's two forms (CUT_BUILD_FAULT).
    """
    fault = fault or ''
    if name in building_at_restart and CUT_BUILD_FAULT.match(fault):
        return RESTARTED_MID_BUILD
    match = CAUSE.search(fault)
    return fault if match else None


def unnamed_causes(errors, building_at_restart=()):
    """The (server name, fault) pairs whose fault names no cause."""
    return ['%s went to ERROR with a fault that names no cause: %r' % (
        name, fault) for name, fault in errors
        if cause_of(name, fault, building_at_restart) is None]


def connector_client(lab):
    return zvm_client.ZVMClient(lab.url, token_file=lab.token_file,
                                ca_file=lab.ca_file, max_retries=0)


class Invariants(object):
    """The checks, for the soak's test case and lab."""

    def __init__(self, test, lab, building_at_restart=()):
        self.test = test
        self.lab = lab
        self.connector = connector_client(lab)
        # Servers a nova-compute restart cut mid-build (the injector's).
        self.building_at_restart = building_at_restart

    # -- with servers -------------------------------------------------------
    def check_settled(self, servers):
        """Every check that holds while ``servers`` exist."""
        state = self.lab.zvm.state()
        problems = []
        problems += self.servers_match_guests(servers, state)
        problems += self.nothing_unaccounted(servers, state)
        problems += self.placement_matches(servers)
        return problems

    def servers_match_guests(self, servers, state):
        problems = []
        guests = state['guests']
        for server in servers:
            name, status = server['name'], server['status']
            if server['OS-EXT-STS:task_state']:
                problems.append('%s stuck in task state %s' % (
                    name, server['OS-EXT-STS:task_state']))
            guest = guests.get(base.userid_of(server))
            if status == 'ERROR':
                problems += unnamed_causes(
                    [(name, server.get('fault', {}).get('message', ''))],
                    self.building_at_restart)
                continue
            if status not in EXPECTED_POWER:
                problems.append('%s in unexpected status %s' % (name, status))
                continue
            power, nova_power = EXPECTED_POWER[status]
            if guest is None:
                problems.append('%s is %s but has no guest' % (name, status))
                continue
            if guest['power'] != power or guest['logging_off']:
                problems.append('%s is %s but its guest is %s%s' % (
                    name, status, guest['power'],
                    ' (logging off)' if guest['logging_off'] else ''))
            if server['OS-EXT-STS:power_state'] != nova_power:
                problems.append('%s is %s with power state %s' % (
                    name, status, server['OS-EXT-STS:power_state']))
            flavor = server['flavor']
            if (guest['vcpus'], guest['memory_mb']) != (
                    flavor['vcpus'], flavor['ram']):
                problems.append('%s: guest has %s vCPUs %s MB, flavor %s/%s'
                                % (name, guest['vcpus'], guest['memory_mb'],
                                   flavor['vcpus'], flavor['ram']))
            problems += self._nics_of(name, base.userid_of(server), guest)
        return problems

    @staticmethod
    def _nics_of(name, userid, guest):
        nics = list(guest['nics'].values())
        if len(nics) != 1 or nics[0]['vswitch'] != zvm_fixtures.VSWITCH:
            return ['%s: guest %s has NICs %s, expected one on %s' % (
                name, userid, guest['nics'], zvm_fixtures.VSWITCH)]
        return []

    def nothing_unaccounted(self, servers, state):
        """No guest, disk, grant, record, image or file nova cannot name."""
        on_host = {base.userid_of(s): s for s in servers
                   if s['OS-EXT-SRV-ATTR:host']}
        problems = []
        guests = set(state['guests'])
        for userid in sorted(guests - set(on_host)):
            problems.append('guest %s belongs to no server' % userid)
        problems += self._pool_usage(state)
        for vsw, info in sorted(state['vswitches'].items()):
            for userid in sorted(set(info['grants']) - set(on_host)):
                problems.append('grant of %s on %s belongs to no server' % (
                    userid, vsw))
        connector_guests = {g.upper() for g in self.connector.guest_list()}
        if connector_guests != guests:
            problems.append('the connector records guests %s, z/VM has %s'
                            % (sorted(connector_guests), sorted(guests)))
        problems += self._driver_records(on_host, guests)
        problems += self._connector_images(state, captures_ok=True)
        problems += self._local_files(on_host)
        return problems

    def _pool_usage(self, state):
        """Each pool's used extents are exactly the guests' minidisks."""
        problems = []
        used = {}
        for user in state['users'].values():
            for disk in user['minidisks'].values():
                if disk.get('pool'):
                    used[disk['pool']] = used.get(disk['pool'], 0) + \
                        disk['size']
        for name, pool in state['pools'].items():
            if pool['total'] - pool['free'] != used.get(name, 0):
                problems.append(
                    'pool %s: %d of %d units used, minidisks hold %d' % (
                        name, pool['total'] - pool['free'], pool['total'],
                        used.get(name, 0)))
        return problems

    @staticmethod
    def _records(kind):
        path = os.path.join(CONF.instances_path, DRIVER_DIR, kind)
        try:
            return {f for f in os.listdir(path) if not f.endswith('.tmp')}
        except FileNotFoundError:
            return set()

    def _driver_records(self, on_host, guests):
        problems = []
        owners = self._records('owners')
        for userid in sorted(owners - guests):
            problems.append('owner record of %s, which has no guest' %
                            userid)
        for userid in sorted(guests - owners):
            problems.append('guest %s has no owner record' % userid)
        paused = self._records('paused')
        expected = {u for u, s in on_host.items() if s['status'] == 'PAUSED'}
        if paused != expected:
            problems.append('pause records %s, paused servers %s' % (
                sorted(paused), sorted(expected)))
        return problems

    def _connector_images(self, state, captures_ok=False):
        """Each connector image is a cached Glance image nova-zvm imported.

        A capture whose removal failed (the connector was down) is nova-zvm's
        by its name, and the image cache removes it: it may be there until
        the image cache pass, not after it.
        """
        problems = []
        imported = self._records('images')
        for record in self._image_records():
            name = record.get('imagename') or ''
            if zvm_snapshot.image_id_for_capture(name):
                if not captures_ok:
                    problems.append('capture %s left on the connector' %
                                    name)
            elif name not in imported:
                problems.append('connector image %s was not imported by '
                                'nova-zvm' % name)
            elif self.test.glance.image_data(name) is None:
                problems.append('connector image %s has no Glance image' %
                                name)
        return problems

    def _image_records(self):
        try:
            return self.connector.image_query() or []
        except zvm_exception.NotFound:
            return []

    def _local_files(self, on_host):
        problems = []
        uuids = {s['id'] for s in on_host.values()}
        root = CONF.instances_path
        for entry in sorted(os.listdir(root) if os.path.isdir(root) else []):
            if (entry not in uuids and entry != DRIVER_DIR and
                    entry not in NOVA_FILES):
                problems.append('%s in instances_path belongs to no server'
                                % entry)
        for dirpath, _dirs, files in os.walk(CONF.zvm.image_tmp_path):
            for fname in files:
                path = os.path.join(dirpath, fname)
                if not self._cached_image_file(path):
                    problems.append('file %s left in image_tmp_path' % path)
        return problems

    @staticmethod
    def _cached_image_file(path):
        # Downloads are removed once imported unless keep_image_files.
        if not CONF.zvm.keep_image_files:
            return False
        name = os.path.basename(path)
        return (os.path.dirname(path) == os.path.dirname(
            zvm_image.ImageManager.local_path('x')) and
            name.endswith('.img'))

    def placement_matches(self, servers):
        """The host's usage is the sum of its servers' flavors."""
        expected = {'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0}
        for server in servers:
            if not server['OS-EXT-SRV-ATTR:host']:
                continue
            flavor = server['flavor']
            expected['VCPU'] += flavor['vcpus']
            expected['MEMORY_MB'] += flavor['ram']
            expected['DISK_GB'] += flavor['disk'] + flavor['ephemeral']
        usage = self.test._get_provider_usages(self.test.compute_node_uuid())
        actual = {rc: usage.get(rc, 0) for rc in expected}
        if actual != expected:
            return ['placement usage %s, the servers\' flavors sum to %s' % (
                actual, expected)]
        return []

    # -- after everything is deleted ----------------------------------------
    def check_empty(self, state_before):
        """Nothing of any server is left anywhere."""
        state = self.lab.zvm.state()
        problems = []
        if state['guests']:
            problems.append('guests left: %s' % sorted(state['guests']))
        if state['pools'] != state_before['pools']:
            problems.append('disk pools differ from before the soak')
        for vsw, info in state['vswitches'].items():
            if info['grants'] != state_before['vswitches'][vsw]['grants']:
                problems.append('grants left on %s: %s' % (
                    vsw, info['grants']))
        problems += self.nothing_unaccounted([], state)
        problems += self._connector_images(state)
        for kind in ('owners', 'paused'):
            if self._records(kind):
                problems.append('%s records left: %s' % (
                    kind, sorted(self._records(kind))))
        imported = self._records('images')
        images = ['%s (last access %s, imported here: %s)' % (
            r.get('imagename'), r.get('last_access_time'),
            r.get('imagename') in imported) for r in self._image_records()]
        if images:
            problems.append('connector images left after the image cache '
                            'pass: %s' % images)
        problems += self.placement_matches([])
        return problems
