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

"""Every option the operator-facing text names exists and is read.

The README, the docs, the devstack plugin and the release notes name
options as literals ````[section] option```` (also ````[section] a````,
````b```` and ````c````), as
``option = value`` lines under a ``[section]`` header, or through the
plugin's ``iniset``. A ``[zvm]`` option must be registered and read by the
driver's code; an option of another section nova registers must be one of
nova's. Options of the Cloud Connector's own ``zvmsdk.conf`` are told
apart by the word ``zvmsdk`` near them, "connector" just before them, or a
``# zvmsdk.conf`` comment in an ini block; sections nova does not have are
the connector's.
"""

import glob
import os
import re

from oslo_config import cfg
import testtools

from nova_zvm import conf

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                    '..', '..', '..'))
CODE = os.path.join(REPO, 'nova_zvm')

# Options another branch implements; the lead drops an entry once it has
# merged. Listed options may be read or not.
PENDING = {}

_NAME = r'[a-z][a-z0-9_]*'
_INLINE = re.compile(
    r'``\[(?P<section>[A-Za-z_]+)\]\s+(?P<first>' + _NAME + r')\b'
    r'(?:``)?(?P<more>(?:,?\s+(?:and\s+|or\s+)?``' + _NAME + r'``)*)')
_MORE = re.compile(r'``(' + _NAME + r')``')
_HEADER = re.compile(r'^\s*\[([A-Za-z_]+)\]\s*$')
_SETTING = re.compile(r'^\s*(' + _NAME + r')\s*=')
_INISET = re.compile(r'(?:_zvm_iniset|iniset\s+\S+)\s+([A-Za-z_]+)\s+'
                     r'(' + _NAME + r')\b')
_CONNECTOR_NEAR = 80
_CONNECTOR_BEFORE = 40
_CONNECTOR = re.compile(r'\bconnector\b', re.IGNORECASE)


def operator_texts():
    """Paths of everything an operator reads or runs, relative to REPO."""
    patterns = ['README.rst', 'doc/source/**/*.rst', 'devstack/*',
                'releasenotes/notes/*.yaml']
    paths = set()
    for pattern in patterns:
        paths.update(glob.glob(os.path.join(REPO, pattern), recursive=True))
    return sorted(os.path.relpath(p, REPO) for p in paths
                  if os.path.isfile(p))


def _connector_near(text, start, end):
    """The text says this is the connector's option, not nova's."""
    near = text[max(0, start - _CONNECTOR_NEAR):end + _CONNECTOR_NEAR]
    before = text[max(0, start - _CONNECTOR_BEFORE):start]
    return 'zvmsdk' in near or bool(_CONNECTOR.search(before))


def named_options(text):
    """``{(section, option)}`` named in text, the connector's left out."""
    found = set()
    for match in _INLINE.finditer(text):
        if _connector_near(text, match.start(), match.end()):
            continue
        section = match.group('section')
        found.add((section, match.group('first')))
        for name in _MORE.findall(match.group('more')):
            found.add((section, name))
    for match in _INISET.finditer(text):
        found.add((match.group(1), match.group(2)))
    section, connector = None, False
    for line in text.splitlines():
        header = _HEADER.match(line)
        setting = _SETTING.match(line)
        if header:
            section = header.group(1)
        elif setting and section:
            if not connector:
                found.add((section, setting.group(1)))
        elif line.strip().startswith('#'):
            connector = connector or 'zvmsdk.conf' in line
        elif line.strip():
            # Prose: any ini block has ended.
            section, connector = None, False
    return found


def _code_reads():
    """The text of the driver's code that reads options (not conf.py)."""
    texts = []
    for path in glob.glob(os.path.join(CODE, '**', '*.py'), recursive=True):
        rel = os.path.relpath(path, CODE)
        if rel.split(os.sep)[0] in ('tests', 'lab', 'bench', 'demo') or \
                rel == 'conf.py':
            continue
        with open(path) as f:
            texts.append(f.read())
    return '\n'.join(texts)


