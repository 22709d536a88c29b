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


"""The lab's control API, served by the lab process under ``/_lab/``.

It lets a test (through ``LabFixture.zvm``) read and steer the fake z/VM
that sits under the Cloud Connector. The Cloud Connector never sees these
requests and they are not counted as REST calls.
"""

import json
import logging

LOG = logging.getLogger('nova_zvm.lab')

PREFIX = '/_lab/'


class ControlApp(object):
    def __init__(self, lab):
        self.lab = lab
        self.zvm = lab.zvm

    def __call__(self, environ, start_response):
        method = environ['REQUEST_METHOD']
        path = environ.get('PATH_INFO', '')
        if path.startswith(PREFIX):
            path = path[len(PREFIX):]
        parts = path.strip('/')
        parts = parts.split('/') if parts else []
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
            body = environ['wsgi.input'].read(length) if length else b''
            data = json.loads(body) if body else {}
            status, result = self.route(method, parts, data)
        except (KeyError, ValueError, TypeError) as e:
            status, result = '400 Bad Request', {'error': str(e)}
        payload = json.dumps(result).encode()
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', str(len(payload)))])
        return [payload]

    def route(self, method, parts, data):
        zvm = self.zvm
        ok = '200 OK'
        key = (method, parts[0] if parts else '')
        if key == ('GET', 'state'):
            return ok, zvm.state()
        if key == ('GET', 'info'):
            return ok, self.lab.info()
        if key == ('GET', 'calls'):
            return ok, zvm.calls()
        if key == ('DELETE', 'calls'):
            zvm.reset_calls()
            return ok, []
        if key == ('GET', 'rest_calls'):
            with self.lab.rest_lock:
                return ok, list(self.lab.rest_calls)
        if key == ('DELETE', 'rest_calls'):
            with self.lab.rest_lock:
                self.lab.rest_calls.clear()
            return ok, []
        if key == ('POST', 'faults'):
            zvm.inject_fault(data['name'], data['rc'], data.get('rs', 0),
                             data.get('nth', 1), data.get('count', 1))
            return ok, [f.to_dict() for f in zvm.faults]
        if key == ('DELETE', 'faults'):
            zvm.clear_faults()
            return ok, []
        if key == ('PUT', 'latency'):
            zvm.set_latency(data)
            return ok, data
        if key == ('PUT', 'settings'):
            zvm.set_settings(data)
            return ok, dict(zvm.settings)
        if key[1] == 'users' and len(parts) == 3 and method == 'POST':
            return self.user_action(parts[1].upper(), parts[2], data)
        found = getattr(self.lab, 'control_route', lambda *a: None)(
            method, parts, data)
        if found is not None:
            return found
        return '404 Not Found', {'error': 'no control call %s %s'
                                          % (method, '/'.join(parts))}

    def user_action(self, userid, action, data):
        with self.zvm.lock:
            user = self.zvm.get_user(userid)
            if user is None:
                return '404 Not Found', {'error': 'no user %s' % userid}
            if action == 'power':
                if data['power'] not in ('on', 'off', 'paused'):
                    raise ValueError('power must be on, off or paused')
                user['power'] = data['power']
            elif action == 'console':
                user['console'] += data['text']
            elif action == 'shutdown':
                # Seconds the guest's OS takes to shut down, or 'ignore'.
                value = data['shutdown']
                if value != 'ignore':
                    value = float(value)
                    if value < 0:
                        raise ValueError('shutdown must be >= 0 or ignore')
                user['shutdown'] = value
            elif action == 'hold':
                # A DirMaint lock held outside the connector.
                user['held_by'] = {'count': int(data.get('count', 1)),
                                   'refused': 0}
            elif action == 'release':
                user['held_by'] = None
            else:
                return '404 Not Found', {'error': 'no action %s' % action}
        return '200 OK', {}
