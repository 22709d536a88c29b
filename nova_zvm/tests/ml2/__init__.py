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

"""Tests of the ML2 mechanism driver, in neutron's own ML2 test base.

Not under ``tests/unit``: nova and neutron cannot share a test process.
Nova's unit tests select oslo.service's eventlet backend, neutron's test
package insists on the threading one, and nova's threading mode forbids
importing eventlet, which neutron's API still imports. ``tox -e py3`` runs
these in their own ``stestr --test-path=./nova_zvm/tests/ml2`` run.
"""
