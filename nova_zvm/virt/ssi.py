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

"""SSI cluster membership, as this host's connector reports it."""


def cluster(client):
    """``(ssi_name, {member: state})`` of the connector's z/VM system.

    ``(None, {})`` outside an SSI cluster. Parsed from SMAPI SSI_Query's
    ``key = value`` lines (a list, or one string); the connector's errors
    reach the caller, which decides what an unanswered query means.
    """
    lines = client.host_get_ssi_info() or []
    if isinstance(lines, str):
        lines = lines.splitlines()
    name, members, member = None, {}, None
    for line in lines:
        key, _, value = (part.strip() for part in str(line).partition('='))
        if key == 'ssi_name':
            name = value or None
        elif key == 'member_system_id':
            member = value.upper()
            members[member] = None
        elif key == 'member_state' and member:
            members[member] = value
    return name, members
