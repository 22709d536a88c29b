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

"""z/VM userids of nova instances.

A guest's userid is nova's ``instance.name`` (built from
``[DEFAULT] instance_name_template``) in upper case. z/VM accepts 1 to 8
characters of A-Z, 0-9, @, # and $.
"""

import re

from nova import exception

_VALID = re.compile(r'[A-Z0-9@#$]{1,8}')

FIX_HINT = ("set [DEFAULT] instance_name_template to a pattern that gives "
            "1 to 8 characters of A-Z, 0-9, @, # or $ for every instance "
            "id, e.g. 'z%07x'")


def is_valid(userid):
    """True when ``userid`` (any case) is a valid z/VM userid."""
    return bool(userid) and bool(_VALID.fullmatch(userid.upper()))


def from_name(name):
    """The z/VM userid for an instance name, or InvalidInput explaining why."""
    userid = (name or '').upper()
    if not _VALID.fullmatch(userid):
        raise exception.InvalidInput(
            reason="instance name %r is not a valid z/VM userid; %s"
            % (name, FIX_HINT))
    return userid


def for_instance(instance):
    """The z/VM userid of ``instance`` (upper-cased ``instance.name``)."""
    return from_name(instance.name)
