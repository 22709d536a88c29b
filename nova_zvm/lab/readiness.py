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

"""Server processes that say on stdout when they are ready: wait, stop."""

import os
import select
import signal
import subprocess
import time


def ready_line(process, prefix, timeout):
    """The rest of the first stdout line of ``process`` starting with prefix.

    :returns: that text, or None when the process exits (or closes its
        stdout) or ``timeout`` seconds pass first
    """
    deadline = time.monotonic() + timeout
    out = process.stdout
    buf = b''
    while time.monotonic() < deadline:
        ready, _, _ = select.select([out], [], [], 0.2)
        if ready:
            chunk = os.read(out.fileno(), 65536)
            if not chunk:
                return None
            buf += chunk
            for line in buf.decode(errors='replace').splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):]
        elif process.poll() is not None:
            return None
    return None


def stop(process, timeout=10):
    """SIGTERM, then SIGKILL after ``timeout`` seconds; close its stdout."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)
    process.stdout.close()
