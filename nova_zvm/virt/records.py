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

"""What the driver remembers about guests across nova-compute restarts.

One small file per guest (named by its userid) in a private directory
``<instances_path>/nova-zvm/<kind>``: which instance owns a guest, which
guests this driver paused. Files, not memory, since z/VM (through the
connector) keeps neither fact.
"""

import os
import threading

from oslo_utils import fileutils

from nova_zvm import conf

CONF = conf.CONF


class UseridRecords(object):
    """A text per userid, written atomically and readable by nova only."""

    def __init__(self, kind, path=None):
        self._kind = kind
        self._path = path
        self._lock = threading.Lock()

    @property
    def path(self):
        return self._path or os.path.join(CONF.instances_path, 'nova-zvm',
                                          self._kind)

    def _file(self, userid):
        return os.path.join(self.path, userid.upper())

    def read(self, userid):
        """The text kept for ``userid``, or None when there is none."""
        try:
            with open(self._file(userid)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def write(self, userid, text=''):
        with self._lock:
            fileutils.ensure_tree(self.path, mode=0o700)
            tmp = self._file(userid) + '.tmp'
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(text + '\n')
            os.replace(tmp, self._file(userid))

    def remove(self, userid, only_if=None):
        """Forget ``userid`` (only while its text is ``only_if``, if given)."""
        with self._lock:
            if only_if is not None and self.read(userid) not in (None,
                                                                 only_if):
                return
            fileutils.delete_if_exists(self._file(userid))

    def __contains__(self, userid):
        return os.path.exists(self._file(userid))

    def userids(self):
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return [name for name in names if not name.endswith('.tmp')]
