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

"""Checks of nova.conf alone: no connector, nothing changed.

Each function returns a ``Result``. The start-up of the driver runs
:data:`STARTUP_CHECKS` (a Failure stops nova-compute); ``nova-zvm-status
check`` runs them all.
"""

import os
import re
import shutil
import stat
import urllib.parse

from nova.objects import instance as instance_obj
from oslo_config import cfg
from oslo_utils import units

from nova_zvm import conf
from nova_zvm import preflight
from nova_zvm.virt import userid as zvm_userid

CONF = conf.CONF

DRIVER = 'nova_zvm.ZVMDriver'
URL_EXAMPLE = 'https://zcc.example.com:8080'
# What requests verifies against without [zvm] ca_file.
DEFAULT_TRUST = "certifi's CA bundle (requests' default, not the system store)"

# Instance ids every template must turn into valid userids: the first, a
# small one and a large one (five hex digits, as 'zvm%05x' allows).
SAMPLE_INSTANCE_IDS = (0, 1, 0xfffff)
SAMPLE_UUID = '00000000-0000-0000-0000-000000000000'
# nova's instances.id is a 32-bit autoincrement column.
MAX_INSTANCE_ID = 2 ** 31 - 1
# Warn when fewer than this share of the template's ids are left.
LOW_HEADROOM = 0.1
# Ids a long-lived cloud reaches (nova never reuses one): a template that
# overflows before this starts failing every build one day.
REALISTIC_INSTANCE_ID = 0xffffff

# A template with one numeric conversion ('zvm%05x'): its userids can be
# read back into instance ids.
_CONVERSION = re.compile(r'%(0?\d*)([dxXo])')
_DIGITS = {'d': ('[0-9]', 10), 'x': ('[0-9a-fA-F]', 16),
           'X': ('[0-9a-fA-F]', 16), 'o': ('[0-7]', 8)}


def url():
    try:
        value = CONF.zvm.cloud_connector_url
    except (cfg.Error, ValueError) as err:
        # A URIOpt refuses values without a scheme or host when read.
        return preflight.failure(
            '[zvm] cloud_connector_url is not a valid URL (%s); set it to '
            'the z/VM Cloud Connector\'s URL, e.g. %s' % (err, URL_EXAMPLE))
    if not value:
        return preflight.failure(
            '[zvm] cloud_connector_url is not set; set it to the z/VM Cloud '
            'Connector\'s URL, e.g. %s' % URL_EXAMPLE)
    parsed = urllib.parse.urlparse(value)
    if parsed.scheme not in ('http', 'https') or not parsed.netloc:
        return preflight.failure(
            '[zvm] cloud_connector_url = %s is not an http:// or https:// '
            'URL; set it to the z/VM Cloud Connector\'s URL, e.g. %s'
            % (value, URL_EXAMPLE))
    return preflight.success('[zvm] cloud_connector_url = %s' % value)


def ca_file():
    path = CONF.zvm.ca_file
    if not path:
        return preflight.success('[zvm] ca_file is not set: an https '
                                 'connector is verified against '
                                 + DEFAULT_TRUST)
    if not (os.path.isfile(path) and os.access(path, os.R_OK)):
        return preflight.failure(
            '[zvm] ca_file = %s is missing or not readable by nova-compute; '
            'point it at the PEM file of the CA that signed the Cloud '
            'Connector\'s certificate and make it readable, or unset it to '
            'use %s' % (path, DEFAULT_TRUST))
    return preflight.success('[zvm] ca_file = %s is readable' % path)


