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
threads and file descriptors. FCP volumes have a module of their own
(``volume_checks``).
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
from nova_zvm.tests.functional import ssi_base
from nova_zvm.tests.soak import volume_checks
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
# build then fails to save its state at whichever step it had reached
# (nova.compute.manager._init_instance, and the build's
# instance.save(expected_task_state=...) of block_device_mapping,
# networking or spawning).
RESTARTED_MID_BUILD = 'nova-compute restarted mid-build'
CUT_BUILD_FAULT = re.compile(
    r"^$|^Conflict updating instance \S+\. Expected: "
    r"\{'task_state': \['(scheduling|block_device_mapping|networking|"
    r"spawning)'\]\}\. Actual: \{'task_state': None\}$")

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
# Nova's test databases (SQLite files with WAL): each engine keeps up to
# [database] max_pool_size connections open after a busy moment, each
# with the database and its WAL open (and the shared memory file once).
NOVA_TEST_DB = re.compile(r'(/nova-test-[^/]*\.sqlite)(-wal|-shm)?$')
FDS_PER_DB_CONNECTION = 2


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
        'database_fds': _per_database(fds),
        'other_fds': collections.Counter({
            k: n for k, n in fds.items()
            if k != 'socket' and not NOVA_TEST_DB.search(k)}),
    }


def leaks(before, after, connection_pool_size, thread_slack, fd_slack,
          database_pool_size=5):
    """Threads and descriptors that grew beyond what may grow.

    Idle workers of nova's executors are nova's (the pools keep them up
    to their sizes, and nova's test fixtures make new pools per service):
    counted, not checked. Connections to the connector may grow up to the
    driver's connection pool (each costs a socket here and two in the
    relay), nova's to each test database up to its pool; anything else by
    the slack only.
    """
    problems = []
    bound = FDS_PER_DB_CONNECTION * database_pool_size + 1
    for database, n in sorted(after['database_fds'].items()):
        if n > bound:
            problems.append('%d descriptors open on nova\'s database %s, '
                            'its pool allows %d' % (n, database, bound))
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


def _per_database(fds):
    out = collections.Counter()
    for target, n in fds.items():
        match = NOVA_TEST_DB.search(target)
        if match:
            out[match.group(1)] += n
    return out


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


def connector_client(info):
    """A client on one member's connector (``{'url', 'token_file', ...}``)."""
    return zvm_client.ZVMClient(info['url'], token_file=info['token_file'],
                                ca_file=info['ca_file'], max_retries=0)


