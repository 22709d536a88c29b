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

"""Step-by-step progress lines with timings, for people to read."""

import contextlib
import time


class Progress(object):
    """Prints ``[ elapsed] title ... ok (duration)`` and indented details.

    Writes to a stream given up front: nova's test machinery may capture
    ``sys.stdout`` while the cloud runs.
    """

    def __init__(self, stream):
        self.stream = stream
        self.started = time.monotonic()
        self._step_started = None

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def begin(self, title):
        self._step_started = time.monotonic()
        self._write('[%6.1fs] %s ... ' % (
            self._step_started - self.started, title))

    def end(self, details=(), ok='ok'):
        took = time.monotonic() - self._step_started
        self._write('%s (%.1fs)\n' % (ok, took))
        for line in details:
            self._write('           %s\n' % line)

    def fail(self, error):
        self._write('FAILED\n           %s\n' % error)

    @contextlib.contextmanager
    def step(self, title):
        """A step; the body appends detail lines to the yielded list."""
        self.begin(title)
        details = []
        try:
            yield details
        except BaseException as err:
            self.fail(err)
            raise
        self.end(details)

    def elapsed(self):
        return time.monotonic() - self.started

    def line(self, text=''):
        self._write(text + '\n')
