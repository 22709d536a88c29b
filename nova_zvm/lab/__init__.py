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


"""The lab: the real z/VM Cloud Connector server on a fake z/VM.

STATUS: items 1-4 work. Fixture + CLI; token (0600 admin token file) and
auth none; TLS; version, host info, disk pools, SSI info, guest list,
guest create (disk_list with format/boot disks, user_profile, max_cpu,
max_mem), definition info, user direct, delete (pool space returned,
couplings gone), start/stop/softstop/reboot/reset/pause/unpause, power
state, guest info, inspect_stats (bulk; running guests only), console
output; file_import/file_export, image import/query/delete/root disk
size/export, deploy (header checked against the disk, config drive
punched to the reader), capture (valid image header); NICs (create,
delete, couple/uncouple in directory and active), network interface
(config punched), vswitch list/query/grant/revoke/VLAN; create/config/
delete disks; resize cpus/mem and live; register/deregister. Fault
injection (SMAPI, CP, zthin; nth/every call; rc/rs) and latency per name
or profile (``profiles/zvm.json``); scp to/from remote_host done as a
local copy (nova's in-tree driver). All of items 1-7.

Use it from a test::

    from nova_zvm.lab.fixture import LabFixture
    lab = self.useFixture(LabFixture())          # auth='token', tls=False
    requests.get(lab.url + '/', ...)
    lab.zvm.state()['users']['ABC']['power']

or from a shell: ``nova-zvm-lab --port 8080`` (prints the URL and the admin
token file; Ctrl-C stops it).

Layout: ``zvm`` (the fake z/VM's state), ``smapi``/``cp``/``zthin`` (the
commands zvmsdk runs, emulated on that state), ``boundary`` (rebinds
zvmsdk's ``subprocess`` and s390-only file reads to them), ``compat``
(runtime workarounds for zvmsdk 1.6.3 defects), ``server`` (SDKServer +
WSGI app + control API in one process), ``control`` (the ``/_lab/`` API),
``fixture`` (LabFixture), ``cli`` (``nova-zvm-lab``).

Deviations from the shared contract, and things to know:

* Default config as agreed: disk pool ``ECKD:POOL1`` (65,520,000
  cylinders), vswitch ``VSW1`` plus any ``vswitches=``, profile ``OSDFLT``.
  Extra state keys: users carry ``max_memory_mb``; minidisks carry
  ``mode`` and ``format`` (filesystem made by the server, or 'image' once
  an image was unpacked onto it); reader entries carry ``id``, ``class``,
  ``type`` and ``path`` (the punched file's copy, readable by tests).
* zvmsdk's monitor cache is off (``[monitor] cache_interval = 0``) so
  ``guest_inspect_stats`` reflects power changes at once. A real connector
  defaults to 300 s: a driver must not assume fresher data than that.
* zvmsdk does not upper-case userids in ``guest_inspect_stats``; ask with
  upper-case userids or get ``{}``.
"""
