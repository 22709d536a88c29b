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

"""The soak itself: a test case that runs the schedule, then the checks.

It is a functional test case (nova's services in this process, the lab
in its own) so it reuses everything the functional tests set up; the
command line (``cli``) passes the run's parameters in the environment and
runs it. On failure it prints the seed and the operation log.
"""

import collections
import os
import time
from unittest import mock

from nova import context as nova_context
from oslo_utils import uuidutils

from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import cinder
from nova_zvm.tests.functional import fixtures as zvm_fixtures
from nova_zvm.tests.functional import ssi_base
from nova_zvm.tests.soak import cells
from nova_zvm.tests.soak import faults
from nova_zvm.tests.soak import invariants
from nova_zvm.tests.soak import operations
from nova_zvm.tests.soak import schedule as soak_schedule

# Where the command line puts the run's parameters.
ENV_SEED = 'NOVA_ZVM_SOAK_SEED'
ENV_MINUTES = 'NOVA_ZVM_SOAK_MINUTES'
ENV_OPERATIONS = 'NOVA_ZVM_SOAK_OPERATIONS'
ENV_SLOTS = 'NOVA_ZVM_SOAK_SLOTS'
ENV_VOLUMES = 'NOVA_ZVM_SOAK_VOLUMES'
ENV_MOVES = 'NOVA_ZVM_SOAK_MOVES'

# Glance images the servers boot from (snapshots join them as they are
# taken): several, so that boots import several images at once.
BASE_IMAGES = 3
# Flavors: (vCPUs, MB, root GB, ephemeral GB). The last two have the same
# disks: a server of one can be resized to the other (nova-zvm refuses
# another root disk size).
FLAVORS = ((1, 512, 1, 0), (2, 1024, 2, 1), (1, 768, 2, 1))
# Seconds a server may take to finish one operation (a boot under a
# latency spike and a connector outage included).
WAIT_TIMEOUT = 180
# Threads and file descriptors (besides pool workers and connections to
# the connector, which have bounds of their own) a run may leave beyond
# those before it: timers and the relay's listener between two polls.
THREAD_SLACK = 2
FD_SLACK = 4
# The FCP template volumes attach through, on every member's connector:
# one device per path (the lab's two CHPIDs) for each guest with volumes.
FCP_TEMPLATE = 'soak-vols'
FCP_DEVICES = '1a00-1a07;1b00-1b07'
# The project quotas the soak lifts (nova's API, os-quota-sets).
UNLIMITED = ('instances', 'cores', 'ram')

# The last run's summary and log, for the command line to print.
last_report = {}


class Parameters(object):
    def __init__(self, seed, minutes, operations, slots, volumes=True,
                 moves=True):
        self.seed = seed
        self.minutes = minutes
        self.operations = operations
        self.slots = slots
        self.volumes = volumes
        self.moves = moves

    @classmethod
    def from_env(cls):
        seed = os.environ.get(ENV_SEED)
        if not seed:
            seed = int.from_bytes(os.urandom(4), 'big')
        return cls(seed=int(seed),
                   minutes=float(os.environ.get(ENV_MINUTES, 2)),
                   operations=int(os.environ.get(ENV_OPERATIONS, 0)),
                   slots=int(os.environ.get(ENV_SLOTS, 6)),
                   volumes=os.environ.get(ENV_VOLUMES, '1') == '1',
                   moves=os.environ.get(ENV_MOVES, '1') == '1')

    def __str__(self):
        return '--seed %d --minutes %g --operations %d --slots %d%s%s' % (
            self.seed, self.minutes, self.operations, self.slots,
            '' if self.volumes else ' --no-volumes',
            '' if self.moves else ' --no-moves')


