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

"""Benchmarks: nova-zvm's driver side by side with nova's in-tree driver.

``python -m nova_zvm.bench`` (``tox -e bench``) runs both drivers in this
process against labs (the real Cloud Connector on a fake z/VM, each in its
own process) with the same latency profile, and writes
``bench/results.json`` and ``bench/results.md``.

Modules:

* ``environment``: nova's configuration, objects, a fake image service and
  virtapi, so that a driver runs in-process without nova's services.
* ``labs``: starting labs and preparing their state without the drivers.
* ``drivers``: how each driver is configured and built.
* ``client``, ``operations``, ``burst``, ``power_sync``, ``periodic``,
  ``cost``: one module per figure.
* ``report``: the figures, their ratios and targets; JSON and markdown.
* ``cli``: the command line.
"""
