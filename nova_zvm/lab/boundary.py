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


"""zvmsdk's process boundary, rebound to the fake z/VM.

zvmsdk 1.6.3 reaches z/VM only through ``subprocess.check_output`` in five
modules, two files it reads on s390 Linux and two hard-coded paths. This
module replaces exactly those names *in those modules' namespaces* (never
the installed files, never the global ``subprocess`` module) so the
unmodified server runs on the fake z/VM.
"""

import io
import logging
import shlex
import subprocess
import types

from nova_zvm.lab import cp
from nova_zvm.lab import smapi
from nova_zvm.lab import zthin
from nova_zvm.lab import zvm as fake_zvm

LOG = logging.getLogger('nova_zvm.lab')

# The modules that import ``subprocess`` and call it to reach z/VM.
SUBPROCESS_USERS = ('smtLayer.vmUtils', 'smtLayer.getHost', 'smtLayer.getVM',
                    'zvmsdk.utils', 'zvmsdk.smtclient')


def argv(cmd):
    """zvmsdk's command (a string or a list) as a list, without sudo."""
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    cmd = [str(c) for c in cmd]
    return cmd[1:] if cmd and cmd[0] == 'sudo' else cmd


class Dispatcher(object):
    """Route one command line to the SMAPI, CP or zthin emulation."""

    def __init__(self, zvm, paths):
        self.zvm = zvm
        self.smapi = smapi.SMAPI(zvm)
        self.cp = cp.CP(zvm)
        self.zthin = zthin.ZThin(zvm, paths, self.cp)

    def run(self, cmd):
        cmd = argv(cmd)
        prog = cmd[0].rsplit('/', 1)[-1] if cmd else ''
        if prog == 'smcli':
            return self.smapi.call(cmd[1], cmd[3:] if len(cmd) > 2 and
                                   cmd[2] == '--addRCheader' else cmd[2:])
        if prog == 'vmcp':
            return self.cp.call(' '.join(cmd[1:]))
        return self.zthin.call(prog, cmd[1:])


class FakeSubprocess(types.ModuleType):
    """Stands in for ``subprocess`` inside zvmsdk's boundary modules."""

    def __init__(self, dispatcher):
        super().__init__('subprocess')
        # Keep the names zvmsdk uses besides check_output.
        for name in ('CalledProcessError', 'TimeoutExpired', 'STDOUT',
                     'PIPE', 'DEVNULL'):
            setattr(self, name, getattr(subprocess, name))
        self._dispatcher = dispatcher

    def check_output(self, cmd, *args, **kwargs):
        shown = cmd if isinstance(cmd, str) else ' '.join(map(str, cmd))
        try:
            out = self._dispatcher.run(cmd)
        except fake_zvm.NotEmulated as e:
            LOG.error('%s (command: %s)', e.message, shown)
            raise subprocess.CalledProcessError(
                e.returncode, cmd, output=_b(e.output))
        except fake_zvm.CommandFailed as e:
            LOG.info('fake z/VM: %s -> rc %s', shown, e.returncode)
            raise subprocess.CalledProcessError(
                e.returncode, cmd, output=_b(e.output))
        return _b(out)

    def run(self, cmd, *args, **kwargs):
        try:
            out = self.check_output(cmd)
            rc = 0
        except subprocess.CalledProcessError as e:
            out, rc = e.output, e.returncode
        return subprocess.CompletedProcess(cmd, rc, out, b'')

    def __getattr__(self, name):
        # Popen, call and friends would reach the real system: refuse.
        raise AttributeError('nova-zvm lab: subprocess.%s is not emulated'
                             % name)


def _b(text):
    if text is None:
        return b''
    return text if isinstance(text, bytes) else text.encode()


class FakeFiles(object):
    """``open`` for the s390-only files smtLayer reads, else the real one."""

    def __init__(self, zvm, real_open):
        self.zvm = zvm
        self.real_open = real_open

    def __call__(self, path, *args, **kwargs):
        if path == '/proc/sysinfo':
            return io.StringIO(self.zvm_sysinfo())
        if path == '/sys/bus/ccw/drivers/vmur/0.0.000c/online':
            return io.StringIO('1\n')
        return self.real_open(path, *args, **kwargs)

    def zvm_sysinfo(self):
        h = self.zvm.host
        return ('Manufacturer:         IBM\n'
                'Type:                 %(cec_model)s\n'
                'LPAR Name:            %(lpar)s\n'
                'LPAR CPUs Total:      %(cpus_total)d\n'
                'LPAR CPUs Configured: %(cpus_total)d\n'
                'VM00 Name:            %(system_name)s\n'
                'VM00 Control Program: z/VM    %(zvm_version)s\n'
                'VM00 CPUs Total:      %(cpus_total)d\n'
                'VM00 CPUs Configured: %(cpus_total)d\n' % h)


def install(dispatcher, zvm, paths):
    """Rebind the boundary names in zvmsdk's modules (after load_config)."""
    import builtins
    import importlib

    fake = FakeSubprocess(dispatcher)
    for modname in SUBPROCESS_USERS:
        mod = importlib.import_module(modname)
        mod.subprocess = fake
        # Some modules import the exception class by name.
        if hasattr(mod, 'CalledProcessError'):
            mod.CalledProcessError = subprocess.CalledProcessError
    files = FakeFiles(zvm, builtins.open)
    for modname in ('smtLayer.getHost', 'smtLayer.getVM'):
        # A module-level ``open`` shadows the builtin for that module only.
        importlib.import_module(modname).open = files
    from nova_zvm.lab import hostpaths
    dispatcher.zthin.path_map = hostpaths.install(paths)
    from zvmsdk import constants
    # zvmsdk hard-codes these two outside its configuration.
    constants.SDK_DATA_PATH = paths['sdk_data']
    constants.IUCV_AUTH_USERID_PATH = paths['iucv_auth_userid']
    return fake
