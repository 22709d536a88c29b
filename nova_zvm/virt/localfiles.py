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

"""Files nova-zvm keeps on the compute host (image files, snapshots)."""

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
