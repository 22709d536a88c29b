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

"""Files nova-zvm keeps on the compute host (image files, snapshots).

They hold guests' data (root disks, config drives with admin passwords):
directories are made 0700 and files 0600, whatever the umask, as libvirt
does for the same job.
"""

import os

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def remove(path):
    """Remove a file, best effort; True if this call removed it.

    A file already gone is fine; any other failure is logged, not raised:
    a leftover file must not fail the operation that made it.
    """
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as err:
        LOG.warning('Could not remove %(path)s: %(err)s',
                    {'path': path, 'err': err})
        return False
    return True


def private_dir(path):
    """Make ``path`` (and missing parents) a directory only we can read."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path):
    """Create (or truncate) ``path`` as an empty file only we can read.

    Writers that open it afterwards with ``'wb'`` keep its mode.
    """
    private_dir(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    return path
