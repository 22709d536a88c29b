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

"""The soak's operations: servers in slots, driven through nova's API.

Every operation is a request to nova's API that nova-compute carries out
on its own (casts): the soak does not wait for it, so operations on
different servers overlap, and boots of several images run at once under
nova's ``max_concurrent_builds``. Before it touches a slot's server again
the soak waits until nova has finished the last operation on it.
"""

import threading
import time

from nova import context as nova_context
from nova.tests.functional.api import client as api_client

from nova_zvm.tests.functional import ssi_base

# Steady states a server waits in between operations (a migration or
# resize waits in VERIFY_RESIZE for the slot's next turn to confirm or
# revert it).
STEADY = ('ACTIVE', 'SHUTOFF', 'PAUSED', 'ERROR', 'VERIFY_RESIZE')
# How many empty slots one boot step fills, each with its own image.
BOOT_BATCH = 3
# How many times the soak deletes a server again whose delete failed
# (it went to ERROR), one try per later step, before it leaves it to the
# settling at the end; as an operator would, so that failed deletes do not
# pile up while the run goes on.
DELETE_RETRIES = 3
# Nova's answer when a project's quota is the limit. The soak's project
# has no limits (runner.SoakTest.setUp): meeting one is a harness bug.
QUOTA = 'Quota exceeded'


class SoakFailure(AssertionError):
    """The soak found a broken invariant or a stuck server."""


class QuotaExceeded(SoakFailure):
    """Nova refused or failed a server over quota: the harness is wrong."""

    def __init__(self, what):
        super().__init__(
            'harness bug: %s: the soak\'s project must have no quota limit '
            '(runner.SoakTest.setUp sets them), so quota can never be what '
            'fails a server' % what)


class OperationLog(object):
    """What the soak did, in order, with times: printed to replay a run."""

    def __init__(self):
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self.entries = []

    def record(self, step, server, detail):
        self._add('#%d %s %s slot %d %s: %s' % (
            step.index, step.kind, step.name, step.slot,
            server or '-', detail))

    def note(self, text):
        self._add(text)

    def _add(self, text):
        with self._lock:
            self.entries.append('%8.2fs %s' % (
                time.monotonic() - self._start, text))

    def format(self, last=None):
        with self._lock:
            entries = list(self.entries)
        if last is not None and len(entries) > last:
            entries = ['... %d earlier entries ...' % (len(entries) - last)
                       ] + entries[-last:]
        return '\n'.join(entries)


