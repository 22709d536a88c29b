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

"""The soak: many servers driven at random while z/VM and nova misbehave.

``python -m nova_zvm.tests.soak --minutes M --operations N --seed S``
(``tox -e soak -- ...``) runs real nova services with nova-zvm on the lab,
drives servers through nova's API at random from a seeded schedule while a
fault schedule runs, then checks that nothing was lost and nothing left
behind (doc/source/reliability.rst).

As in the functional tests, nova's concurrency mode is fixed before
anything else is imported.
"""

from nova import monkey_patch

monkey_patch.patch()
