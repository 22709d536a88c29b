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

"""Lifecycle events: a guest stopped behind nova's back, and what it costs.

nova-zvm only (nova's in-tree driver sends no events: nova learns of such
a stop at its power sync, every ``sync_power_state_interval``, 600 s by
default). One driver with many guests (every other one running, all this
host's), polling every ``[zvm] lifecycle_poll_interval`` seconds as
nova-compute runs it once nova registers its event listener; the lab's
connector keeps its monitor cache at the default (300 s).

* REST calls per poll: one guest list, one stats request, and the bounded
  number of exact queries of guests whose figures the monitor repeats.
* Event latency: a running guest is logged off on the fake z/VM (what a
  shutdown from inside does) and the time until nova's listener receives
  the STOPPED event is measured. Nova then asks ``get_info`` once and
  records SHUTOFF (milliseconds; the functional tests check it).
"""

import threading
import time

from nova_zvm.bench import drivers
from nova_zvm.bench import labs
from nova_zvm.bench import power_sync
from nova_zvm.virt import ownership


def _listener():
    received = {}
    cond = threading.Condition()

    def listen(event):
        with cond:
            received.setdefault(event.uuid, (event.transition,
                                             time.monotonic()))
            cond.notify_all()
    return listen, received, cond


def run(env, spec, lab, reps, guests, interval):
    spec.configure(env)
    env.conf.config(lifecycle_poll_interval=interval, group='zvm')
    instances, _expected = power_sync.prepare(env, spec, lab, guests)
    owners = ownership.OwnerRegistry()
    for instance in instances:
        owners.set(instance.name.upper(), instance.uuid)
    driver = spec.build(env)
    calls, latency = [], []
    try:
        driver._events.poll()       # the first look
        for _ in range(reps):
            with labs.Meter(lab) as meter:
                driver._events.poll()
            calls.append(len([c for c in meter.calls
                              if c != 'POST /token']))
        listen, received, cond = _listener()
        driver.register_event_listener(listen)
        time.sleep(interval + 1)    # the poller's own first look
        timeout = 30 + interval * (guests // 2 + 1)
        for instance in instances[::2][:reps]:
            started = time.monotonic()
            lab.zvm.set_power(instance.name.upper(), 'off')
            with cond:
                seen = cond.wait_for(lambda: instance.uuid in received,
                                     timeout)
            latency.append(received[instance.uuid][1] - started
                           if seen else float(timeout))
    finally:
        drivers.stop(driver)
        labs.LabAdmin(lab).delete_all_guests()
    return {'calls': {spec.name: calls}, 'latency': {spec.name: latency}}
