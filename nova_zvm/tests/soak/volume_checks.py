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

"""The soak's volume checks: FCP devices, DEDICATE lines, LUN mappings.

Read from every side a volume has: nova's API (the servers' attached
volumes), the fake z/VM (the guests' DEDICATE lines, each member's FCP
devices), each member's Cloud Connector (its FCP records) and the storage
array (through the Cinder fixture). Used by ``invariants.Invariants``.
"""

from nova_zvm.tests.functional import ssi_base


def unaccounted(test, lab, connectors, on_host, state):
    """FCPs, DEDICATE lines and LUN mappings are attached volumes'.

    A guest has DEDICATE lines (one FCP per path) while its server has
    volumes attached, and none without; an FCP attached to a running
    guest at a member, or reserved or connected in that member's
    connector, belongs to a server on that member's host with volumes;
    the array maps a LUN only to the initiator WWPNs of the connector
    its attached volume's attachment was made with (the Cinder
    fixture's ``stray_mappings``).

    :param test: the soak's test case (nova's API, its Cinder fixture)
    :param lab: the ``LabFixture``
    :param connectors: ``{member: ZVMClient}`` on each member's connector
    :param on_host: ``{USERID: server}``, the servers nova has on a host
    :param state: the lab's z/VM state (``lab.zvm.state()``)
    :returns: the violations, one string each
    """
    problems = []
    volumes = {u: [v['volumeId'] for v in
                   test.api.get_server_volumes(s['id'])]
               for u, s in on_host.items()}
    for userid in sorted(state['guests']):
        server = on_host.get(userid)
        if server is None or server['status'] == 'ERROR':
            continue
        dedicated = lab.zvm.volumes(userid).get('dedicate') or []
        if bool(dedicated) != bool(volumes.get(userid)):
            problems.append('%s: guest %s has DEDICATE %s, volumes %s' % (
                server['name'], userid, dedicated,
                volumes.get(userid)))
    for host, member in sorted(ssi_base.MEMBERS.items()):
        here = {u for u, s in on_host.items()
                if s['OS-EXT-SRV-ATTR:host'] == host and volumes.get(u)}
        for rdev, device in sorted(lab.zvm.fcps(member).items()):
            owner = device.get('owner')
            if owner and owner not in here:
                problems.append('FCP %s at %s attached to %s, which has '
                                'no volume there' % (rdev, member, owner))
            usage = connectors[member].get_fcp_usage(rdev.lower())
            userid, reserved, connections = (usage or [None, 0, 0])[:3]
            if (reserved or connections) and (
                    (userid or '').upper() not in here):
                problems.append(
                    'FCP %s in the connector of %s: user %s, reserved '
                    '%s, connections %s; no volume of a server there' % (
                        rdev, member, userid, reserved, connections))
    attached = {v for vols in volumes.values() for v in vols}
    for initiator, key in test.cinder.stray_mappings(attached):
        problems.append('the array maps %s to %s, which no attachment '
                        'of a volume attached to a server accounts for'
                        % (key, initiator))
    return problems
