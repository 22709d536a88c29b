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

"""Shim for nova's driver loader.

Nova 34 imports ``'nova.virt.' + CONF.compute_driver`` and nothing else, so
``compute_driver = nova_zvm.ZVMDriver`` resolves to this module. It only
re-exports the real driver from the ``nova_zvm`` package; nova's own
``nova.virt.zvm`` (the in-tree driver) is left untouched.
"""

from nova_zvm.virt.driver import ZVMDriver

__all__ = ['ZVMDriver']