class SoakTest(ssi_base.SSITestCase):
    """Servers driven at random through nova's API while faults happen.

    On the lab's two-member SSI cluster, one nova-compute per member
    (ssi_base), so that servers move between them.
    """

    # As in a real cloud: the API returns before nova-compute acts, and a
    # failure there reaches the server's state, not the request.
    CAST_AS_CALL = False
    WAIT_TIMEOUT = WAIT_TIMEOUT

    def _configure_driver(self):
        super()._configure_driver()
        # Each compute's driver talks to its member's connector through a
        # relay the soak can cut.
        self.relays = {}
        for host, member in ssi_base.MEMBERS.items():
            relay = self.useFixture(zvm_fixtures.ConnectorRelay(
                self.member_connector(member)['url']))
            self.relays[host] = relay
            self.per_compute.overrides[host]['zvm'][
                'cloud_connector_url'] = relay.url
        self.flags(fcp_template=FCP_TEMPLATE, group='zvm')
        # A live migration's NICs move with the guest: nothing reports
        # them plugged at the destination (see the SSI guide).
        self.flags(live_migration_wait_for_vif_plug=False, group='compute')

    def new_port(self):
        """A port on the physical network's flat network (os-interface).

        With a MAC the guest's NIC can carry (z/VM's prefix 02:00:00 and
        three bytes of its own; nova-zvm refuses others), one the soak
        never used before.
        """
        port = self.neutron.create_port(
            {'port': {'network_id': self.neutron.network_1['id']}})['port']
        stored = self.neutron._ports[port['id']]
        self._port_count += 1
        stored['mac_address'] = '02:00:00:5a:%02x:%02x' % (
            (self._port_count >> 8) & 0xff, self._port_count & 0xff)
        stored['binding:vif_details'] = {
            'physical_network': zvm_fixtures.PHYSNET}
        return stored

    def new_volume(self):
        """A new 1 GB volume: a LUN of the lab's array, known to Cinder."""
        self._luns += 1
        return self.cinder.create_fc_volume(uuidutils.generate_uuid(),
                                            self._luns)

    def authorize(self, server, host):
        """Authorize the guest on the vswitch at ``host``'s member.

        What the SSI guide asks of the operator before a live migration
        (an ESM profile, or SET VSWITCH GRANT on each member); the soak
        does it for the one guest it moves and remembers it.
        """
        member = ssi_base.MEMBERS[host]
        userid = base.userid_of(server)
        self.lab.zvm.set_member(member, grants={
            zvm_fixtures.VSWITCH: [userid]})
        self.operator_grants.add((member, userid))

    def setUp(self):
        # Nova's cell database fixture (made in setUp) with a lock that
        # does not deadlock under the soak's concurrency (see cells).
        patcher = mock.patch('nova.tests.fixtures.nova.ReaderWriterLock',
                             cells.ReaderPreferringLock)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.operator_grants = set()
        self._port_count = 0
        super().setUp()
        # Several images imported at once; the image cache pass at the
        # end may remove any image nothing uses.
        self.flags(remove_unused_original_minimum_age_seconds=0,
                   group='image_cache')
        self.images = [base.IMAGE_ID]
        for n in range(1, BASE_IMAGES):
            image_id = uuidutils.generate_uuid()
            self.glance.create_s390x_image(image_id, name='soak-%d' % n)
            self.images.append(image_id)
        self.flavors = [
            self._create_flavor(name='soak.%d' % n, vcpu=vcpu,
                                memory_mb=ram, disk=disk, ephemeral=eph)
            for n, (vcpu, ram, disk, eph) in enumerate(FLAVORS)]
        # Deleted servers count against the quota until nova-compute has
        # destroyed them, and a failed delete leaves its server until it is
        # deleted again: what the soak has alive at once is not bounded by
        # its slots. As an operator would for such a project: no limits,
        # so quota is never what fails a server (operations.QuotaExceeded).
        self.api.update_quota(dict.fromkeys(UNLIMITED, -1))
        # Volumes: nova's Cinder fixture backed by the lab's storage array
        # (LUNs over FC), attached through each member's FCP template.
        self.cinder = self.useFixture(cinder.ZVMCinderFixture(
            self, self.lab.zvm))
        self._luns = 0
        for member in ssi_base.MEMBERS.values():
            self.member_client(member)._call(
                'create_fcp_template', 'POST', '/volumes/fcptemplates',
                json_body={'name': FCP_TEMPLATE,
                           'fcp_devices': FCP_DEVICES,
                           'host_default': True})

    def test_soak(self):
        params = Parameters.from_env()
        soak = Soak(self, params)
        try:
            problems = soak.run()
        except Exception as err:
            problems = ['the soak stopped: %s: %s' % (
                type(err).__name__, err)]
            raise_from = err
        else:
            raise_from = None
        report = soak.report(problems)
        # Nova's and nova-zvm's own log of the run (INFO; OS_DEBUG=1 for
        # DEBUG), for the command line to keep.
        report['service_log'] = self.stdlog.logger.output
        last_report.update(report)
        if problems:
            raise AssertionError(report['text']) from raise_from