class Operations(object):
    """Runs operation steps on the soak's server slots.

    :param test: the soak's test case (nova's API, glance, helpers)
    :param log: the ``OperationLog``
    :param images: ids of the Glance images servers boot from
    :param flavors: ids of the flavors servers boot with
    :param wait_timeout: seconds a server may take to finish an operation
    """

    def __init__(self, test, log, slots, images, flavors, wait_timeout,
                 authorize=None):
        self.test = test
        # authorize(server, host): the operator's vswitch authorization of
        # a guest at another SSI member, which a live migration needs.
        self.authorize = authorize
        self.api = test.api
        self.log = log
        self.slots = [None] * slots
        self.images = list(images)
        self.snapshots = []
        self.flavors = list(flavors)
        self.wait_timeout = wait_timeout
        self.deleted = []
        # Deleted servers not yet gone: {id: tries left to delete again}.
        self.deleting = {}
        # {(member, USERID)}: members a guest was live-migrated away from
        # (see invariants.Invariants._grants).
        self.live_migrated_from = set()
        # Ports the soak attached to servers (os-interface).
        self.ports = set()
        # Volumes the soak made (os-volume_attachments).
        self.volumes = []
        self.errors = []
        self.counts = {}
        # Servers whose confirm the soak posted: a confirm sets no task
        # state, so the server waits in VERIFY_RESIZE until it is done.
        self.confirming = set()

    def run(self, step):
        self.retry_deletes(step)
        server = self._wait_idle(step.slot)
        if server is None:
            return self._boot(step)
        if server['status'] == 'ERROR':
            return self._delete_failed(step, server)
        if server['status'] == 'VERIFY_RESIZE':
            return self._finish_resize(step, server)
        action = self._action(step, server['status'], self._resize_to(
            server) if step.name == 'resize' else None)
        if action is not None and 'os-migrateLive' in action:
            self.authorize(server, self.other_host(server))
        if action is None:
            return self._delete(step, server)
        if action == 'periodic':
            return self._periodic(step, server)
        if action == 'createImage':
            return self._snapshot(step, server)
        if action == 'interface':
            return self._interface(step, server)
        if action == 'volume':
            return self._volume(step, server)
        self._post(step, server, action)

    # -- choosing -----------------------------------------------------------
    @staticmethod
    def finish_resize(variant):
        """Confirm (variant < 0.5) or revert a migration or resize."""
        return {'confirmResize': None} if variant < 0.5 else {
            'revertResize': None}

    def _resize_to(self, server):
        """Another flavor the server can be resized to (same disks)."""
        flavor = server['flavor']
        for flavor_id in self.flavors:
            other = self.test.api.get_flavor(flavor_id)
            if ((other['disk'], other['OS-FLV-EXT-DATA:ephemeral']) ==
                    (flavor['disk'], flavor['ephemeral']) and
                    (other['vcpus'], other['ram']) !=
                    (flavor['vcpus'], flavor['ram'])):
                return flavor_id
        return None

    def other_host(self, server):
        host = server['OS-EXT-SRV-ATTR:host']
        return next(h for h in sorted(self.test.computes) if h != host)

    @staticmethod
    def _action(step, status, resize_to=None):
        """Nova's action for the step's operation and the server's state.

        None means delete.
        """
        hard = step.variant >= 0.5
        name = step.name
        if name == 'delete':
            return None
        if name in ('periodic', 'snapshot'):
            return {'periodic': 'periodic', 'snapshot': 'createImage'}[name]
        if name == 'volume' and status != 'PAUSED':
            return 'volume'
        if name == 'interface' and status == 'SHUTOFF':
            return 'interface'
        if name == 'interface' and status == 'ACTIVE':
            # Attach only to a stopped server (nova-zvm refuses a running
            # one by design): stop it first, attach on a later turn.
            return {'os-stop': None}
        if name in ('migrate', 'resize') and status != 'PAUSED':
            if name == 'resize' and resize_to:
                return {'resize': {'flavorRef': resize_to}}
            if status == 'ACTIVE' and not hard:
                # The scheduler picks the other member.
                return {'os-migrateLive': {'host': None,
                                           'block_migration': 'auto'}}
            return {'migrate': None}
        if status == 'ACTIVE':
            return {'reboot': {'reboot': {'type': 'HARD' if hard else
                                          'SOFT'}},
                    'power': {'os-stop': None},
                    'pause': {'pause': None}}[name]
        if status == 'SHUTOFF':
            if name == 'reboot':
                return {'reboot': {'type': 'HARD'}}
            return {'os-start': None}
        # PAUSED
        if name == 'reboot':
            return {'reboot': {'type': 'HARD'}}
        return {'unpause': None}

    # -- doing --------------------------------------------------------------
    def _count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def _post(self, step, server, action):
        label = next(iter(action))
        try:
            self.api.post_server_action(server['id'], action)
        except api_client.OpenStackApiException as err:
            self._refused(step, server, label, err)
            return
        self._count(label if label != 'reboot' else
                    'reboot-' + action['reboot']['type'].lower())
        if label == 'os-migrateLive':
            self.live_migrated_from.add((
                ssi_base.MEMBERS[server['OS-EXT-SRV-ATTR:host']],
                server['OS-EXT-SRV-ATTR:instance_name'].upper()))
        if label in ('migrate', 'os-migrateLive', 'resize'):
            label += ' from %s' % server['OS-EXT-SRV-ATTR:host']
        self.log.record(step, server['name'], '%s (was %s)' % (
            label, server['status']))

    def _finish_resize(self, step, server):
        action = self.finish_resize(step.variant)
        if 'confirmResize' in action:
            self.confirming.add(server['id'])
        self._post(step, server, action)

    def _refused(self, step, server, label, err):
        # Nova refuses an action its state machine does not allow at this
        # moment (409): a race with nova, not a failure.
        self._count('refused')
        self.confirming.discard(server['id'])
        self.log.record(step, server['name'], '%s refused by nova: %s' % (
            label, _status(err)))

    def _boot(self, step):
        empty = [n for n, s in enumerate(self.slots) if s is None]
        # The step's slot first, then the next empty ones.
        empty.sort(key=lambda n: (n != step.slot, n))
        booted = []
        images = self.images + self._uploaded_snapshots()
        for k, slot in enumerate(empty[:BOOT_BATCH]):
            image = images[(int(step.variant * len(images)) + k) %
                           len(images)]
            # A snapshot asks for at least its server's root disk: the
            # largest flavor fits every one.
            flavor = (self.flavors[-1] if image in self.snapshots else
                      self.flavors[(step.nth + k) % len(self.flavors)])
            name = 'soak-%d-%d' % (step.index, slot)
            body = self.test._build_server(
                name=name, image_uuid=image, flavor_id=flavor,
                networks='auto')
            try:
                server = self.api.post_server({'server': body})
            except api_client.OpenStackApiException as err:
                if QUOTA in str(err):
                    raise QuotaExceeded('nova refused to boot %s: %s' % (
                        name, err))
                # A snapshot that failed (its image deleted) or is still
                # being uploaded cannot be booted yet: nova says so.
                booted.append('%s from %s refused by nova: %s' % (
                    name, image[:8], _status(err)))
                self._count('refused')
                continue
            self.slots[slot] = {'id': server['id'], 'name': name}
            booted.append('%s on slot %d from %s' % (name, slot, image[:8]))
            self._count('boot')
        self.log.record(step, None, 'boot ' + ', '.join(booted))

    def _uploaded_snapshots(self):
        """Snapshots Glance has the data of (as nova's API would check).

        Nova's fake Glance lets a server boot from an image still being
        uploaded; a real one answers that the image is not active.
        """
        return [i for i in self.snapshots
                if self.test.glance.image_data(i) is not None]

    def _snapshot(self, step, server):
        try:
            result = self.api.post_server_action(
                server['id'], {'createImage': {'name': 'snap-%d' %
                                                       step.index}})
        except api_client.OpenStackApiException as err:
            self._refused(step, server, 'createImage', err)
            return
        self._count('snapshot')
        self.snapshots.append(result['image_id'])
        self.log.record(step, server['name'], 'snapshot %s (was %s)' % (
            result['image_id'][:8], server['status']))

    def _interface(self, step, server):
        """Attach a new port, or detach one the soak attached (half)."""
        ports = [i['port_id'] for i in
                 self.api.get_port_interfaces(server['id'])]
        attached = [p for p in ports if p in self.ports]
        try:
            if attached and step.variant < 0.5:
                what = 'detach port %s' % attached[0][:8]
                self.api.detach_interface(server['id'], attached[0])
            else:
                port = self.test.new_port()
                what = 'attach port %s' % port['id'][:8]
                self.ports.add(port['id'])
                self.api.attach_interface(server['id'], {
                    'interfaceAttachment': {'port_id': port['id']}})
        except api_client.OpenStackApiException as err:
            # An attach that failed (a fault) answers 500: the server
            # stays as it was, which the invariants check.
            self._count('interface-failed')
            self.log.record(step, server['name'], '%s failed: %s' % (
                what, _status(err)))
            return
        self._count(what.split()[0] + '-interface')
        self.log.record(step, server['name'], '%s (was %s, %d ports)' % (
            what, server['status'], len(ports)))

    def _volume(self, step, server):
        """Attach a new volume, or detach one attached (half the time)."""
        attached = [v['volumeId'] for v in
                    self.api.get_server_volumes(server['id'])]
        try:
            if attached and step.variant < 0.5:
                what = 'detach volume %s' % attached[0][:8]
                self.api.delete_server_volume(server['id'], attached[0])
            else:
                volume_id = self.test.new_volume()
                what = 'attach volume %s' % volume_id[:8]
                self.volumes.append(volume_id)
                self.api.post_server_volume(server['id'], {
                    'volumeAttachment': {'volumeId': volume_id}})
        except api_client.OpenStackApiException as err:
            self._count('volume-refused')
            self.log.record(step, server['name'], '%s refused: %s' % (
                what, _status(err)))
            return
        self._count(what.split()[0] + '-volume')
        self.log.record(step, server['name'], '%s (was %s, %d attached)' % (
            what, server['status'], len(attached)))

    def wait_volumes(self):
        """Wait until no volume is being attached or detached."""
        deadline = time.monotonic() + self.wait_timeout
        busy = ('attaching', 'detaching', 'reserved')
        while True:
            pending = [v for v in self.volumes
                       if self.test.cinder.volumes.get(v, {}).get(
                           'status') in busy]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise SoakFailure('volumes %s still attaching or detaching '
                                  'after %ss' % (pending, self.wait_timeout))
            time.sleep(0.25)

    def _delete(self, step, server):
        self.api.delete_server(server['id'])
        self.deleted.append(server['id'])
        self.deleting[server['id']] = DELETE_RETRIES
        self.slots[step.slot] = None
        self._count('delete')
        self.log.record(step, server['name'], 'delete (was %s)' %
                        server['status'])

    def retry_deletes(self, step):
        """Delete again the deleted servers that went to ERROR (bounded).

        One look at each server still being deleted, no waiting: gone ones
        are forgotten, ones nova still works on are left for the next step.
        """
        for server_id, tries in list(self.deleting.items()):
            try:
                server = self.api.get_server(server_id)
            except api_client.OpenStackApiNotFoundException:
                del self.deleting[server_id]
                continue
            if (server['status'] != 'ERROR' or
                    server['OS-EXT-STS:task_state']):
                continue
            fault = self.note_error(server)
            if not tries:
                # The settling at the end deletes it once more.
                del self.deleting[server_id]
                continue
            self.deleting[server_id] = tries - 1
            self.api.delete_server(server_id)
            self._count('delete-again')
            self.log.record(step, server['name'],
                            'delete again (delete failed: %s)' % fault)

    def note_error(self, server):
        """Record a server's ERROR and its fault; the fault's message."""
        fault = server.get('fault', {}).get('message', '')
        if QUOTA in fault:
            raise QuotaExceeded('%s went to ERROR: %s' % (server['name'],
                                                          fault))
        self.errors.append((server['name'], fault))
        return fault

    def _delete_failed(self, step, server):
        fault = self.note_error(server)
        self.log.record(step, server['name'], 'ERROR, fault: %s' % fault)
        self._delete(step, server)

    def _periodic(self, step, server):
        # What nova-compute's periodic task runner does: an exception is
        # logged and the next task runs.
        ctxt = nova_context.get_admin_context()
        results = []
        for host, compute in sorted(self.test.computes.items()):
            for task in (compute.manager.update_available_resource,
                         compute.manager._sync_power_states):
                try:
                    task(ctxt)
                    results.append('%s ok' % host)
                except Exception as err:
                    results.append('%s %s' % (host, type(err).__name__))
        self._count('periodic')
        self.log.record(step, None, 'periodic tasks: %s' % ', '.join(
            results))

    # -- waiting ------------------------------------------------------------
    def _wait_idle(self, slot):
        """The slot's server once nova is done with it; None if none."""
        entry = self.slots[slot]
        if entry is None:
            return None
        server = self.wait_idle(entry['id'])
        if server is None:
            self.slots[slot] = None
        return server

    def wait_idle(self, server_id):
        """Poll nova until the server is steady (no task); None if gone."""
        deadline = time.monotonic() + self.wait_timeout
        while True:
            try:
                server = self.api.get_server(server_id)
            except api_client.OpenStackApiNotFoundException:
                return None
            if (server['status'] in STEADY and
                    not server['OS-EXT-STS:task_state'] and
                    not self._still_confirming(server)):
                return server
            if time.monotonic() > deadline:
                raise SoakFailure(
                    'server %s stuck: status %s, task state %s after %ss' % (
                        server['name'], server['status'],
                        server['OS-EXT-STS:task_state'], self.wait_timeout))
            time.sleep(0.25)

    def _still_confirming(self, server):
        if server['status'] == 'VERIFY_RESIZE':
            return server['id'] in self.confirming
        self.confirming.discard(server['id'])
        return False

    def wait_gone(self, server_id):
        """Poll nova until a deleted server is gone from its database.

        (Status DELETED is not enough: nova-compute destroys the record
        after it, and until then nova counts the server as on the host.)
        """
        deadline = time.monotonic() + self.wait_timeout
        while True:
            try:
                server = self.api.get_server(server_id)
            except api_client.OpenStackApiNotFoundException:
                return
            if time.monotonic() > deadline:
                raise SoakFailure('server %s not deleted after %ss: %s %s' % (
                    server['name'], self.wait_timeout, server['status'],
                    server['OS-EXT-STS:task_state']))
            time.sleep(0.25)

    def servers(self):
        """The slots' servers (dicts from nova's API), settled.

        A migration or resize waiting for its confirmation is confirmed.
        """
        out = []
        for slot in range(len(self.slots)):
            server = self._wait_idle(slot)
            if server is not None and server['status'] == 'VERIFY_RESIZE':
                self.log.note('%s: confirm its resize (settling)' %
                              server['name'])
                self.confirming.add(server['id'])
                self.api.post_server_action(server['id'],
                                            {'confirmResize': None})
                server = self._wait_idle(slot)
            if server is not None:
                out.append(server)
        return out


def _status(err):
    response = getattr(err, 'response', None)
    return getattr(response, 'status_code', None) or err
