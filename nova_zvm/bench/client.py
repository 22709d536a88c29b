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

"""Figure 1: guest power-state queries per second, one client after another.

Both clients use token authentication against the same lab. The lab runs
without latency here: the figure is the cost of the client (connections,
TLS handshakes, tokens), which a z/VM latency would only hide.
"""

import time
import urllib.parse

from zvmconnector import restclient

from nova_zvm.bench import labs

USERID = 'BENCHCL1'


def ours(info):
    from nova_zvm.client import ZVMClient
    client = ZVMClient(info['url'], token_file=info.get('token_file'),
                       ca_file=info.get('ca_file'))
    return client.guest_get_power_state


def theirs(info):
    url = urllib.parse.urlparse(info['url'])
    client = restclient.RESTClient(
        url.hostname, url.port, ssl_enabled=url.scheme == 'https',
        verify=info.get('ca_file') or False,
        token_path=info.get('token_file'), auth='token')

    def guest_get_power_state(userid):
        result = client.call('guest_get_power_state', userid)
        if result.get('overallRC') != 0:
            raise labs.ConnectorError('guest_get_power_state: %s' % result)
        return result['output']
    return guest_get_power_state


def calls_per_second(query, calls):
    start = time.perf_counter()
    for _ in range(calls):
        query(USERID)
    return calls / (time.perf_counter() - start)


def run(lab, reps, calls):
    """Samples of calls/s and of REST requests per query, per client.

    The clients alternate within each repetition, so that drift of the
    shared machine hits both alike.
    """
    admin = labs.LabAdmin(lab)
    admin.delete_all_guests()
    admin.create_guests([USERID], running=[USERID])
    info = {'url': lab.url, 'token_file': lab.token_file,
            'ca_file': lab.ca_file}
    queries = {'ours': ours(info), 'intree': theirs(info)}
    rate = {'ours': [], 'intree': []}
    requests = {'ours': [], 'intree': []}
    with admin.quiet():
        for name, query in queries.items():
            assert query(USERID) == 'on'      # warm: token, connection
            with labs.Meter(lab) as meter:
                query(USERID)
            requests[name].append(len(meter.calls))
        for rep in range(reps):
            order = list(queries) if rep % 2 == 0 else list(queries)[::-1]
            for name in order:
                rate[name].append(calls_per_second(queries[name], calls))
    admin.delete_all_guests()
    return {'rate': rate, 'requests': requests}
