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

"""Functional tests on an SSI cluster: one nova-compute per member.

The lab runs a two-member SSI cluster (``LabFixture(members=2)``), each
member with its own Cloud Connector. Nova's services run in this process
and read one global CONF, while in production each nova-compute has its own
``nova.conf``. :class:`PerComputeConf` gives each compute's driver its own
view of the options that differ per host:

* ``[zvm] cloud_connector_url``, ``token_file``, ``ca_file``: the member's
  connector (read by ``init_host``, also after a compute restart);
* ``instances_path``: ownership and pause records, config drives and image
  files are per host, as on separate machines;
* ``host`` where nova's volume detach reads it (``_as_driver_host``).

It does so by giving the ``nova_zvm.virt`` modules a CONF that answers from
the calling driver's host (found when the driver is created: nova's
``start_service`` sets ``CONF.host`` first) and falls back to the real CONF
for everything else. nova's node identity (one ``compute_id`` file per
process) is given per host as well, so the two compute nodes stay apart.
"""

import contextlib
import functools
import inspect
import os
import sys
import threading
import uuid

import fixtures
from nova.virt import block_device
from nova.virt import node

from nova_zvm import client as zvm_client
from nova_zvm import conf as zvm_conf
from nova_zvm import exception as zvm_exception
from nova_zvm.tests.functional import base
from nova_zvm.virt import driver as zvm_driver
from nova_zvm.virt import ownership

CONF = zvm_conf.CONF

M1, M2 = 'ZVMLAB01', 'ZVMLAB02'
#: The compute service hosts, one per member, in member order.
HOST1, HOST2 = 'compute1', 'compute2'
MEMBERS = {HOST1: M1, HOST2: M2}


class _GroupView(object):
    """One option group with some options answered from ``values``."""

    def __init__(self, group, values):
        self._group = group
        self._values = values

    def __getattr__(self, name):
        if name in self._values:
            return self._values[name]
        return getattr(self._group, name)


class _HostConfView(object):
    """CONF as the driver of the calling thread's compute host sees it."""

    def __init__(self, conf, local, overrides):
        self._conf = conf
        self._local = local
        self._overrides = overrides

    def __getattr__(self, name):
        values = self._overrides.get(getattr(self._local, 'host', None), {})
        if name not in values:
            return getattr(self._conf, name)
        if isinstance(values[name], dict):
            return _GroupView(getattr(self._conf, name), values[name])
        return values[name]


class _HostNameView(object):
    """nova's CONF with ``host`` answered from the calling compute's."""

    def __init__(self, conf, local):
        self._conf = conf
        self._local = local

    def __getattr__(self, name):
        host = getattr(self._local, 'host', None)
        if name == 'host' and host:
            return host
        return getattr(self._conf, name)


