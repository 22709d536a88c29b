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

"""What the demo does, as a user of nova's REST API would do it."""

import importlib.metadata
import time

from oslo_utils.fixture import uuidsentinel as uuids

from nova_zvm import client as zvm_client
from nova_zvm.tests.functional import base
from nova_zvm.tests.functional import cinder
from nova_zvm.tests.functional import fixtures as zvm_fixtures
from nova_zvm.tests.functional import ssi_base

SERVER_NAMES = ('web-1', 'web-2', 'db-1')
FROM_SNAPSHOT = 'db-2'
VSWITCH = zvm_fixtures.VSWITCH


class DemoFailed(Exception):
    pass


def nova_version():
    return importlib.metadata.version('nova')


def tail(text, lines=25):
    """The end of a traceback: where and why, without the log wall."""
    return '\n'.join(text.rstrip().splitlines()[-lines:])


SERVER_COLUMNS = '%-6s  %-7s  %-11s  %s'


def server_line(server):
    return SERVER_COLUMNS % (
        server['name'], server['status'], base.userid_of(server),
        server['OS-EXT-SRV-ATTR:hypervisor_hostname'])


def directory_lines(state):
    """The fake z/VM's user directory, one block per guest."""
    system = sorted(set(state['users']) - set(state['guests']))
    lines = ['(and %d system users: %s)' % (len(system), ' '.join(system))]
    for userid, user in sorted(state['guests'].items()):
        lines.append('USER %-8s vcpus %d  memory %d MB  profile %s  '
                     'power %s' % (userid, user['vcpus'], user['memory_mb'],
                                   user['profile'], user['power']))
        for vdev, disk in sorted(user['minidisks'].items()):
            lines.append('  MDISK %s  %s %d %s  from pool %s' % (
                vdev, disk['type'], disk['size'], disk['unit'],
                disk['pool']))
        for vdev, nic in sorted(user['nics'].items()):
            lines.append('  NICDEF %s  MAC %s  coupled to %s' % (
                vdev, nic['mac'], nic['vswitch'] or '(nothing)'))
    for name, vswitch in sorted(state['vswitches'].items()):
        for userid, grant in sorted(vswitch['grants'].items()):
            lines.append('VSWITCH %s grants %s%s' % (
                name, userid,
                ' (VLAN %s)' % grant['vlan'] if grant['vlan'] else ''))
    return lines or ['(no guests)']


def run(cloud, progress):
    api = cloud.api

    with progress.step('Create an image in Glance: raw, s390x, '
                       'os_distro') as details:
        image = cloud.glance.create_s390x_image(uuids.demo_image,
                                                name='rhel-8.6-s390x')
        details.append('%s  %s' % (image['name'], image['id']))
        details.append(' '.join(
            '%s=%s' % prop for prop in sorted(image['properties'].items())
            if prop[0] != 'owner'))
        flavor_id = cloud._create_flavor(name='zvm.small', vcpu=1,
                                         memory_mb=1024, disk=2, ephemeral=0)

    with progress.step('Boot three servers'):
        servers = [api.post_server({'server': {
            'name': name, 'imageRef': image['id'], 'flavorRef': flavor_id,
            'networks': 'auto'}}) for name in SERVER_NAMES]
        servers = [cloud.wait_for_status(server, 'ACTIVE')
                   for server in servers]

    with progress.step('List the servers') as details:
        details.append(SERVER_COLUMNS % ('NAME', 'STATUS', 'Z/VM USERID',
                                         'HYPERVISOR'))
        for server in sorted(api.get_servers(), key=lambda s: s['name']):
            details.append(server_line(server))
            if server['status'] != 'ACTIVE':
                raise DemoFailed('%s is %s' % (server['name'],
                                               server['status']))

    web2, db1 = servers[1], servers[2]
    with progress.step('Reboot web-2'):
        api.post_server_action(web2['id'], {'reboot': {'type': 'SOFT'}})
        cloud.wait_for_status(web2, 'ACTIVE')

    with progress.step('Snapshot db-1') as details:
        snapshot_id = api.post_server_action(
            db1['id'], {'createImage': {'name': 'db-1-snapshot'}})['image_id']
        cloud.wait_for_status(db1, 'ACTIVE')
        snapshot = cloud.glance.show(None, snapshot_id)
        details.append('image %s, %d bytes' % (snapshot_id, snapshot['size']))

    with progress.step('Boot db-2 from the snapshot') as details:
        clone = api.post_server({'server': {
            'name': FROM_SNAPSHOT, 'imageRef': snapshot_id,
            'flavorRef': flavor_id, 'networks': 'auto'}})
        servers.append(clone)
        details.append(server_line(cloud.wait_for_status(clone, 'ACTIVE')))

    attach_volume(cloud, progress, db1)

    with progress.step('The z/VM user directory, as the fake z/VM holds '
                       'it') as details:
        details.extend(directory_lines(cloud.lab.zvm.state()))

    with progress.step('Delete everything'):
        for server in servers:
            api.delete_server(server['id'])
        for server in servers:
            cloud._wait_until_deleted(server)
        cloud.glance.delete(None, snapshot_id)

    with progress.step('Check that z/VM and placement hold nothing of '
                       'them') as details:
        left = cloud.lab.zvm.state()
        if left['guests']:
            raise DemoFailed('guests left on z/VM: %s' % sorted(
                left['guests']))
        usages = cloud._get_provider_usages(cloud.compute_node_uuid())
        if any(usages.values()):
            raise DemoFailed('placement still counts %s' % usages)
        details.extend(directory_lines(left))
        details.append('placement usages: %s' % usages)


