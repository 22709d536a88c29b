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

"""``python -m nova_zvm.demo``: a user's first hour with nova on z/VM.

Starts the lab and an all-in-one nova using ``nova_zvm.ZVMDriver``, then,
through nova's REST API as a user would: creates an image, boots three
servers, lists them with their z/VM userids, reboots one, snapshots one,
boots from the snapshot, attaches a volume, shows the z/VM user directory
and deletes everything. Then, on a two-member SSI cluster with one
nova-compute per member, it live-migrates a running server from one member
to the other and shows that it still answers there. Exits 1 if any step
fails.
"""

import sys

from nova_zvm.demo import cloud
from nova_zvm.demo import progress as demo_progress
from nova_zvm.demo import scenario


def main():
    # Keep the real stdout: nova's test machinery may capture sys.stdout.
    progress = demo_progress.Progress(sys.__stdout__)
    progress.line('nova-zvm demo: nova %s, compute_driver = '
                  'nova_zvm.ZVMDriver, the lab as z/VM' %
                  scenario.nova_version())
    progress.line()
    progress.line('Part 1: an all-in-one nova on one z/VM')
    progress.line()
    errors = cloud.run(progress, scenario.run)
    progress.line()
    progress.line('Part 2: live migration between the members of an SSI '
                  'cluster')
    progress.line()
    errors += cloud.run(progress, scenario.run_live_migration,
                        cloud.SSICloud)
    if errors:
        progress.line()
        progress.line('The demo FAILED:')
        for what, text in errors:
            progress.line(scenario.tail(text))
        return 1
    progress.line()
    progress.line('The demo passed in %.1fs.' % progress.elapsed())
    return 0


if __name__ == '__main__':
    sys.exit(main())