class Invariants(object):
    """The checks, for the soak's test case (an SSITestCase) and lab.

    :param building_at_restart: names of the servers a nova-compute
        restart cut mid-build (the fault injector's)
    :param operator_grants: ``{(member, USERID)}`` vswitch authorizations
        the soak made as an operator (for live migrations)
    :param live_migrated_from: ``{(member, USERID)}``: the members guests
        were live-migrated away from
    :param attached_ports: ids of the ports the soak attached
    """

    def __init__(self, test, lab, building_at_restart=(),
                 operator_grants=(), live_migrated_from=(),
                 attached_ports=()):
        self.test = test
        self.lab = lab
        self.connectors = {
            member: connector_client(test.member_connector(member))
            for member in ssi_base.MEMBERS.values()}
        self.building_at_restart = building_at_restart
        self.operator_grants = operator_grants
        self.live_migrated_from = live_migrated_from
        # Ports the soak attached (os-interface).
        self.attached_ports = attached_ports
        # Grants accepted as left by a live migration, for the report.
        self.left_by_live_migration = set()
        # Allocations accepted as left by a failed move, for the report:
        # {(host, migration uuid): resources}.
        self.left_by_failed_moves = {}

    def close(self):
        for client in self.connectors.values():
            client.close()

    # -- with servers -------------------------------------------------------
    def check_settled(self, servers):
        """Every check that holds while ``servers`` exist."""
        state = self.lab.zvm.state()
        members = self.lab.zvm.members()['members']
        problems = []
        problems += self.servers_match_guests(servers, state, members)
        problems += self.nothing_unaccounted(servers, state, members)
        problems += self.placement_matches(servers)
        return problems

    def servers_match_guests(self, servers, state, members):
        problems = []
        guests = state['guests']
        listed = self._listed()
        owners = {h: self._records('owners', h) for h in ssi_base.MEMBERS}
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
            problems += self._nics_of(server, base.userid_of(server), guest)
            problems += self._managed_by(server, members, listed, owners)
        return problems

    @staticmethod
    def _managed_by(server, members, listed, owners):
        """The guest runs at its host's member, managed there alone.

        Only that member's connector lists it, only that host records it
        as its own, and it is logged on there (if running) and nowhere
        else.
        """
        userid = base.userid_of(server)
        host = server['OS-EXT-SRV-ATTR:host']
        member = ssi_base.MEMBERS.get(host)
        problems = []
        logged_on = sorted(m for m, v in members.items()
                           if userid in v['guests'])
        expected = [member] if server['status'] != 'SHUTOFF' else []
        if logged_on != expected:
            problems.append('%s on %s (%s): guest %s logged on at %s' % (
                server['name'], host, member, userid, logged_on or 'none'))
        at = sorted(m for m, users in listed.items() if userid in users)
        if at != [member]:
            problems.append('%s on %s: guest %s managed by the connectors '
                            'of %s, expected %s' % (
                                server['name'], host, userid, at, member))
        recorded = sorted(h for h, users in owners.items() if userid in users)
        if recorded != [host]:
            problems.append('%s on %s: guest %s recorded as their own by '
                            '%s' % (server['name'], host, userid, recorded))
        return problems

    def _listed(self):
        """``{member: {USERID}}``: the guests each connector manages."""
        return {m: {g.upper() for g in c.guest_list()}
                for m, c in self.connectors.items()}

    def _nics_of(self, server, userid, guest):
        """One NIC per port of the server, each on the mapped vswitch.

        The ports the soak attached (os-interface) carry their MACs in
        the guest's directory entry.
        """
        name = server['name']
        ports = self.test.api.get_port_interfaces(server['id'])
        nics = list(guest['nics'].values())
        problems = []
        if (len(nics) != len(ports) or
                {n['vswitch'] for n in nics} != {zvm_fixtures.VSWITCH}):
            problems.append('%s: guest %s has NICs %s, expected %d on %s'
                            % (name, userid, guest['nics'], len(ports),
                               zvm_fixtures.VSWITCH))
        macs = {(n.get('directory_mac') or n.get('mac') or '').upper()
                for n in nics}
        for port in ports:
            if (port['port_id'] in self.attached_ports and
                    port['mac_addr'].upper() not in macs):
                problems.append('%s: port %s (MAC %s) attached, guest %s '
                                'has MACs %s' % (name, port['port_id'],
                                                 port['mac_addr'], userid,
                                                 sorted(macs)))
        return problems

    def nothing_unaccounted(self, servers, state, members):
        """No guest, disk, grant, record, image or file nova cannot name."""
        on_host = {base.userid_of(s): s for s in servers
                   if s['OS-EXT-SRV-ATTR:host']}
        problems = []
        guests = set(state['guests'])
        for userid in sorted(guests - set(on_host)):
            problems.append('guest %s belongs to no server' % userid)
        problems += self._pool_usage(state)
        problems += self._grants(on_host, members)
        listed = self._listed()
        connector_guests = set().union(*listed.values())
        if connector_guests != guests:
            problems.append('the connectors record guests %s, z/VM has %s'
                            % (sorted(connector_guests), sorted(guests)))
        problems += self._driver_records(on_host, guests)
        for host, member in sorted(ssi_base.MEMBERS.items()):
            problems += self._connector_images(host, member,
                                               captures_ok=True)
        problems += self._local_files(on_host)
        problems += volume_checks.unaccounted(
            self.test, self.lab, self.connectors, on_host, state)
        return problems

    def _accepted_grant(self, member, userid):
        """A grant nova-zvm is known to leave, or the soak's own.

        The soak authorizes a guest at the other member before it
        live-migrates it, as the SSI guide asks of an operator. And after
        a live migration the source member keeps the grant nova-zvm made
        there at spawn (the release does not revoke it; reported as a
        driver finding): accepted only for the members the soak
        live-migrated that guest away from, and listed in the report.
        """
        if (member, userid) in self.operator_grants:
            return True
        if (member, userid) in self.live_migrated_from:
            self.left_by_live_migration.add((member, userid))
            return True
        return False

    def _grants(self, on_host, members):
        """Each grant at a member is its server's there (or accepted)."""
        problems = []
        for member, view in sorted(members.items()):
            for vsw, info in sorted(view['vswitches'].items()):
                for userid in info['grants']:
                    server = on_host.get(userid)
                    if (server is not None and ssi_base.MEMBERS.get(
                            server['OS-EXT-SRV-ATTR:host']) == member or
                            self._accepted_grant(member, userid)):
                        continue
                    problems.append(
                        'grant of %s on %s at %s belongs to no server '
                        'there' % (userid, vsw, member))
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

    def _records(self, kind, host):
        path = os.path.join(self.test.instances_paths[host], DRIVER_DIR,
                            kind)
        try:
            return {f for f in os.listdir(path) if not f.endswith('.tmp')}
        except FileNotFoundError:
            return set()

    def _driver_records(self, on_host, guests):
        problems = []
        owners = set()
        for host in sorted(ssi_base.MEMBERS):
            owners |= self._records('owners', host)
            paused = self._records('paused', host)
            expected = {u for u, s in on_host.items()
                        if s['status'] == 'PAUSED' and
                        s['OS-EXT-SRV-ATTR:host'] == host}
            if paused != expected:
                problems.append('%s: pause records %s, paused servers %s' % (
                    host, sorted(paused), sorted(expected)))
        for userid in sorted(owners - guests):
            problems.append('owner record of %s, which has no guest' %
                            userid)
        for userid in sorted(guests - owners):
            problems.append('guest %s has no owner record' % userid)
        return problems

    def _connector_images(self, host, member, captures_ok=False):
        """Each member's image is a cached Glance image its host imported.

        A capture whose removal failed (the connector was down) is nova-zvm's
        by its name, and the image cache removes it: it may be there until
        the image cache pass, not after it.
        """
        problems = []
        imported = self._records('images', host)
        for record in self._image_records(member):
            name = record.get('imagename') or ''
            if zvm_snapshot.image_id_for_capture(name):
                if not captures_ok:
                    problems.append('capture %s left on the connector of %s'
                                    % (name, member))
            elif name not in imported:
                problems.append('connector image %s at %s was not imported '
                                'by %s' % (name, member, host))
            elif self.test.glance.image_data(name) is None:
                problems.append('connector image %s at %s has no Glance '
                                'image' % (name, member))
        return problems

    def _image_records(self, member):
        try:
            return self.connectors[member].image_query() or []
        except zvm_exception.NotFound:
            return []

    def _local_files(self, on_host):
        problems = []
        for host in sorted(ssi_base.MEMBERS):
            uuids = {s['id'] for s in on_host.values()
                     if s['OS-EXT-SRV-ATTR:host'] == host}
            root = self.test.instances_paths[host]
            for entry in sorted(os.listdir(root) if os.path.isdir(root)
                                else []):
                if (entry not in uuids and entry != DRIVER_DIR and
                        entry not in NOVA_FILES):
                    problems.append('%s in the instances_path of %s belongs '
                                    'to no server there' % (entry, host))
            tmp = self.test.per_compute.overrides[host]['zvm'][
                'image_tmp_path']
            for dirpath, _dirs, files in os.walk(tmp):
                for fname in files:
                    path = os.path.join(dirpath, fname)
                    if not self._cached_image_file(tmp, path):
                        problems.append('file %s left in image_tmp_path' %
                                        path)
        return problems

    @staticmethod
    def _cached_image_file(tmp, path):
        # Downloads are removed once imported unless keep_image_files
        # (zvm_image.ImageManager.local_path puts them in 'spawn').
        if not CONF.zvm.keep_image_files:
            return False
        return (os.path.dirname(path) == os.path.join(tmp, 'spawn') and
                path.endswith('.img'))

    def placement_matches(self, servers):
        """Each host's usage is the sum of its servers' flavors.

        Besides what a failed move's migration still holds: nova keeps it
        for every driver (a migration that ends in ``error`` is never
        confirmed or reverted, and nova's resource tracker skips consumers
        that are not instances); ``nova-manage placement audit --delete``
        is nova's tool for it. Accepted and reported, exactly those.
        """
        problems = []
        failed = {m['uuid'] for m in self.test.admin_api.get_migrations()
                  if m['status'] == 'error'}
        for host in sorted(ssi_base.MEMBERS):
            expected = {'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0}
            node = self.test.node_uuid_of(host)
            for consumer, alloc in sorted(
                    self.test._get_allocations_by_provider_uuid(
                        node).items()):
                if consumer not in failed:
                    continue
                self.left_by_failed_moves[(host, consumer)] = alloc[
                    'resources']
                for rc in expected:
                    expected[rc] += alloc['resources'].get(rc, 0)
            for server in servers:
                if server['OS-EXT-SRV-ATTR:host'] != host:
                    continue
                flavor = server['flavor']
                expected['VCPU'] += flavor['vcpus']
                expected['MEMORY_MB'] += flavor['ram']
                expected['DISK_GB'] += flavor['disk'] + flavor['ephemeral']
            usage = self.test._get_provider_usages(node)
            actual = {rc: usage.get(rc, 0) for rc in expected}
            if actual != expected:
                problems.append(
                    'placement usage of %s %s, its servers\' flavors sum to '
                    '%s' % (host, actual, expected))
        return problems

    # -- after everything is deleted ----------------------------------------
    def check_empty(self, state_before, members_before):
        """Nothing of any server is left anywhere."""
        state = self.lab.zvm.state()
        members = self.lab.zvm.members()['members']
        problems = []
        if state['guests']:
            problems.append('guests left: %s' % sorted(state['guests']))
        if state['pools'] != state_before['pools']:
            problems.append('disk pools differ from before the soak')
        for member, view in sorted(members.items()):
            for vsw, info in sorted(view['vswitches'].items()):
                before = set(members_before[member]['vswitches'].get(
                    vsw, {}).get('grants', ()))
                left = sorted(u for u in set(info['grants']) - before
                              if not self._accepted_grant(member, u))
                if left:
                    problems.append('grants left on %s at %s: %s' % (
                        vsw, member, left))
        # The same messages as with servers: say which check found them.
        problems += ['after every server was deleted: ' + p
                     for p in self.nothing_unaccounted([], state, members)]
        for host, member in sorted(ssi_base.MEMBERS.items()):
            problems += self._connector_images(host, member)
            for kind in ('owners', 'paused'):
                if self._records(kind, host):
                    problems.append('%s records left at %s: %s' % (
                        kind, host, sorted(self._records(kind, host))))
            imported = self._records('images', host)
            images = ['%s (last access %s, imported here: %s)' % (
                r.get('imagename'), r.get('last_access_time'),
                r.get('imagename') in imported)
                for r in self._image_records(member)]
            if images:
                problems.append('connector images left at %s after the '
                                'image cache pass: %s' % (member, images))
        problems += self.placement_matches([])
        return problems