class Soak(object):
    """One run: the schedule, then the checks, then the report."""

    def __init__(self, test, params):
        self.test = test
        self.params = params
        self.log = operations.OperationLog()
        self.injector = faults.FaultInjector(test, test.lab, test.relays,
                                             self.log)
        self.ops = operations.Operations(
            test, self.log, params.slots, test.images, test.flavors,
            WAIT_TIMEOUT, authorize=test.authorize)
        self.invariants = invariants.Invariants(
            test, test.lab, self.injector.building_at_restart,
            test.operator_grants, self.ops.live_migrated_from,
            self.ops.ports)
        test.addCleanup(self.invariants.close)
        self.figures = {}

    def run(self):
        test, params = self.test, self.params
        self.injector.baseline()
        state_before = test.lab.zvm.state()
        members_before = test.lab.zvm.members()['members']
        resources_before = invariants.process_resources()
        started = time.monotonic()
        deadline = started + params.minutes * 60
        done = 0
        for step in soak_schedule.Schedule(params.seed, params.slots,
                                           volumes=params.volumes,
                                           moves=params.moves):
            if (params.operations and done >= params.operations or
                    time.monotonic() >= deadline):
                break
            if step.kind == 'fault':
                self.injector.apply(step)
            else:
                self.ops.run(step)
                done += 1
        self.figures['operations'] = done
        self.figures['driven_seconds'] = time.monotonic() - started
        self.injector.quiet()
        self.log.note('faults ended; settling')

        servers = self._settle()
        self.figures['settle_seconds'] = (
            time.monotonic() - started - self.figures['driven_seconds'])
        problems = self.invariants.check_settled(servers)
        # Servers that went to ERROR on the way (and were deleted) too.
        problems += invariants.unnamed_causes(
            self.ops.errors, self.injector.building_at_restart)
        self.figures['servers_at_end'] = dict(collections.Counter(
            s['status'] for s in servers))

        self._delete_everything(servers)
        problems += self.invariants.check_empty(state_before, members_before)
        problems += self._leaks(resources_before)
        self.figures['seconds'] = time.monotonic() - started
        return problems

    def _settle(self):
        """Wait for every server to be steady, and the deleted ones gone.

        A delete that failed (the connector was down) leaves its server in
        ERROR; as a user would, the soak deletes it again.
        """
        for server_id in self.ops.deleted:
            server = self.ops.wait_idle(server_id)
            if server is not None:
                fault = self.ops.note_error(server)
                self.log.note('%s still %s after delete: deleting again '
                              '(fault: %s)' % (
                                  server['name'], server['status'], fault))
                self.test.api.delete_server(server_id)
            self.ops.wait_gone(server_id)
        # Nova-compute's periodic tasks, once everything is quiet: the
        # resource tracker and the power sync must agree with what is.
        ctxt = nova_context.get_admin_context()
        self.ops.servers()  # confirms what waits for it first
        self.ops.wait_volumes()
        for _host, compute in sorted(self.test.computes.items()):
            # A build that failed and whose cleanup failed too leaves its
            # guest to nova's reaper of deleted instances (nova clears the
            # host of such an instance, so its delete never reaches the
            # driver); it runs every 30 minutes in a real cloud.
            compute.manager._cleanup_running_deleted_instances(ctxt)
            compute.manager.update_available_resource(ctxt)
            compute.manager._sync_power_states(ctxt)
        return self.ops.servers()

    def _delete_everything(self, servers):
        for server in servers:
            self.test.api.delete_server(server['id'])
        for server in servers:
            self.ops.wait_gone(server['id'])
        self.ops.wait_volumes()
        for image_id in self.ops.snapshots:
            try:
                self.test.glance.delete(None, image_id)
            except Exception:
                pass  # the driver deleted a failed snapshot's image
        ctxt = nova_context.get_admin_context()
        for _host, compute in sorted(self.test.computes.items()):
            compute.manager._run_image_cache_manager_pass(ctxt)

    def _leaks(self, before):
        after = invariants.process_resources()
        for key in ('threads', 'pool_workers', 'relay_connections', 'fds',
                    'sockets'):
            self.figures[key] = (before[key], after[key])
        self.figures['database_fds'] = (
            sum(before['database_fds'].values()),
            sum(after['database_fds'].values()))
        return invariants.leaks(before, after,
                                base.CONF.zvm.connection_pool_size *
                                len(self.test.computes),
                                THREAD_SLACK, FD_SLACK,
                                base.CONF.database.max_pool_size or 5)

    def report(self, problems):
        counts = dict(self.ops.counts)
        lines = ['soak %s: %s' % (self.params,
                                  'FAILED' if problems else 'passed'),
                 'figures: %s' % self.figures,
                 'operations: %s' % counts,
                 'faults: %s' % self.injector.counts,
                 'grants a live migration left at its source member '
                 '(nova-zvm does not revoke them): %s' % sorted(
                     self.invariants.left_by_live_migration),
                 'allocations failed moves left in placement (nova keeps '
                 'them; nova-manage placement audit --delete): %s' % sorted(
                     self.invariants.left_by_failed_moves.items()),
                 'servers in ERROR on the way: %d' % len(self.ops.errors)]
        for name, fault in self.ops.errors:
            cause = invariants.cause_of(name, fault,
                                        self.injector.building_at_restart)
            lines.append('  %s: %s' % (name, (cause or fault or
                                              '(no fault)')[:160]))
        if problems:
            lines.append('broken invariants:')
            lines += ['  ' + p for p in problems]
            lines.append('replay: python -m nova_zvm.tests.soak %s' %
                         self.params)
            lines.append('operation log:')
            lines.append(self.log.format())
        return {'text': '\n'.join(lines), 'passed': not problems,
                'figures': self.figures, 'log': self.log.format(),
                'seed': self.params.seed}
