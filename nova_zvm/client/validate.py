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

"""Checks of the values that become part of a URL.

A value with a ``/``, ``?``, ``#`` or ``..`` in it would address another
resource than the one meant, so such values are refused before anything is
sent. The server still validates the request bodies against its schemas.
"""

import re

from nova_zvm import exception

# z/VM userids and vswitch names: 1-8 of letters, digits and @ # $ (and _,
# which the connector's schema accepts).
_ZVM_NAME = re.compile(r'^[A-Za-z0-9@#$_]{1,8}$')
_VDEV = re.compile(r'^[0-9A-Fa-f]{1,4}$')
# Connector image names: file names in its image repository.
_IMAGE_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._+:-]{0,254}$')
# FCP template ids are UUIDs.
_TEMPLATE_ID = re.compile(r'^[A-Za-z0-9-]{1,64}$')


def _check(api, what, value, pattern, hint):
    if not isinstance(value, str) or not pattern.match(value):
        raise exception.InvalidParameter(
            errmsg='invalid %s %r: %s' % (what, value, hint), api=api)
    return value


def userid(api, value):
    return _check(api, 'userid', value, _ZVM_NAME,
                  '1-8 letters, digits, @, #, $ or _')


def vswitch(api, value):
    return _check(api, 'vswitch name', value, _ZVM_NAME,
                  '1-8 letters, digits, @, #, $ or _')


def vdev(api, value):
    return _check(api, 'virtual device', value, _VDEV,
                  '1-4 hexadecimal digits')


def image_name(api, value):
    return _check(api, 'image name', value, _IMAGE_NAME,
                  'letters, digits, . _ + : -, not starting with . or -')


def template_id(api, value):
    return _check(api, 'FCP template id', value, _TEMPLATE_ID,
                  'a UUID')


def userid_list(api, values):
    """One userid or a list of them (for the bulk inspection calls)."""
    if isinstance(values, str):
        values = [values]
    if not values:
        raise exception.InvalidParameter(errmsg='no userid given', api=api)
    return [userid(api, value) for value in values]
