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


"""The users a z/VM directory holds before any guest is created.

A small, realistic set: the installation's own ids (MAINT, MAINT730,
PMAINT, OPERATOR, AUTOLOG1: z/VM 7.3 Installation Guide), DirMaint and its
DATAMOVE worker (DirMaint Tailoring and Administration), the SMAPI servers
(VSMGUARD, VSMWORK1-3, VSMREQIN, VSMREQIU: z/VM Systems Management
Application Programming, "SMAPI servers"), TCP/IP and the vswitch
controllers (TCPIP, DTCVSW1, DTCVSW2: z/VM TCP/IP Planning and
Customization) and the Cloud Connector's own SMT user (OPNCLOUD in
feilong's documentation). Their running state is not modelled: they are
directory entries, logged off.
"""

# userid: (memory MB, max memory MB) as a small installation defines them.
SYSTEM_USERS = {
    'MAINT': (256, 1024), 'MAINT730': (256, 1024), 'PMAINT': (128, 1024),
    'OPERATOR': (128, 128), 'AUTOLOG1': (32, 32),
    'DIRMAINT': (128, 256), 'DATAMOVE': (128, 256),
    'VSMGUARD': (128, 512), 'VSMWORK1': (128, 512), 'VSMWORK2': (128, 512),
    'VSMWORK3': (128, 512), 'VSMREQIN': (128, 512), 'VSMREQIU': (128, 512),
    'TCPIP': (256, 256), 'DTCVSW1': (32, 128), 'DTCVSW2': (32, 128),
}


def add_system_users(zvm):
    """Put the system's own users (and the SMT user) in ``zvm``'s directory."""
    entries = dict(SYSTEM_USERS)
    entries.setdefault(zvm.smt_userid.upper(), (1024, 2048))
    for userid, (mem, max_mem) in sorted(entries.items()):
        user = zvm.new_user(userid, vcpus=1, memory_mb=mem, max_vcpus=1,
                            max_memory_mb=max_mem, profile=None)
        user['password'] = 'NOLOG'
        user['cpu_addrs'] = ['00']
        user['system'] = True


def is_system(user):
    return bool(user and user.get('system'))