def token_file():
    path = CONF.zvm.token_file
    if not path:
        return preflight.success('[zvm] token_file is not set: the '
                                 'connector must run without '
                                 'authentication')
    if not os.path.isfile(path):
        return preflight.failure(
            '[zvm] token_file = %s does not exist; copy the Cloud '
            'Connector\'s admin token file there (mode 0600, owned by the '
            'nova-compute user), or unset it when the connector runs '
            'without authentication' % path)
    if not os.access(path, os.R_OK):
        return preflight.failure(
            '[zvm] token_file = %s is not readable by nova-compute; make it '
            'owned by the nova-compute user with mode 0600' % path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return preflight.warning(
            '[zvm] token_file %s is readable by other users (mode %04o); '
            'restrict it with chmod 0600' % (path, mode))
    return preflight.success('[zvm] token_file = %s is readable by this '
                             'user only (mode %04o)' % (path, mode))


def insecure():
    if CONF.zvm.insecure:
        return preflight.warning(
            '[zvm] insecure = True: the Cloud Connector\'s TLS certificate '
            'is not verified, so the admin token can be intercepted; set '
            '[zvm] ca_file to the connector\'s CA and insecure = False')
    return preflight.success('[zvm] insecure = False')


def plain_http():
    url = CONF.zvm.cloud_connector_url or ''
    if CONF.zvm.token_file and urllib.parse.urlparse(url).scheme == 'http':
        return preflight.warning(
            '[zvm] cloud_connector_url = %s is plain http with token '
            'authentication: the admin token and the auth tokens travel in '
            'clear; use https:// and [zvm] ca_file' % url)
    return preflight.success('[zvm] cloud_connector_url is https:// or '
                             'carries no token')


def sample_names():
    """Instance names the configured template gives for sample ids."""
    return [(instance_id, instance_name(instance_id))
            for instance_id in SAMPLE_INSTANCE_IDS]


def instance_name(instance_id):
    # Nova's own Instance.name applies the template (ids and %(uuid)s).
    return instance_obj.Instance(id=instance_id, uuid=SAMPLE_UUID).name


def _valid_id(instance_id):
    try:
        return zvm_userid.is_valid(instance_name(instance_id))
    except (TypeError, ValueError, KeyError):
        return False


def first_invalid_id():
    """The first instance id whose name is no valid userid, or None.

    Names only grow with the id, so a binary search finds it.
    """
    if _valid_id(MAX_INSTANCE_ID):
        return None
    low, high = 1, MAX_INSTANCE_ID
    while low < high:
        middle = (low + high) // 2
        if _valid_id(middle):
            low = middle + 1
        else:
            high = middle
    return low


def instance_id_of(userid):
    """The instance id whose name is ``userid``, or None if none is."""
    template = CONF.instance_name_template
    matches = list(_CONVERSION.finditer(template))
    if len(matches) != 1 or template.count('%') != 1:
        return None
    match = matches[0]
    digits, base = _DIGITS[match.group(2)]
    pattern = '%s(%s+)%s' % (re.escape(template[:match.start()]), digits,
                             re.escape(template[match.end():]))
    found = re.fullmatch(pattern, userid, re.IGNORECASE)
    if not found:
        return None
    instance_id = int(found.group(1), base)
    if instance_name(instance_id).upper() != userid.upper():
        return None
    return instance_id


def name_template(userids=None):
    """Valid userids for every sample id; how many instances are left.

    :param userids: the guests on this z/VM, if known: the highest instance
        id among them tells how many ids remain
    """
    template = CONF.instance_name_template
    for instance_id, name in sample_names():
        if not zvm_userid.is_valid(name):
            return preflight.failure(
                '[DEFAULT] instance_name_template = %(tpl)s gives %(name)r '
                'for instance id %(id)#x, which is not a valid z/VM userid; '
                '%(fix)s' % {'tpl': template, 'name': name, 'id': instance_id,
                             'fix': zvm_userid.FIX_HINT})
    overflow = first_invalid_id()
    head = ('[DEFAULT] instance_name_template = %s gives valid userids '
            '(e.g. %r)' % (template, instance_name(1)))
    if overflow is None:
        return preflight.success(head + ' for every instance id')
    in_use = [i for i in (instance_id_of(u) for u in userids or ())
              if i is not None]
    highest = max(in_use, default=0)
    remaining = max(0, overflow - 1 - highest)
    details = ('%s up to instance id %#x and overflows at %#x (%r)'
               % (head, overflow - 1, overflow, instance_name(overflow)))
    if userids is None:
        details += ': %d instances in all' % (overflow - 1)
    elif in_use:
        details += ('; the highest instance id among this z/VM\'s guests is '
                    '%#x, so %d more instances fit' % (highest, remaining))
    else:
        details += ('; no guest on this z/VM has a name from it yet, so %d '
                    'instances fit' % remaining)
    if remaining < (overflow - 1) * LOW_HEADROOM:
        return preflight.warning(
            details + '. Plan a new template with more digits before the '
            'ids run out: instance names come from the template, so a new '
            'one renames every existing instance and the driver would no '
            'longer find their guests')
    if overflow <= REALISTIC_INSTANCE_ID:
        return preflight.warning(
            details + '. A long-lived cloud reaches instance id %#x (nova '
            'never reuses one), and from then on every build on this host '
            'fails: use a template with room to grow, e.g. \'z%%07x\''
            % overflow)
    return preflight.success(details)


def nova_options():
    """``compute_driver`` and ``force_config_drive``."""
    driver = CONF.compute_driver
    if driver != DRIVER:
        hint = (' (that is nova\'s in-tree z/VM driver)'
                if driver == 'zvm.ZVMDriver' else '')
        return preflight.failure(
            '[DEFAULT] compute_driver = %s%s: nova-compute on this host '
            'would not run nova-zvm; set compute_driver = %s'
            % (driver, hint, DRIVER))
    if not CONF.force_config_drive:
        return preflight.warning(
            '[DEFAULT] force_config_drive = False: the driver gives every '
            'guest a config drive anyway (the Cloud Connector deploys none '
            'without one), but nova then records the server as having none; '
            'set force_config_drive = True')
    return preflight.success('[DEFAULT] compute_driver = %s, '
                             'force_config_drive = True' % DRIVER)


def _existing_parent(path):
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def image_tmp_path(largest_image=None):
    """Writable, with room for the largest image (bytes), when known."""
    path = CONF.zvm.image_tmp_path
    if os.path.exists(path) and not os.path.isdir(path):
        return preflight.failure(
            '[zvm] image_tmp_path = %s is not a directory; point it at a '
            'directory on a file system with room for the largest image'
            % path)
    existing = _existing_parent(path)
    if not os.access(existing, os.W_OK | os.X_OK):
        return preflight.failure(
            '[zvm] image_tmp_path = %s is not writable by this user (%s); '
            'create it owned by the nova-compute user, and run this check '
            'as that user' % (path, existing))
    free = shutil.disk_usage(existing).free
    where = path if existing == path else '%s (created on first use)' % path
    details = '[zvm] image_tmp_path = %s is writable, %.1f GiB free' % (
        where, free / units.Gi)
    if largest_image is None:
        return preflight.success(details)
    details += ('; the largest image on the connector is %.1f GiB'
                % (largest_image / units.Gi))
    if free < largest_image:
        return preflight.failure(
            details + ': images are downloaded from Glance there before the '
            'connector imports them; free space, or point image_tmp_path at '
            'a larger file system')
    return preflight.success(details)


def consistency():
    """Timeouts in order; enough pooled connections for nova's concurrency."""
    zvm = CONF.zvm
    problems = []
    if not zvm.connect_timeout < zvm.read_timeout <= zvm.long_read_timeout:
        problems.append(
            '[zvm] connect_timeout (%s) < read_timeout (%s) <= '
            'long_read_timeout (%s) does not hold; a long operation would '
            'time out before an ordinary call' % (
                zvm.connect_timeout, zvm.read_timeout, zvm.long_read_timeout))
    builds = CONF.max_concurrent_builds
    if builds:
        # Each build or snapshot holds a connection while it streams, and
        # the periodic tasks need one more.
        needed = builds + CONF.max_concurrent_snapshots + 1
        if zvm.connection_pool_size < needed:
            problems.append(
                '[zvm] connection_pool_size = %d is smaller than nova\'s '
                'max_concurrent_builds + max_concurrent_snapshots + 1 = %d; '
                'calls beyond the pool open unpooled connections: set '
                'connection_pool_size = %d or more'
                % (zvm.connection_pool_size, needed, needed))
    interval = CONF.sync_power_state_interval
    if interval > 0 and zvm.power_state_cache_ttl >= interval:
        problems.append(
            '[zvm] power_state_cache_ttl = %d is not below nova\'s '
            'sync_power_state_interval = %d: each power sync would read the '
            'previous one\'s states; lower power_state_cache_ttl'
            % (zvm.power_state_cache_ttl, interval))
    if problems:
        return preflight.warning('; '.join(problems))
    return preflight.success(
        'timeouts %.0f/%.0f/%.0f s (connect/read/long read), %d pooled '
        'connections for %s concurrent builds'
        % (zvm.connect_timeout, zvm.read_timeout, zvm.long_read_timeout,
           zvm.connection_pool_size, builds or 'unlimited'))


# What the driver's start-up runs, in this order.
STARTUP_CHECKS = (url, name_template, ca_file, token_file, insecure,
                  plain_http)
