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


"""The ``smcli`` protocol: operands in, an RC header and a body out.

``smcli <function> --addRCheader <operands>`` prints a header line
``"<overallRC> <rc> <rs> (details) <text>"`` and the response body; on
failure it exits non-zero and smtLayer parses that header, so an error
(real or injected) travels through smtLayer's and zvmsdk's own error
paths.
"""

from nova_zvm.lab import zvm as fake_zvm


class SMAPIError(fake_zvm.CommandFailed):
    def __init__(self, rc, rs, text=''):
        super().__init__(8, '8 %d %d (details) %s\n%s\n' % (rc, rs, text,
                                                            text))


def parse_operands(args):
    """smcli operands as {flag: [values]}; '-f IMMED' may be one token."""
    tokens = []
    for a in args:
        if a.startswith('-') and ' ' in a:
            flag, _, value = a.partition(' ')
            tokens.extend([flag, value])
        else:
            tokens.append(a)
    ops = {}
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.startswith('-') and len(t) == 2:
            value = tokens[i + 1] if i + 1 < len(tokens) else ''
            ops.setdefault(t, []).append(value)
            i += 2
        else:
            ops.setdefault('', []).append(t)
            i += 1
    return ops


def one(ops, flag, default=None):
    return ops.get(flag, [default])[0]


def last(ops, flag, default=None):
    # "SMAPI <target> API <fn> --operands -T x": smtLayer passes its own
    # -T <target> first, the caller's operands after it.
    return ops.get(flag, [default])[-1]


def keywords(ops):
    """-k KEY=VALUE operands as a dict (keys upper-cased)."""
    kw = {}
    for item in ops.get('-k', []):
        key, _, value = item.partition('=')
        kw[key.strip().upper()] = value.strip()
    return kw


def memory_mb(text):
    text = text.strip().upper()
    num, unit = float(text[:-1]), text[-1]
    return int(num * {'K': 1.0 / 1024, 'M': 1, 'G': 1024, 'T': 1024 * 1024}[
        unit])


def mem_text(mb):
    return '%dG' % (mb // 1024) if mb % 1024 == 0 and mb else '%dM' % mb
