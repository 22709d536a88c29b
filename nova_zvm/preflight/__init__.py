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

"""The checks of a nova-zvm compute node, shared by two callers.

* The driver's start-up (``nova_zvm.virt.startup``) runs the option checks
  of :data:`options.STARTUP_CHECKS`: a Failure stops nova-compute, a
  Warning is logged.
* ``nova-zvm-status check`` (``nova_zvm.cmd.status``) runs all of them, and
  the checks of the live Cloud Connector in :mod:`.connector`.

Every check returns an ``oslo_upgradecheck`` ``Result``: a ``Code``
(SUCCESS, WARNING, FAILURE) and a sentence that says what was found and,
for a warning or a failure, which option to set and how.
"""

from oslo_upgradecheck import upgradecheck

Code = upgradecheck.Code
Result = upgradecheck.Result


def success(details):
    return Result(Code.SUCCESS, details)


def warning(details):
    return Result(Code.WARNING, details)


def failure(details):
    return Result(Code.FAILURE, details)


def worst(results):
    """One result from several: the worst code, the details joined."""
    results = list(results)
    code = max((r.code for r in results), default=Code.SUCCESS)
    return Result(code, '; '.join(r.details for r in results if r.details))
