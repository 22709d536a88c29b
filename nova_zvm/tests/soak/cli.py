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

"""``python -m nova_zvm.tests.soak``: run the soak once, print its report."""

import argparse
import faulthandler
import os
import signal
import sys
import time
import unittest

TEST = 'nova_zvm.tests.soak.runner.SoakTest.test_soak'


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m nova_zvm.tests.soak',
        description='Drive servers at random through nova with nova-zvm on '
                    'the lab while faults happen; then check that nothing '
                    'was lost or left behind.')
    parser.add_argument('--minutes', type=float, default=2.0,
                        help='stop issuing operations after this long '
                             '(default 2)')
    parser.add_argument('--operations', type=int, default=0,
                        help='stop after this many operations (default 0: '
                             'no limit but --minutes)')
    seed = os.environ.get('NOVA_ZVM_SOAK_SEED')
    parser.add_argument('--seed', type=int,
                        default=int(seed) if seed else None,
                        help='the seed of the schedule (default: '
                             '$NOVA_ZVM_SOAK_SEED, else random; printed)')
    parser.add_argument('--slots', type=int, default=6,
                        help='how many servers the soak keeps (default 6)')
    parser.add_argument('--no-volumes', dest='volumes',
                        action='store_false',
                        help='leave out the FCP volume attaches and '
                             'detaches (in the mix by default)')
    parser.add_argument('--no-moves', dest='moves', action='store_false',
                        help='leave out the live and cold migrations and '
                             'the resizes between the SSI members (in the '
                             'mix by default)')
    parser.add_argument('--log-file', default=None,
                        help='also write the operation log here')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # A run that seems stuck: `kill -USR1 <pid>` prints every thread's
    # stack to stderr.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    from nova_zvm.tests.soak import runner
    seed = args.seed
    if seed is None:
        seed = int.from_bytes(os.urandom(4), 'big')
    os.environ[runner.ENV_SEED] = str(seed)
    os.environ[runner.ENV_MINUTES] = str(args.minutes)
    os.environ[runner.ENV_OPERATIONS] = str(args.operations)
    os.environ[runner.ENV_SLOTS] = str(args.slots)
    os.environ[runner.ENV_VOLUMES] = '1' if args.volumes else '0'
    os.environ[runner.ENV_MOVES] = '1' if args.moves else '0'
    # Nova's logs go with a failed test's details, not to the terminal.
    os.environ.setdefault('OS_STDOUT_CAPTURE', '1')
    os.environ.setdefault('OS_STDERR_CAPTURE', '1')
    # Nova's test timeout must outlast the run, its settling and checks.
    os.environ['OS_TEST_TIMEOUT'] = str(int(
        args.minutes * 60 + runner.WAIT_TIMEOUT * 3 + 300))
    print('soak: seed %d, %g minutes, %s operations, %d slots%s%s' % (
        seed, args.minutes, args.operations or 'unlimited', args.slots,
        '' if args.volumes else ', no volumes',
        '' if args.moves else ', no moves'),
        flush=True)
    started = time.monotonic()
    suite = unittest.defaultTestLoader.loadTestsFromName(TEST)
    result = unittest.TestResult()
    suite.run(result)
    elapsed = time.monotonic() - started
    report = runner.last_report
    if report:
        print(report['text'])
        if args.log_file:
            with open(args.log_file, 'w') as f:
                f.write(report['log'] + '\n')
            with open(args.log_file + '.services', 'w') as f:
                f.write(report.get('service_log') or '')
            print('operation log: %s; services\' log: %s.services' % (
                args.log_file, args.log_file))
    for _test, trace in result.errors + result.failures:
        if not report:
            # Broke before the soak ran (set-up): say where.
            print(trace[-6000:])
    ok = result.wasSuccessful() and report.get('passed')
    print('soak %s in %.0f s (seed %d)' % ('passed' if ok else 'FAILED',
                                           elapsed, seed), flush=True)
    return 0 if ok else 1
