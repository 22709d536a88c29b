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

"""Functional tests: real nova services drive ZVMDriver on the lab.

Nova's concurrency mode (eventlet or native threads, chosen by
``OS_NOVA_DISABLE_EVENTLET_PATCHING``) must be fixed before anything else is
imported: eventlet has to patch the standard library before ``requests`` and
``urllib3`` load, and in threading mode nova forbids importing eventlet at
all. So this runs first, as in nova's own functional test package.
"""

from nova import monkey_patch

monkey_patch.patch()