def attach_volume(cloud, progress, server):
    """A LUN of the lab's SAN attached to ``server``, as its guest sees it."""
    with progress.step('Attach a Cinder volume (an FCP LUN on the lab\'s '
                       'SAN) to %s' % server['name']) as details:
        connector = zvm_client.ZVMClient(
            cloud.lab.url, token_file=cloud.lab.token_file,
            ca_file=cloud.lab.ca_file, max_retries=0)
        connector._call(
            'create_fcp_template', 'POST', '/volumes/fcptemplates',
            json_body={'name': 'demo', 'fcp_devices': '1a00-1a07;1b00-1b07',
                       'host_default': True})
        volumes = cloud.useFixture(cinder.ZVMCinderFixture(cloud,
                                                           cloud.lab.zvm))
        volume_id = volumes.create_fc_volume(uuids.demo_volume, 1, size_gb=5)
        cloud.api.post_server_volume(
            server['id'], {'volumeAttachment': {'volumeId': volume_id}})
        deadline = time.monotonic() + cloud.WAIT_TIMEOUT
        while volumes.volumes[volume_id]['status'] != 'in-use':
            if time.monotonic() > deadline:
                raise DemoFailed('volume %s not attached' % volume_id)
            time.sleep(0.2)
        device = cloud.api.get_server_volume(server['id'],
                                             volume_id)['device']
        view = cloud.lab.zvm.volumes(base.userid_of(server))
        details.append('nova: volume %s at %s' % (volume_id, device))
        for vdev, rdev in view['dedicate']:
            details.append('z/VM directory: DEDICATE %s %s' % (vdev, rdev))
        for name, disk in sorted(view['scsi_disks'].items()):
            details.append('guest: /dev/%s, LUN %s, %d paths%s' % (
                name, disk['lun'], len(disk['paths']),
                ' (multipath)' if disk['multipath'] else ''))
            for path in disk['paths']:
                details.append('  FCP %s -> target %s' % (
                    path['fcp'], path['target_wwpn']))


MIGRANT = 'app-1'


def where_line(cloud, server):
    """Where the server runs, as the fake z/VM and as nova see it."""
    return 'z/VM: %s logged on at %s   nova: host %s, hypervisor %s' % (
        base.userid_of(server),
        ', '.join(cloud.logged_on_at(server)) or '(no member)',
        server['OS-EXT-SRV-ATTR:host'],
        server['OS-EXT-SRV-ATTR:hypervisor_hostname'])