class PerComputeConf(fixtures.Fixture):
    """Per-compute-host option values for ZVMDriver in one process.

    :param overrides: ``{host: {'instances_path': ...,
        'zvm': {'cloud_connector_url': ..., ...}}}``; a dict value is an
        option group. Add hosts later with :meth:`set_host`.
    """

    #: ComputeDriver methods the driver inherits that read per-host state.
    INHERITED = ('get_nodenames_by_uuid',)

    def __init__(self, overrides=None):
        super().__init__()
        self.overrides = dict(overrides or {})
        self._local = threading.local()

    def set_host(self, host, **values):
        self.overrides[host] = values

    def _setUp(self):
        view = _HostConfView(CONF, self._local, self.overrides)
        for name, module in sorted(sys.modules.items()):
            if (name.startswith('nova_zvm.virt.') and
                    getattr(module, 'CONF', None) is CONF):
                self.useFixture(fixtures.MonkeyPatch(name + '.CONF', view))
        cls = zvm_driver.ZVMDriver
        names = [name for name, func in vars(cls).items()
                 if inspect.isfunction(func) and (
                     not name.startswith('__') or name == '__init__')]
        for name in names + list(self.INHERITED):
            self.useFixture(fixtures.MonkeyPatch(
                '%s.%s.%s' % (cls.__module__, cls.__name__, name),
                self._on_host(getattr(cls, name))))
        # nova's volume detach calls the driver only when CONF.host is the
        # instance's host (DriverVolumeBlockDevice._do_detach); one process
        # has one CONF.host, the last compute started's.
        real_detach = block_device.DriverVolumeBlockDevice._do_detach
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.block_device.CONF',
            _HostNameView(block_device.CONF, self._local)))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.block_device.DriverVolumeBlockDevice._do_detach',
            self._as_driver_host(real_detach)))
        # nova keeps one node identity per process (a file in state_path):
        # each compute host gets its own.
        real_uuid = node.get_local_node_uuid
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.node.get_local_node_uuid',
            lambda: self._node_uuid() or real_uuid()))

    def _node_uuid(self):
        host = getattr(self._local, 'host', None)
        return host and str(uuid.uuid5(uuid.NAMESPACE_DNS,
                                       'nova-zvm-test.' + host))

    def _as_driver_host(self, do_detach):
        """``_do_detach`` run as the host of the driver nova hands it.

        The compute whose manager detaches is the one whose driver it
        passes; in production that compute's own CONF.host answers.
        """
        @functools.wraps(do_detach)
        def wrapper(bdm, context, instance, volume_api, virt_driver,
                    *args, **kwargs):
            host = getattr(virt_driver, '_test_compute_host',
                           getattr(self._local, 'host', None))
            with self._as_host(host):
                return do_detach(bdm, context, instance, volume_api,
                                 virt_driver, *args, **kwargs)
        return wrapper

    @contextlib.contextmanager
    def _as_host(self, host):
        """The block runs as compute ``host``: the views answer for it."""
        outer = getattr(self._local, 'host', None)
        self._local.host = host
        try:
            yield
        finally:
            self._local.host = outer

    def _on_host(self, func):
        @functools.wraps(func)
        def wrapper(driver, *args, **kwargs):
            if func.__name__ == '__init__':
                # Nova's start_service sets CONF.host before it builds the
                # manager and its driver.
                driver._test_compute_host = CONF.host
            with self._as_host(getattr(driver, '_test_compute_host', None)):
                result = func(driver, *args, **kwargs)
                if func.__name__ == 'get_available_resource':
                    # nova's resource tracker reads the node identity
                    # outside the driver: hand it this host's.
                    result = dict(result, uuid=self._node_uuid())
                return result
        return wrapper


