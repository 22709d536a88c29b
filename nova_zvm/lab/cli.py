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


"""``nova-zvm-lab``: the lab in the foreground, for developers and devstack."""

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading

LOG = logging.getLogger('nova_zvm.lab')

PROFILE_DIR = os.path.join(os.path.dirname(__file__), 'profiles')


def _read_profile(name):
    path = name
    if not os.path.exists(path):
        path = os.path.join(PROFILE_DIR, '%s.json' % name)
    with open(path) as f:
        return json.load(f)


def load_profile(name):
    """A latency profile: a path to a JSON file, or a bundled name."""
    if not name:
        return None
    profile = _read_profile(name)
    return profile.get('latency', profile)


def load_settings(name):
    """The lab settings a profile carries (e.g. dirmaint_serial), or {}."""
    if not name:
        return {}
    return _read_profile(name).get('settings', {})


def _member_profile(value):
    """``NAME=P`` (--member-latency): the member and its loaded profile."""
    name, sep, profile = value.partition('=')
    if not (sep and name and profile):
        raise argparse.ArgumentTypeError(
            'expected NAME=PROFILE (e.g. ZVMLAB02=zvm), got %r' % value)
    try:
        return name.upper(), load_profile(profile)
    except (OSError, ValueError) as e:
        raise argparse.ArgumentTypeError(
            'latency profile %s: %s' % (profile, e))


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='nova-zvm-lab',
        description='Run the real z/VM Cloud Connector (zvmsdk 1.6.3) on '
                    'a fake z/VM, on this host only.')
    p.add_argument('--host', default='127.0.0.1',
                   help='address to listen on (default 127.0.0.1)')
    p.add_argument('--port', type=int, default=0,
                   help='port to listen on (default: a free port)')
    p.add_argument('--auth', choices=('token', 'none'), default='token',
                   help='Cloud Connector auth mode (default token)')
    p.add_argument('--tls', action='store_true',
                   help='serve HTTPS with a generated self-signed '
                        'certificate')
    p.add_argument('--latency-profile', metavar='P',
                   help="latency profile: a JSON file or a bundled name "
                        "('zvm')")
    p.add_argument('--member-latency', action='append', default=[],
                   type=_member_profile, metavar='NAME=P',
                   help="latency profile P for the commands of member NAME "
                        "only (e.g. ZVMLAB02=zvm), looked up before "
                        "--latency-profile's; repeatable")
    p.add_argument('--state-dir', metavar='D',
                   help='directory for all lab state (default: a new temp '
                        'dir, removed at exit)')
    p.add_argument('--disk-pool', action='append', metavar='TYPE:NAME',
                   help='disk pool, ECKD:NAME or FBA:NAME, optionally '
                        ':COUNTxSIZE (volumes, and cylinders or blocks per '
                        'volume; default 16 volumes of a 3390-54); '
                        'repeatable; the first is zvmsdk\'s default '
                        '(default ECKD:POOL1)')
    p.add_argument('--vswitch', action='append', metavar='NAME',
                   help='extra vswitch besides VSW1; repeatable')
    p.add_argument('--user-profile', default='OSDFLT')
    p.add_argument('--log-level', default='WARNING',
                   help='log level on stderr (default WARNING); zvmsdk also '
                        'logs to <state dir>/log/zvmsdk.log')
    p.add_argument('--members', type=int, default=1, metavar='N',
                   help='SSI cluster of N members sharing one directory, '
                        'each with its own Cloud Connector (default 1: '
                        'a single system)')
    # A member process of an SSI lab (started by the lab itself).
    p.add_argument('--member-of', metavar='URL', help=argparse.SUPPRESS)
    p.add_argument('--member-name', metavar='NAME', help=argparse.SUPPRESS)
    p.add_argument('--exit-with-parent', action='store_true',
                   help='stop when the process that started the lab exits '
                        '(used by the test fixture)')
    p.add_argument('--ready-json', action='store_true',
                   help='print one machine-readable ready line (used by '
                        'the test fixture)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    level = getattr(logging, args.log_level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    # smtLayer's and zvmsdk's loggers set their own levels (DEBUG):
    # filter at the handler so --log-level holds for them too.
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(
        '%(asctime)s %(levelname)s %(name)s %(message)s'))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(level)
    own_dir = args.state_dir is None
    state_dir = args.state_dir or tempfile.mkdtemp(prefix='nova-zvm-lab-')
    os.makedirs(state_dir, exist_ok=True)

    from nova_zvm.lab import server

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lab = server.Lab(state_dir, host=args.host, port=args.port,
                     auth=args.auth, tls=args.tls,
                     latency=load_profile(args.latency_profile),
                     settings=load_settings(args.latency_profile),
                     disk_pools=args.disk_pool, vswitches=args.vswitch,
                     user_profile=args.user_profile,
                     log_level=args.log_level, members=args.members,
                     member_of=args.member_of, member_name=args.member_name)
    try:
        lab.start()
        from nova_zvm.lab import member
        for name, profile in args.member_latency:
            try:
                name = member.member_name(lab, name)
            except KeyError as e:
                print('nova-zvm-lab: --member-latency: %s' % e.args[0],
                      file=sys.stderr)
                return 2
            lab.zvm.set_latency(profile, member=name)
        if args.ready_json:
            print(lab.ready_line(), flush=True)
        elif lab.cluster is not None:
            print('nova-zvm lab: SSI cluster of %d members' % args.members)
            for m in lab.ssi_info()['members']:
                print('member %s: Cloud Connector at %s' % (m['name'],
                                                            m['url']))
                if m['token_file']:
                    print('  admin token file: %s' % m['token_file'])
                if m['ca_file']:
                    print('  CA file: %s' % m['ca_file'])
            print('state dir: %s (Ctrl-C to stop)' % state_dir)
            print('control API: %s/_lab/ (state, members, calls, faults, '
                  'latency; one member\'s: members/<name>/faults, latency, '
                  'calls, fcps)' % lab.info()['control_url'], flush=True)
        else:
            print('nova-zvm lab: Cloud Connector at %s' % lab.url)
            if lab.token_file:
                print('admin token file: %s' % lab.token_file)
            if lab.cert_file:
                print('CA file: %s' % lab.cert_file)
            print('state dir: %s (Ctrl-C to stop)' % state_dir)
            print('control API: %s/_lab/ (state, calls, faults, latency)'
                  % lab.info()['control_url'], flush=True)
        parent = os.getppid()
        while not stop.wait(0.5):
            if args.exit_with_parent and os.getppid() != parent:
                # The test process died without stopping us: nobody is
                # left to remove the state dir either.
                own_dir = True
                break
    finally:
        lab.stop()
        if own_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
    return 0
