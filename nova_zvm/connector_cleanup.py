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

"""nova-zvm-connector-cleanup: remove old uploads from the connector host.

The z/VM Cloud Connector keeps every file uploaded with ``file_import``
(config drives with admin passwords and user data, image uploads, snapshot
export files) under ``<[file] file_repository>/imported`` and has no call
to delete one. Run this on the connector host, e.g. hourly from cron or a
systemd timer, as the user the connector runs as::

    nova-zvm-connector-cleanup --min-age 7200

It removes the regular files in ``imported`` and ``exported`` not modified
for ``--min-age`` seconds and nothing else. The age must exceed the
longest image import or snapshot export (nova-zvm's ``[zvm]
long_read_timeout``, 3600 s by default): an upload is needed until the
connector has imported it.

Standard library only: copy this file to a connector host without nova and
run it with ``python3``.
"""

import argparse
import configparser
import os
import sys
import time

DEFAULT_CONFIG = '/etc/zvmsdk/zvmsdk.conf'
DEFAULT_REPOSITORY = '/var/lib/zvmsdk/files'
# The connector's subdirectories of uploads and exports.
SUBDIRS = ('imported', 'exported')


def file_repository(config_file):
    """The connector's ``[file] file_repository``, or its default."""
    parser = configparser.ConfigParser(interpolation=None)
    if config_file and os.path.exists(config_file):
        parser.read(config_file)
    return parser.get('file', 'file_repository', fallback=DEFAULT_REPOSITORY)


def old_files(repository, min_age, now=None):
    """Paths of the uploads and exports older than ``min_age`` seconds."""
    now = time.time() if now is None else now
    found = []
    for sub in SUBDIRS:
        root = os.path.join(repository, sub)
        try:
            entries = list(os.scandir(root))
        except FileNotFoundError:
            continue
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime
            except FileNotFoundError:
                continue
            if now - mtime >= min_age:
                found.append(entry.path)
    return sorted(found)


def cleanup(repository, min_age, dry_run=False, out=None):
    """Remove old files; returns how many were (or would be) removed."""
    out = out or sys.stdout
    removed = 0
    for path in old_files(repository, min_age):
        if not dry_run:
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
        removed += 1
        print('%s %s' % ('would remove' if dry_run else 'removed', path),
              file=out)
    return removed


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='nova-zvm-connector-cleanup',
        description='Remove files uploaded to (or exported by) the z/VM '
                    'Cloud Connector that are older than --min-age.')
    parser.add_argument('--config-file', default=DEFAULT_CONFIG,
                        help='the connector\'s zvmsdk.conf, for its [file] '
                             'file_repository (default: %(default)s)')
    parser.add_argument('--file-repository',
                        help='the connector\'s file repository (default: '
                             'from --config-file, else %s)'
                             % DEFAULT_REPOSITORY)
    parser.add_argument('--min-age', type=int, default=7200,
                        help='seconds since a file was last written '
                             '(default: %(default)s; keep it above the '
                             'longest image import)')
    parser.add_argument('--dry-run', action='store_true',
                        help='list what would be removed')
    args = parser.parse_args(argv)
    if args.min_age < 0:
        parser.error('--min-age must not be negative')
    repository = args.file_repository or file_repository(args.config_file)
    if not os.path.isdir(repository):
        print('no file repository at %s' % repository, file=sys.stderr)
        return 1
    count = cleanup(repository, args.min_age, dry_run=args.dry_run)
    print('%d file(s) %s' % (count, 'to remove' if args.dry_run
                             else 'removed'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
