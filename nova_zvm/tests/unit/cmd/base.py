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

"""Running ``nova-zvm-status`` on a nova.conf, against the lab."""

import configparser
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import fixtures
from testtools import content

from nova_zvm.cmd import status
from nova_zvm.lab import fixture as lab_fixture
from nova_zvm.tests.unit import base as unit_base

SUCCESS, WARNING, FAILURE = 0, 1, 2


class Outcome(object):
    """Exit code and results of one run of the command."""

    def __init__(self, code, text):
        self.code = code
        self.text = text
        self.results = {}
        if text.lstrip().startswith('{'):
            for check in json.loads(text)['checks']:
                self.results[check['check']] = (check['result'],
                                                check['details'] or '')

    def result(self, check):
        if check not in self.results:
            raise AssertionError('no result for %r (exit code %s):\n%s'
                                 % (check, self.code, self.text))
        return self.results[check][0]

    def details(self, check):
        return self.results[check][1]

    def not_successful(self):
        return {name: result for name, (result, _) in self.results.items()
                if result != SUCCESS}


class StatusTestMixin(object):
    """Writes nova.conf files and runs the command on them."""

    def make_workdir(self):
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.images = os.path.join(self.tmp, 'images')

    def copy_token(self, mode=0o600):
        path = os.path.join(self.tmp, 'token-%o' % mode)
        shutil.copyfile(self.lab.token_file, path)
        os.chmod(path, mode)
        return path

    def lab_options(self):
        """A nova.conf for the class's lab that passes every check."""
        zvm = {'cloud_connector_url': self.lab.url,
               'image_tmp_path': self.images,
               'vswitch_mappings': 'physnet1:VSW1',
               'disk_pool': 'ECKD:POOL1'}
        if self.lab.token_file:
            zvm['token_file'] = self.copy_token()
        if self.lab.ca_file:
            zvm['ca_file'] = self.lab.ca_file
        return {'DEFAULT': {'compute_driver': 'nova_zvm.ZVMDriver',
                            'instance_name_template': 'z%07x',
                            'force_config_drive': 'True'},
                'zvm': zvm}

    def write_conf(self, changes=None, drop=()):
        """nova.conf: the lab's options with ``changes``, without ``drop``.

        ``drop`` lists ``(section, option)`` pairs.
        """
        sections = self.lab_options()
        for section, values in (changes or {}).items():
            sections.setdefault(section, {}).update(values)
        for section, option in drop:
            sections[section].pop(option, None)
        parser = configparser.RawConfigParser()
        parser.optionxform = str
        for section, values in sections.items():
            if section != 'DEFAULT':
                parser.add_section(section)
            for option, value in values.items():
                parser.set(section, option, value)
        path = os.path.join(self.tmp, 'nova.conf')
        with open(path, 'w') as conf_file:
            parser.write(conf_file)
        return path

    def check(self, changes=None, drop=(), output='json'):
        """Run the command in this process; an Outcome."""
        path = self.write_conf(changes, drop)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = status.run(['--config-file', path, 'check',
                               '--format', output])
        return Outcome(code, out.getvalue())

    def check_in_subprocess(self, changes=None, drop=(), output='json',
                            console_script=False):
        """Run the command as a process (a clean interpreter)."""
        path = self.write_conf(changes, drop)
        if console_script:
            cmd = [os.path.join(os.path.dirname(sys.executable),
                                'nova-zvm-status')]
        else:
            cmd = [sys.executable, '-m', 'nova_zvm.cmd.status']
        env = {k: v for k, v in os.environ.items()
               if k not in lab_fixture.PROXY_VARIABLES}
        proc = subprocess.run(
            cmd + ['--config-file', path, 'check', '--format', output],
            capture_output=True, text=True, env=env, timeout=120)
        self.addDetail('stderr', content.text_content(
            proc.stderr))
        return Outcome(proc.returncode, proc.stdout)


class LabStatusTestCase(StatusTestMixin, unit_base.ClassLabTestCase):

    def setUp(self):
        super().setUp()
        self.make_workdir()
