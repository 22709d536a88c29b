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

"""``nova-zvm-status check``: is this compute node ready for nova-zvm?

Reads nova.conf like nova's own commands (``--config-file``,
``--config-dir``), runs the checks of :mod:`nova_zvm.preflight` against the
options and the live Cloud Connector (read-only calls, short timeouts), and
prints one result per check, as a table or as JSON. The exit code is
oslo.upgradecheck's: 0 success, 1 warning, 2 failure (255: the command
itself failed).

``nova-zvm-status upgrade check [--json]`` is the same, in the form of
``nova-status upgrade check``.
"""

import argparse
import logging
import sys

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck

from nova_zvm import conf
from nova_zvm import preflight
from nova_zvm.preflight import connector
from nova_zvm.preflight import options

CONF = conf.CONF
PROJECT = 'nova'


def _guarded(name, method):
    """A check that fails, rather than stopping the others, on a bug."""
    def run(self):
        try:
            return method(self)
        except Exception as err:
            return preflight.failure('the %s check could not run: %s: %s'
                                     % (name, type(err).__name__, err))
    return name, run


class StatusCommands(upgradecheck.UpgradeCommands):
    """The checks, in the order an operator fixes things."""

    display_title = 'nova-zvm status check'

    def __init__(self, conf=CONF):
        super().__init__()
        self.probe = connector.Probe(conf)

    def _nova_options(self):
        return options.nova_options()

    def _connector_url(self):
        return options.url()

    def _consistency(self):
        return options.consistency()

    def _name_template(self):
        return connector.name_template(self.probe)

    def _image_tmp_path(self):
        return connector.image_tmp_path(self.probe)

    def _connection(self):
        return connector.connection(self.probe)

    def _token(self):
        return connector.token(self.probe)

    def _disk_pool(self):
        return connector.disk_pool(self.probe)

    def _vswitches(self):
        return connector.vswitches(self.probe)

    def _ssi(self):
        return connector.ssi(self.probe)

    def _fcp_templates(self):
        return connector.fcp_templates(self.probe)

    def _monitor_cache(self):
        return connector.monitor_cache(self.probe)

    _upgrade_checks = tuple(_guarded(name, method) for name, method in (
        ('Compute driver', _nova_options),
        ('Connector URL', _connector_url),
        ('Option consistency', _consistency),
        ('Instance names', _name_template),
        ('Image path', _image_tmp_path),
        ('Cloud Connector', _connection),
        ('Token', _token),
        ('Disk pool', _disk_pool),
        ('Vswitches', _vswitches),
        ('SSI', _ssi),
        ('FCP templates', _fcp_templates),
        ('Monitor cache', _monitor_cache),
    ))

    def check(self):
        try:
            return super().check()
        finally:
            self.probe.close()


class _Format(argparse.Action):
    """``--format json`` is oslo.upgradecheck's ``--json``."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.json = values == 'json'


def _add_parsers(subparsers):
    check = subparsers.add_parser(
        'check', help='check this compute node\'s nova-zvm configuration '
                      'and its Cloud Connector')
    check.add_argument('--format', choices=('table', 'json'),
                       default='table', action=_Format,
                       help='table (for people, the default) or json')
    check.set_defaults(json=False, action_fn=_run_checks)
    upgrade = subparsers.add_parser(
        'upgrade', help='the same, as "upgrade check" (nova-status style)')
    upgrade.add_argument('check', choices=('check',))
    upgrade.add_argument('--json', action='store_true',
                         help='print the results as JSON')
    upgrade.set_defaults(action_fn=_run_checks)


COMMAND_OPT = cfg.SubCommandOpt('command', handler=_add_parsers,
                                title='commands')


def _run_checks():
    return StatusCommands().check()


def run(argv):
    """Parse ``argv`` into nova's CONF, run the command, return its code.

    CONF is left as it was found (unparsed, without the command's option),
    so the command can run inside a test process too.
    """
    # A CLI option can only be added to an unparsed CONF.
    CONF.clear()
    CONF.register_cli_opt(COMMAND_OPT)
    try:
        CONF(args=argv, project=PROJECT)
        # oslo.upgradecheck reads the --json choice from its module's CONF.
        upgradecheck.CONF = CONF
        return upgradecheck.run(CONF)
    finally:
        upgradecheck.CONF = None
        CONF.clear()
        CONF.unregister_opt(COMMAND_OPT)


def main():
    # The checks report what they find; library warnings on stderr would
    # say it twice.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    return run(sys.argv[1:])


if __name__ == '__main__':
    sys.exit(main())