class SSITestCase(base.ZVMTestCase):
    """Two nova-compute services, one per member of a two-member SSI.

    ``compute1`` runs on ZVMLAB01, ``compute2`` on ZVMLAB02, each driving
    its own member's Cloud Connector. ``self.compute`` is compute1 (as in
    the single-host base), and ``self.computes`` holds both by host name.
    """

    LAB_OPTIONS = {'members': 2}

    def _configure_driver(self):
        super()._configure_driver()
        root = self.useFixture(fixtures.TempDir()).path
        self.instances_paths = {}
        self.per_compute = PerComputeConf()
        for host, member in MEMBERS.items():
            info = self.member_connector(member)
            path = os.path.join(root, host, 'instances')
            self.instances_paths[host] = path
            self.per_compute.set_host(
                host, instances_path=path,
                zvm={'cloud_connector_url': info['url'],
                     'token_file': info['token_file'],
                     'ca_file': info['ca_file'],
                     'image_tmp_path': os.path.join(root, host, 'images')})
        self.useFixture(self.per_compute)

    def _setup_compute_service(self):
        first = None
        for host in MEMBERS:
            compute = self._start_compute(host)
            first = first or compute
        return first

    # Members, connectors and hosts -----------------------------------------

    def member_connector(self, member):
        """The lab's ``{'name', 'url', 'token_file', 'ca_file'}`` of one."""
        return next(m for m in self.lab.member_connectors
                    if m['name'] == member)

    def member_client(self, member):
        """A ZVMClient on one member's connector (closed after the test)."""
        info = self.member_connector(member)
        client = zvm_client.ZVMClient(info['url'],
                                      token_file=info['token_file'],
                                      ca_file=info['ca_file'], max_retries=0)
        self.addCleanup(client.close)
        return client

    @staticmethod
    def host_of(member):
        return next(h for h, m in MEMBERS.items() if m == member)

    def driver_of(self, host):
        return self.computes[host].manager.driver

    def node_uuid_of(self, host):
        return self._get_provider_uuid_by_host(
            self.driver_of(host).get_available_nodes()[0])

    # Where a guest runs and who manages it ---------------------------------

    def member_state(self, member):
        """One member's view (the lab's control API).

        Memory, vswitches (grants, couplings), the guests logged on there,
        its FCP devices and connector.
        """
        return self.lab.zvm.member(member)

    def logged_on_at(self, server):
        """The members the server's guest is logged on at ([] if off)."""
        userid = base.userid_of(server)
        members = self.lab.zvm.members()['members']
        return sorted(n for n, m in members.items() if userid in m['guests'])

    def registered_at(self, server):
        """The members whose connector manages (lists) the guest."""
        userid = base.userid_of(server)
        return sorted(m for m in MEMBERS.values()
                      if userid in self.member_client(m).guest_list())

    def owner_records_at(self, host):
        """``{USERID: instance uuid}`` recorded by one compute host."""
        return ownership.OwnerRegistry(os.path.join(
            self.instances_paths[host], 'nova-zvm', 'owners')).records()

    def owners_of(self, server):
        """The compute hosts that record the server's guest as theirs."""
        userid = base.userid_of(server)
        return sorted(h for h in MEMBERS
                      if self.owner_records_at(h).get(userid) ==
                      server['id'])

    def assert_managed_by(self, server, host):
        """The guest runs at ``host``'s member, managed there alone.

        Only that member's connector lists it, only that host records it
        as its instance's, and nova places the server there.
        """
        member = MEMBERS[host]
        self.assertEqual([member], self.logged_on_at(server))
        self.assertEqual([member], self.registered_at(server))
        self.assertEqual([host], self.owners_of(server))
        self.assertEqual(host, self.api.get_server(server['id'])[
            'OS-EXT-SRV-ATTR:host'])

    # Clean-up --------------------------------------------------------------

    def _remove_leftover_guests(self):
        # A guest may be managed by either member's connector, or by none
        # after a failed move: delete it through one that knows it, else
        # register it where it runs (or at the first member) and delete it.
        leftovers = set(self.lab.zvm.state()['users']) - self._guests_before
        if not leftovers:
            return
        members = self.lab.zvm.members()['members']
        clients = {}
        try:
            for member in members:
                info = self.member_connector(member)
                clients[member] = zvm_client.ZVMClient(
                    info['url'], token_file=info['token_file'],
                    ca_file=info['ca_file'], max_retries=0)
            for userid in sorted(leftovers):
                owner = next((m for m, c in sorted(clients.items())
                              if userid in _guest_list(c)), None)
                if owner is None:
                    owner = next((m for m, v in sorted(members.items())
                                  if userid in v['guests']), M1)
                    try:
                        clients[owner].guest_register(userid, 'linux', '1')
                    except zvm_exception.ZVMConnectorError:
                        continue
                try:
                    clients[owner].guest_delete(userid)
                except zvm_exception.ZVMConnectorError:
                    continue
        finally:
            for client in clients.values():
                client.close()


def _guest_list(client):
    # A failed member's connector is gone: it manages nothing.
    try:
        return client.guest_list()
    except zvm_exception.ZVMConnectorError:
        return []
