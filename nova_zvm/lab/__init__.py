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

STATUS: items 1-7 of the brief work and are tested (44+ tests in
``nova_zvm/tests/unit/lab``). Fixture + CLI; token auth (admin token file
0600) and auth none; TLS (self-signed); version, host info, disk pools
(ECKD and FBA, several), SSI info, guest list, guest create (disk_list
with format/boot disks, user_profile, max_cpu, max_mem), definition info,
user direct, delete (directory gone, pool space returned, couplings
gone), start/stop/softstop/reboot/reset/pause/unpause, power state,
guest info, inspect_stats (the bulk query; running guests only), console
output; file_import/file_export, image import/query/delete/root disk
size/export, deploy (header checked against the disk, config drive
punched to the reader), capture (valid image header); NICs (create,
delete, couple/uncouple, in the directory and active; logon couples the
directory's NICs), network interface (config punched), vswitch list/
query/grant/revoke/VLAN; create/config/delete disks; resize cpus/mem and
live; register/deregister; fault injection (SMAPI, CP, zthin; nth or
every call; rc/rs) and latency per name or profile (``profiles/zvm.json``);
scp to/from remote_host done as a local copy (nova's in-tree driver).

Use it from a test::

    from nova_zvm.lab.fixture import LabFixture
    lab = self.useFixture(LabFixture())          # auth='token', tls=False
    requests.post(lab.url + '/token', headers={'X-Admin-Token': ...})
    lab.zvm.state()['users']['ABC']['power']

or from a shell: ``nova-zvm-lab --port 8080`` (prints the URL and the admin
token file; Ctrl-C stops it). Tests: ``python -m stestr run
nova_zvm.tests.unit.lab``.

Layout: ``zvm`` (the fake z/VM's state); the commands zvmsdk runs,
emulated on that state: ``smapi`` (with ``smcli``, ``dirmaint``,
``vnet``), ``cp``, ``zthin`` and ``guestos`` (IUCV); ``boundary``
(rebinds zvmsdk's ``subprocess`` and s390-only file reads to them),
``hostpaths`` (keeps zvmsdk's hard-coded paths in the state dir),
``compat`` (runtime workarounds for zvmsdk 1.6.3 defects), ``server``
(SDKServer + WSGI app + control API in one process), ``http11``
(keep-alive), ``certs``, ``control`` (the ``/_lab/`` API), ``fixture``
(LabFixture), ``cli`` (``nova-zvm-lab``).

Not emulated (fails loudly, naming the SMAPI function, CP command or
tool, in the HTTP response and the lab log): creating/deleting/setting
vswitches (Virtual_Network_Vswitch_Create/Delete_Extended, Set_Extended
other than grant/revoke/VLAN), OSA dedication, RHCOS deploys and their
boot from volume, refresh_bootmap's wwid/minfcp options. The
console and reader are per-lab; no guest OS runs (IUCV commands are
answered for the ones zvmsdk issues).

As strict as a real z/VM where the driver depends on it (issue 19; the
contributor guide lists what is and is not modelled): real image headers
(``images``), disk pools made of volumes (``pools``), shutdowns and
logoffs that take time, a serial DirMaint queue and entry locks;
``set_settings``, ``set_shutdown`` and ``hold_entry`` steer them from a
test.

Deviations from the shared contract, and things to know:

* Default config as agreed: disk pool ``ECKD:POOL1`` (16 volumes of a
  3390-54, 65,520 cylinders each), vswitch ``VSW1`` plus any
  ``vswitches=``, profile ``OSDFLT``.
  Extra state keys: users carry ``max_memory_mb``, ``active_vcpus`` and
  ``active_memory_mb``; minidisks carry ``mode``, ``format`` (filesystem
  made by the server, or 'image') and ``image``; NICs carry ``vlan``,
  ``defined``, ``active``, ``coupled_active``, ``coupled_directory``;
  vswitches carry ``couplings`` ('USERID.VDEV'); reader entries carry
  ``id``, ``class``, ``type`` and ``path`` (the punched file's copy, which
  tests may read).
* The control API is served under ``/_lab/`` on the connector's port and
  on a plain-HTTP loopback port of its own (``lab.control_url``), which
  ``lab.zvm`` uses: steering a TLS lab needs no TLS client.
* ``lab.zvm`` also has ``set_power(userid, 'on'|'off'|'paused')``,
  ``add_console_output(userid, text)`` and ``info()``.
  ``inject_fault(name, rc, rs=0, nth=1, count=1)``: ``count=0`` fails every
  call from the nth on; ``name`` is a SMAPI function, a CP command or a
  prefix of its words ('QUERY USER'), or a zthin script/tool
  ('unpackdiskimage'). SMAPI faults come back as overallRC 8 rc/rs from
  SMT, which zvmsdk reports as HTTP 500.
* zvmsdk's monitor cache runs at the connector's default (``[monitor]
  cache_interval``, 300 s), as on a real connector: ``guest_inspect_stats``
  keeps listing a guest stopped after the monitor last read its figures,
  until the cache expires or a listed userid it holds nothing for is
  logged on; the figures then repeat (see ``nova_zvm/virt/power.py`` for
  how the driver confirms such guests). Tests that need fresh figures ask
  also for a guest started since (``tests/unit/lab/test_stats.py``).
* zvmsdk does not upper-case userids in ``guest_inspect_stats``; ask with
  upper-case userids or get ``{}``. It answers 500 to a ``guest_create``
  without ``disk_list`` (its own defect, not worked around).
* Vswitch grants outlive a deleted user unless revoked (as in CP);
  zvmsdk's delete revokes the grants it recorded.
* In a test process that eventlet has patched (importing ``nova.test``
  does, unless ``OS_NOVA_DISABLE_EVENTLET_PATCHING=1``), ``requests`` over
  TLS recurses in ``ssl``; the lab's own TLS test runs its client in a
  clean interpreter.

SSI (issue 12): ``LabFixture(members=N)`` / ``--members N`` is a cluster of
N members sharing one directory, each with its own connector; there
``SSI_Query`` and ``VMRELOCATE`` work (``ssi``: members and relocation;
``member``: the member processes and their command channel). With one
member (the default) nothing changes. FCP: ``fcp`` (devices, WWPN query,
dedicate), ``storage`` (the SAN array: LUNs, host mappings), ``scsi``
(the guest running the connector's attach/detach scripts); ``stats``
(CPU time, memory and NIC byte counters that grow); ``guestnet`` (the
guest applying a punched network doscript).
"""
