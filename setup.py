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

import setuptools

# The package list is given here rather than in setup.cfg's [files]: pbr keeps
# only entries that are directories, and its path form ('nova/virt/nova_zvm')
# breaks editable installs. 'nova.virt.nova_zvm' is the few-line shim that lets
# nova's loader find the driver (nova imports only 'nova.virt.' +
# compute_driver); nothing else of nova's namespace is shipped.
PACKAGES = ['nova.virt.nova_zvm'] + [
    p for p in setuptools.find_packages(include=['nova_zvm', 'nova_zvm.*'])]

setuptools.setup(
    setup_requires=['pbr>=6.0.0'],
    pbr=True,
    packages=PACKAGES)
