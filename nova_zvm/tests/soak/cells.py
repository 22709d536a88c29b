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

"""A cell lock for nova's CellDatabases fixture that cannot deadlock.

Nova's fixture guards its switch between cell databases with a
writer-preferring reader/writer lock, and its DatabaseWriteLock fixture
serializes writes per sqlite database. On native threads, with builds,
the conductor's quota recheck, the scheduler and API reads all at once,
they deadlock: a thread holding the cell read lock waits for the database
write lock; its holder asks for a read lock, refused because a writer
(switching to cell0) waits; the writer waits for the first reader. The
soak met it about once in ten short runs (all threads parked in
fasteners' lock). Letting readers in while a writer waits breaks the
cycle; a writer still waits until no reader is left.
"""

import collections
import contextlib
import threading


class ReaderPreferringLock(object):
    """A reader/writer lock with the interface the fixture uses."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = collections.Counter()
        self._writer = None
        self._depth = 0
        self._upgrader = None

    @contextlib.contextmanager
    def read_lock(self):
        me = threading.current_thread()
        with self._cond:
            while self._writer not in (None, me):
                self._cond.wait()
            self._readers[me] += 1
        try:
            yield self
        finally:
            with self._cond:
                self._readers[me] -= 1
                if not self._readers[me]:
                    del self._readers[me]
                self._cond.notify_all()

    @contextlib.contextmanager
    def write_lock(self):
        me = threading.current_thread()
        with self._cond:
            # A reader that targets another cell (nova's code recursing in
            # one thread, e.g. a cast run as a call inside an API request)
            # may switch once the other readers are gone: its own outer
            # section waits for it and the fixture switches back after.
            # Two such readers would wait for each other: the second fails.
            upgrading = me in self._readers
            if upgrading:
                if self._upgrader not in (None, me):
                    raise RuntimeError('reader %s cannot become a writer '
                                       'while %s does' % (me, self._upgrader))
                self._upgrader = me
            try:
                while (self._writer not in (None, me) or
                       any(r is not me for r in self._readers)):
                    self._cond.wait()
            finally:
                if upgrading:
                    self._upgrader = None
            self._writer = me
            self._depth += 1
        try:
            yield self
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
                self._cond.notify_all()
