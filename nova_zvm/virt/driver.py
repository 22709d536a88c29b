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

"""ZVMDriver: nova's ComputeDriver API on top of the z/VM Cloud Connector."""

from nova.virt import driver

from nova_zvm import conf  # noqa: F401  (registers the [zvm] options)


class ZVMDriver(driver.ComputeDriver):
    """Placeholder; the real facade arrives with the driver core."""