def problems(options, code):
    """What is wrong with each named option, as sentences."""
    out = []
    for section, name in sorted(options):
        if section == 'DEFAULT':
            known = name in conf.CONF
        else:
            try:
                group = conf.CONF[section]
            except cfg.NoSuchOptError:
                # Not a section nova has: the connector's, or another
                # service's.
                continue
            known = name in group
        if not known:
            out.append('[%s] %s is no option nova or nova-zvm registers'
                       % (section, name))
        elif (section == 'zvm' and (section, name) not in PENDING and
              not re.search(r'\.' + name + r'\b', code)):
            out.append('[zvm] %s is registered but nova-zvm never reads it'
                       % name)
    return out


class TestParser(testtools.TestCase):
    """The reader finds options in every form the texts use."""

    def test_forms(self):
        text = '''
Set ``[zvm] disk_pool`` and ``[zvm] connect_timeout``, ``read_timeout``
and ``long_read_timeout``; devstack writes ``[DEFAULT]
force_config_drive``... see ``[image_cache] remove_unused_base_images``
but not the [zvm] options in prose.

.. code-block:: ini

    [zvm]
    # a comment
    token_file = /etc/nova/token
    cloud_connector_url = https://x

Prose with a = b is not an option.

    _zvm_iniset zvm vswitch_mappings "$ZVM_VSWITCH_MAPPINGS"
'''
        self.assertEqual({
            ('zvm', 'disk_pool'), ('zvm', 'connect_timeout'),
            ('zvm', 'read_timeout'), ('zvm', 'long_read_timeout'),
            ('image_cache', 'remove_unused_base_images'),
            ('zvm', 'token_file'), ('zvm', 'cloud_connector_url'),
            ('zvm', 'vswitch_mappings'),
        }, named_options(text) - {('DEFAULT', 'force_config_drive')})

    def test_connector_options_are_left_out(self):
        text = '''
Run it with ``[wsgi] auth = token`` in its ``zvmsdk.conf``, and the
Cloud Connector's own ``[zvm] user_profile``.

.. code-block:: ini

    # zvmsdk.conf on the connector's host
    [zvm]
    namelist = NOVALIST

Then a paragraph of its own, far enough from those above to be about
nova-compute's options, which reads ``[zvm] no_such_option``.
'''
        self.assertEqual({('zvm', 'no_such_option')}, named_options(text))

    def test_unknown_and_unread_options_are_reported(self):
        found = problems({('zvm', 'no_such_option'),
                          ('DEFAULT', 'no_such_default'),
                          ('zvm', 'insecure'), ('zvm', 'disk_pool'),
                          ('monitor', 'cache_interval')},
                         code='verify = not zvm.insecure')
        self.assertEqual([
            '[DEFAULT] no_such_default is no option nova or nova-zvm '
            'registers',
            '[zvm] disk_pool is registered but nova-zvm never reads it',
            '[zvm] no_such_option is no option nova or nova-zvm registers',
        ], found)


class TestOperatorTexts(testtools.TestCase):
    """The real README, docs, devstack plugin and release notes."""

    def test_texts_are_found(self):
        texts = operator_texts()
        for expected in ('README.rst', 'devstack/plugin.sh',
                         'doc/source/install/index.rst'):
            self.assertIn(expected, texts)
        self.assertTrue(any(t.startswith('releasenotes/notes/')
                            for t in texts))

    def test_every_named_option_exists_and_is_read(self):
        code = _code_reads()
        found = []
        for path in operator_texts():
            with open(os.path.join(REPO, path)) as f:
                options = named_options(f.read())
            found.extend('%s: %s' % (path, problem)
                         for problem in problems(options, code))
        self.assertEqual([], found)

    def test_the_texts_name_the_driver_options(self):
        # The reader must see the options the install guide is built on,
        # or the check above proves nothing.
        named = set()
        for path in operator_texts():
            with open(os.path.join(REPO, path)) as f:
                named |= named_options(f.read())
        for option in ('cloud_connector_url', 'token_file', 'ca_file',
                       'vswitch_mappings', 'disk_pool', 'insecure'):
            self.assertIn(('zvm', option), named)
