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


"""``LabFixture``: a lab process for one test (or one test class).

The lab runs as its own process (``python -m nova_zvm.lab``) because
zvmsdk keeps its configuration, database and server sockets in module
globals: two labs in one process would share them, and nova's eventlet or
threading mode in the test process must not reach into the server.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import fixtures
import requests

from nova_zvm.lab import readiness

# A lab starts in seconds; a CI machine running the suite on every core
# can take several times longer (as the SSI members allow).
START_TIMEOUT = 60.0
CONTROL_TIMEOUT = 30.0

# The lab listens on 127.0.0.1: no proxy may stand between it and its
# clients (and wsgi-intercept in nova's functional tests breaks on them).
PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy',
                   'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY')


class LabError(Exception):
    pass


class ZVMControl(object):
    """Talks to the lab process's control API (``/_lab/``)."""

    def __init__(self, url):
        # The lab's plain-HTTP control port (see server.Lab._start_control).
        self.base = url + '/_lab/'
        self.session = requests.Session()
        self.session.trust_env = False

    def _call(self, method, path, body=None):
        r = self.session.request(method, self.base + path, json=body,
                                 timeout=CONTROL_TIMEOUT)
        if r.status_code != 200:
            raise LabError('lab control %s %s: %s %s' % (
                method, path, r.status_code, r.text))
        return r.json()

    def state(self):
        return self._call('GET', 'state')

    def info(self):
        return self._call('GET', 'info')

    def calls(self, member=None):
        """The fake z/VM's calls ('smapi:Image_Activate', 'cp:QUERY ...').

        ``member``: only those run by that SSI member's connector.
        """
        return self._call('GET', self._at(member, 'calls'))

    @staticmethod
    def _at(member, path):
        # One member's view or instrumentation, or the whole lab's.
        return 'members/%s/%s' % (member.upper(), path) if member else path

    def reset_calls(self):
        self._call('DELETE', 'calls')

    def inject_fault(self, name, rc, rs=0, nth=1, count=1, member=None):
        """Fail calls of one SMAPI function, CP command or zthin script.

        ``name``: 'Image_Activate', 'QUERY USER' (a prefix of a CP
        command's words) or 'unpackdiskimage'. The nth call fails, and
        ``count``-1 more after it (``count=0``: every call from the nth).
        ``member`` ('ZVMLAB02'): only calls that member's connector runs
        fail, and only those count towards ``nth``.
        """
        return self._call('POST', self._at(member, 'faults'), {
            'name': name, 'rc': rc, 'rs': rs, 'nth': nth, 'count': count})

    def clear_faults(self, member=None):
        """Drop every fault, or only those injected for ``member``."""
        self._call('DELETE', self._at(member, 'faults'))

    def set_latency(self, latency, member=None):
        """Seconds per name: {'Image_Create_DM': 0.5, 'cp:*': 0.002}.

        ``member``: that member's own profile (``{}`` drops it), looked up
        before the cluster's for the calls its connector runs.
        """
        return self._call('PUT', self._at(member, 'latency'), latency)

    def rest_calls(self):
        return self._call('GET', 'rest_calls')

    def reset_rest_calls(self):
        self._call('DELETE', 'rest_calls')

    def set_power(self, userid, power):
        """Set a guest's power (on, off, paused) behind the connector."""
        self._call('POST', 'users/%s/power' % userid.upper(),
                   {'power': power})

    def set_settings(self, **settings):
        """dirmaint_serial, signal_timeout, logoff_seconds (see zvm.py)."""
        return self._call('PUT', 'settings', settings)

    def set_shutdown(self, userid, shutdown):
        """Seconds the guest takes to shut down when told, or 'ignore'."""
        self._call('POST', 'users/%s/shutdown' % userid.upper(),
                   {'shutdown': shutdown})

    def hold_entry(self, userid, count=1):
        """Lock the directory entry as another DirMaint user would.

        The next ``count`` directory changes of it get 400/12 (count 0:
        every one until ``release_entry``).
        """
        self._call('POST', 'users/%s/hold' % userid.upper(),
                   {'count': count})

    def release_entry(self, userid):
        self._call('POST', 'users/%s/release' % userid.upper(), {})

    # -- FCP devices and the storage array ----------------------------------
    def storage(self):
        """The array: {'luns': [...], 'mappings': {initiator: [t/lun]}}."""
        return self._call('GET', 'storage')

    def create_lun(self, target_wwpn, lun, size_gb=1, image=None):
        """Create a LUN on the array.

        ``image`` (an OS name) makes it bootable once refresh_bootmap has
        written its bootmap.
        """
        return self._call('POST', 'storage/luns', {
            'target_wwpn': target_wwpn, 'lun': lun, 'size_gb': size_gb,
            'image': image})

    def map_lun(self, initiators, target_wwpn, lun):
        """Let the initiator WWPNs (FCP devices' NPIV ports) see it."""
        return self._call('POST', 'storage/mappings', {
            'initiators': initiators, 'target_wwpn': target_wwpn,
            'lun': lun})

    def unmap_lun(self, initiators, target_wwpn, lun):
        return self._call('DELETE', 'storage/mappings', {
            'initiators': initiators, 'target_wwpn': target_wwpn,
            'lun': lun})

    def fcps(self, member=None):
        """A system's FCP devices: chpid, WWPNs, owner.

        ``member``: that SSI member's devices (default: the first's).
        """
        return self._call('GET', self._at(member, 'fcps'))

    def volumes(self, userid):
        """A guest's DEDICATE lines, FCPs and the SCSI disks its OS sees.

        ``scsi_disks`` is keyed by the udev link (mount point) name;
        ``network`` holds the interfaces the guest OS configured from the
        connector's network doscripts, by device name ('enc1000').
        """
        return self._call('GET', 'users/%s/volumes' % userid.upper())

    # -- SSI (a LabFixture with members > 1) --------------------------------
    def members(self):
        """The cluster: {'ssi_name', 'members': {name: view + guests}}."""
        return self._call('GET', 'members')

    def member(self, name):
        return self._call('GET', 'members/%s' % name.upper())

    def set_member(self, name, **changes):
        """Change a member: memory, FCPs, vswitches, grants.

        ``memory_mb``; ``fcps_offline`` (its FCP rdevs now offline);
        ``vswitches`` to add, ``remove_vswitches``; ``grants``
        ({vswitch: [userid]}, made outside the member's connector).
        """
        return self._call('PUT', 'members/%s' % name.upper(), changes)

    def logon_at(self, name, userid):
        """Log a guest on at a member as an operator would (XAUTOLOG).

        Returns {'rc', 'output'}: SMAPI's answer (rc 0: logged on).
        """
        return self._call('POST', 'members/%s/logon' % name.upper(),
                          {'userid': userid})

    def fail_member(self, name):
        """The member goes down: guests logged off, connector gone."""
        return self._call('POST', 'members/%s/fail' % name.upper(), {})

    def add_console_output(self, userid, text):
        self._call('POST', 'users/%s/console' % userid.upper(),
                   {'text': text})


