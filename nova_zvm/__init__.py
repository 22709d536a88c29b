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

"""nova-zvm: an OpenStack Nova compute driver for IBM z/VM.

Nova loads the driver with ``compute_driver = nova_zvm.ZVMDriver``; the
``nova.virt.nova_zvm`` shim shipped with this package makes that name
resolve to :class:`nova_zvm.virt.driver.ZVMDriver`.
"""


def __getattr__(name):
    # Importing the driver pulls in nova; keep ``import nova_zvm`` (and the
    # lab, which must not import nova) light by importing it on first use.
    if name == 'ZVMDriver':
        from nova_zvm.virt.driver import ZVMDriver
        return ZVMDriver
    raise AttributeError(name)
