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


"""Keep the paths zvmsdk hard-codes inside the lab's state dir.

zvmsdk 1.6.3 writes outside its configured directories in three places:
``/tmp/<USERID>/iucvauth.sh`` (deploy), ``tempfile.mkdtemp(dir='/tmp')``
(network config, config drive copies) and ``/var/lib/zvmsdk/setupDisk``
(the worker script punched by guest_config_minidisks). Two labs running at
once (parallel test workers) would share ``/tmp/<USERID>`` and remove each
other's files. The modules that use those paths get ``os``, ``shutil``,
``tempfile`` and ``open`` stand-ins that map exactly these paths into the
state dir; every other path passes through untouched.
"""

import builtins
import os
import re
import shutil
import tempfile
import types

_TMP_USERID = re.compile(r'^/tmp/([A-Z0-9@#$]{1,8})(/.*)?$')


class PathMap(object):
    def __init__(self, paths):
        self.sdk_data = paths['sdk_data'].rstrip('/')
        self.host_tmp = os.path.join(paths['tmp'], 'host')
        self.tmp = paths['tmp']

    def __call__(self, path):
        if not isinstance(path, str):
            return path
        if path.startswith('/var/lib/zvmsdk/'):
            return self.sdk_data + path[len('/var/lib/zvmsdk'):]
        m = _TMP_USERID.match(path)
        if m:
            return self.host_tmp + path[len('/tmp'):]
        return path


def _module_like(real, name, overrides):
    fake = types.ModuleType(name)
    for attr in dir(real):
        if not attr.startswith('__'):
            setattr(fake, attr, getattr(real, attr))
    for attr, value in overrides.items():
        setattr(fake, attr, value)
    return fake


def _mapped(func, pmap, nargs=1):
    def wrapper(*args, **kwargs):
        args = [pmap(a) if i < nargs else a for i, a in enumerate(args)]
        return func(*args, **kwargs)
    return wrapper


def fake_os(pmap):
    path = _module_like(os.path, 'os.path', {
        name: _mapped(getattr(os.path, name), pmap)
        for name in ('exists', 'isdir', 'isfile', 'getsize', 'lexists')})
    overrides = {name: _mapped(getattr(os, name), pmap)
                 for name in ('makedirs', 'mkdir', 'remove', 'unlink',
                              'listdir', 'rmdir', 'stat', 'chmod')}
    overrides['path'] = path
    return _module_like(os, 'os', overrides)


def fake_shutil(pmap):
    return _module_like(shutil, 'shutil', {
        name: _mapped(getattr(shutil, name), pmap, nargs=2)
        for name in ('rmtree', 'copy', 'copyfile', 'copy2', 'move')})


def fake_tempfile(pmap):
    def mkdtemp(suffix=None, prefix=None, dir=None):
        if dir in ('/tmp', '/tmp/'):
            dir = pmap.tmp
        return tempfile.mkdtemp(suffix, prefix, dir)
    return _module_like(tempfile, 'tempfile', {'mkdtemp': mkdtemp})


def install(paths):
    import importlib

    pmap = PathMap(paths)
    os.makedirs(pmap.host_tmp, exist_ok=True)
    # The worker script guest_config_minidisks punches; its content runs
    # in the guest, which the fake z/VM does not execute.
    setup_disk = pmap('/var/lib/zvmsdk/setupDisk')
    with open(setup_disk, 'w') as f:
        f.write('#!/bin/bash\n# nova-zvm lab stand-in for zvmsdk setupDisk\n')
    for modname in ('zvmsdk.utils', 'zvmsdk.smtclient', 'smtLayer.changeVM'):
        mod = importlib.import_module(modname)
        mod.os = fake_os(pmap)
        if hasattr(mod, 'shutil'):
            mod.shutil = fake_shutil(pmap)
        if hasattr(mod, 'tempfile'):
            mod.tempfile = fake_tempfile(pmap)
    importlib.import_module('zvmsdk.utils').open = _mapped(builtins.open,
                                                           pmap)
    return pmap