class LabFixture(fixtures.Fixture):
    """The real Cloud Connector on a fake z/VM, on 127.0.0.1.

    Attributes once set up: ``url``, ``token_file`` (None with
    auth='none'), ``ca_file`` (None without TLS), ``zvm`` (ZVMControl),
    ``state_dir``, ``log_file``; with ``members=N`` (N > 1) an SSI
    cluster, and ``member_connectors`` lists each member's connector.
    """

    def __init__(self, auth='token', tls=False, latency_profile=None,
                 disk_pools=None, vswitches=None, user_profile='OSDFLT',
                 log_level='INFO', members=1):
        super().__init__()
        self.members = members
        self.auth = auth
        self.tls = tls
        self.latency_profile = latency_profile
        self.disk_pools = disk_pools
        self.vswitches = vswitches
        self.user_profile = user_profile
        self.log_level = log_level
        self.process = None

    def _setUp(self):
        self.state_dir = tempfile.mkdtemp(prefix='nova-zvm-lab-')
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.log_file = os.path.join(self.state_dir, 'lab.log')
        cmd = [sys.executable, '-m', 'nova_zvm.lab', '--ready-json',
               '--exit-with-parent',
               '--host', '127.0.0.1', '--port', '0',
               '--auth', self.auth, '--state-dir', self.state_dir,
               '--user-profile', self.user_profile,
               '--log-level', self.log_level]
        if self.tls:
            cmd.append('--tls')
        if self.latency_profile:
            cmd += ['--latency-profile', self.latency_profile]
        for pool in self.disk_pools or []:
            cmd += ['--disk-pool', pool]
        for vsw in self.vswitches or []:
            cmd += ['--vswitch', vsw]
        if self.members > 1:
            cmd += ['--members', str(self.members)]
        env = dict(os.environ)
        # The lab's own logs go to its file; nothing must proxy loopback.
        for var in PROXY_VARIABLES:
            env.pop(var, None)
        log = open(self.log_file, 'ab')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
            env=env, cwd=self.state_dir)
        self.addCleanup(self._stop)
        info = self._wait_ready()
        self.url = info['url']
        self.token_file = info['token_file']
        self.ca_file = info['ca_file']
        self.control_url = info['control_url']
        self.zvm = ZVMControl(self.control_url)
        # SSI: [{'name', 'url', 'token_file', 'ca_file', ...}] per member,
        # the first being this lab's own url; [] for a single system.
        self.member_connectors = info.get('members', [])

    def _wait_ready(self):
        info = readiness.ready_line(self.process, 'NOVA_ZVM_LAB_READY ',
                                    START_TIMEOUT)
        if info is not None:
            return json.loads(info)
        raise LabError('the lab did not start (exit code %s); see %s:\n%s'
                       % (self.process.poll(), self.log_file,
                          self._log_tail()))

    def _log_tail(self):
        try:
            with open(self.log_file, 'rb') as f:
                return f.read()[-4000:].decode(errors='replace')
        except OSError:
            return ''

    def _stop(self):
        readiness.stop(self.process)