def wait_for_migration(cloud, server, status='completed'):
    """The server's newest migration, once nova reports ``status``."""
    deadline = time.monotonic() + cloud.WAIT_TIMEOUT
    while True:
        migration = max((m for m in cloud.api.api_get(
            '/os-migrations').body['migrations']
            if m['instance_uuid'] == server['id']),
            key=lambda m: m['id'], default=None)
        if migration and migration['status'] == status:
            return migration
        if migration and migration['status'] in ('error', 'failed'):
            raise DemoFailed('the migration of %s is %s' % (
                server['name'], migration['status']))
        if time.monotonic() > deadline:
            raise DemoFailed('the migration of %s is not %s after %ss' % (
                server['name'], status, cloud.WAIT_TIMEOUT))
        time.sleep(0.2)


def run_live_migration(cloud, progress):
    """Live-migrate a running server between the two SSI members."""
    api = cloud.api
    flavor_id = cloud._create_flavor(name='zvm.small', vcpu=1,
                                     memory_mb=1024, disk=2, ephemeral=0)

    with progress.step('Boot %s on compute1' % MIGRANT) as details:
        server = cloud.wait_for_status(api.post_server({'server': {
            'name': MIGRANT, 'imageRef': base.IMAGE_ID,
            'flavorRef': flavor_id, 'networks': 'auto',
            'availability_zone': 'nova:%s' % ssi_base.HOST1}}), 'ACTIVE')
        details.append(where_line(cloud, server))

    userid = base.userid_of(server)
    with progress.step('Authorize %s on %s at both members (the '
                       'operator\'s SSI setup)' % (userid, VSWITCH)):
        for member in (ssi_base.M1, ssi_base.M2):
            cloud.lab.zvm.set_member(member, grants={VSWITCH: [userid]})

    with progress.step('Live-migrate %s to compute2 (os-migrateLive)'
                       % MIGRANT) as details:
        details.append('before  ' + where_line(cloud, server))
        api.post_server_action(server['id'], {'os-migrateLive': {
            'host': ssi_base.HOST2, 'block_migration': 'auto'}})
        wait_for_migration(cloud, server)
        server = cloud.wait_for_status(server, 'ACTIVE')
        details.append('after   ' + where_line(cloud, server))
        if (cloud.logged_on_at(server) != [ssi_base.M2] or
                server['OS-EXT-SRV-ATTR:hypervisor_hostname'] !=
                ssi_base.M2):
            raise DemoFailed('%s did not move to %s'
                             % (MIGRANT, ssi_base.M2))

    with progress.step('Reboot %s at its new member and read its '
                       'console' % MIGRANT) as details:
        api.post_server_action(server['id'], {'reboot': {'type': 'HARD'}})
        server = cloud.wait_for_status(server, 'ACTIVE')
        guest = cloud.zvm_guest(server)
        details.append('%s power %s, logged on at %s' % (
            userid, guest['power'], ', '.join(cloud.logged_on_at(server))))
        console = api.post_server_action(
            server['id'], {'os-getConsoleOutput': {'length': 2}})['output']
        details.extend('console: ' + line
                       for line in console.splitlines()[-2:])
        if guest['power'] != 'on' or cloud.logged_on_at(server) != [
                ssi_base.M2]:
            raise DemoFailed('%s is not running at %s'
                             % (MIGRANT, ssi_base.M2))

    with progress.step('Delete %s; check that z/VM and placement hold '
                       'nothing of it' % MIGRANT) as details:
        api.delete_server(server['id'])
        cloud._wait_until_deleted(server)
        left = cloud.lab.zvm.state()['guests']
        if left:
            raise DemoFailed('guests left on z/VM: %s' % sorted(left))
        for host in ssi_base.MEMBERS:
            usages = cloud._get_provider_usages(cloud.node_uuid_of(host))
            if any(usages.values()):
                raise DemoFailed('placement still counts %s on %s' % (
                    usages, host))
            details.append('%s placement usages: %s' % (host, usages))
