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

"""Checks against the live Cloud Connector: read-only calls, short timeouts.

A :class:`Probe` makes each call at most once per run, with the configured
TLS settings and token but short timeouts and no retries, so that the
command finishes in seconds even when the connector is down. When the
connector cannot be reached, every check that needs it fails and says why.
"""

import functools
import re

from oslo_config import cfg

from nova_zvm.client import ZVMClient
from nova_zvm import conf
from nova_zvm import exception
from nova_zvm import preflight
from nova_zvm.preflight import options

CONF = conf.CONF

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# The API version nova-zvm speaks (zVMCloudConnector 1.6).
API_VERSION = (1, 0)
# A pool with less free space than this share of its size is a warning.
LOW_POOL_SPACE = 0.1
# At most this many guests are compared for the monitor cache check.
MONITOR_SAMPLE = 20


class Unreachable(Exception):
    """The connector did not answer (or the client could not be built).

    ``tls`` tells a certificate that failed verification from the rest.
    """

    def __init__(self, reason, tls=False):
        super().__init__(reason)
        self.tls = tls


# The part of a requests/urllib3 error message an operator acts on.
_REASONS = (re.compile(r'certificate verify failed: [^(\'")]+'),
            re.compile(r'\[Errno -?\d+\] [^\'")]+'),
            re.compile(r'no (?:connection|answer) within [\d.]+ s'))


def _reason(err):
    text = getattr(err, 'errmsg', None) or str(err)
    for pattern in _REASONS:
        found = pattern.search(text)
        if found:
            return found.group(0).strip()
    return text


class Probe(object):
    """The connector as seen by one run of the checks.

    Two clients: one without a token, to tell "unreachable" from "the token
    is refused", and one with ``[zvm] token_file`` for everything else.
    """

    def __init__(self, conf=CONF):
        self._conf = conf
        self._anon = None
        self._client = None
        self._answers = {}
        self._reach = None

    @property
    def url(self):
        try:
            return self._conf.zvm.cloud_connector_url
        except (cfg.Error, ValueError):
            # The URL check says what is wrong with it.
            return '(an invalid [zvm] cloud_connector_url)'

    def _new_client(self, token_file):
        zvm = self._conf.zvm
        return ZVMClient(
            zvm.cloud_connector_url, token_file=token_file,
            ca_file=zvm.ca_file, verify=not zvm.insecure,
            connect_timeout=min(zvm.connect_timeout, CONNECT_TIMEOUT),
            read_timeout=min(zvm.read_timeout, READ_TIMEOUT),
            max_retries=0, pool_size=2)

    def reach(self):
        """``(version or None, whether a token is required)``.

        :raises Unreachable: with the reason, on every call once it failed
        """
        if self._reach is None:
            try:
                self._anon = self._new_client(None)
                try:
                    self._reach = (self._anon.version(), False)
                except exception.Unauthorized:
                    self._reach = (None, True)
            except exception.ZVMConnectorError as err:
                self._reach = Unreachable(
                    _reason(err), tls='TLS failure' in str(err))
            except (cfg.Error, ValueError):
                # A URIOpt refuses a URL without scheme or host when read.
                self._reach = Unreachable('[zvm] cloud_connector_url is '
                                          'not a valid URL')
        if isinstance(self._reach, Unreachable):
            raise self._reach
        return self._reach

    def call(self, api, *args):
        """The answer of a read-only client call, asked at most once.

        :raises Unreachable: the connector cannot be reached
        :raises ZVMConnectorError: the call failed (the same error again
            for the same call)
        """
        self.reach()
        key = (api, repr(args))
        if key not in self._answers:
            if self._client is None:
                token_file = self._conf.zvm.token_file
                self._client = (self._new_client(token_file) if token_file
                                else self._anon)
            try:
                self._answers[key] = getattr(self._client, api)(*args)
            except (exception.Timeout, exception.ConnectionFailed) as err:
                # One call that hangs or breaks is enough: the other checks
                # fail at once rather than wait for the timeout each.
                self._reach = Unreachable(_reason(err))
                raise self._reach
            except exception.ZVMConnectorError as err:
                self._answers[key] = err
        answer = self._answers[key]
        if isinstance(answer, exception.ZVMConnectorError):
            raise answer
        return answer

    def version(self):
        version, _ = self.reach()
        return version if version is not None else self.call('version')

    def system(self):
        """The z/VM system's name, for messages ('this z/VM' if unknown)."""
        try:
            return 'z/VM system %s' % self.call('host_get_info')['zvm_host']
        except (exception.ZVMConnectorError, KeyError, TypeError):
            return 'this z/VM'

    def known(self, api, *args):
        """The answer of a call, or None when it cannot be had."""
        try:
            return self.call(api, *args)
        except (Unreachable, exception.ZVMConnectorError):
            return None

    def close(self):
        for client in {self._anon, self._client} - {None}:
            client.close()


def _unreachable(probe, err):
    return preflight.failure(
        'not checked: the Cloud Connector at %s cannot be reached (%s)'
        % (probe.url, err))


def needs_connector(check):
    """Turn Unreachable and unexpected connector errors into Failures."""
    @functools.wraps(check)
    def run(probe):
        try:
            return check(probe)
        except Unreachable as err:
            return _unreachable(probe, err)
        except exception.ZVMConnectorError as err:
            return preflight.failure('the Cloud Connector at %s answered '
                                     'with an error: %s' % (probe.url, err))
    return run


def _parse_version(text):
    try:
        return tuple(int(part) for part in str(text).split('.')[:2])
    except ValueError:
        return None


def connection(probe):
    """Reachable at cloud_connector_url; TLS; a supported API version."""
    zvm = CONF.zvm
    try:
        probe.reach()
    except Unreachable as err:
        reason = str(err)
        if err.tls:
            against = ('[zvm] ca_file = %s' % zvm.ca_file if zvm.ca_file
                       else options.DEFAULT_TRUST)
            return preflight.failure(
                'the TLS certificate of the Cloud Connector at %s is not '
                'trusted by %s (%s); set [zvm] ca_file to the PEM file of '
                'the CA that signed the connector\'s certificate'
                % (probe.url, against, reason))
        return preflight.failure(
            'the Cloud Connector at %s cannot be reached (%s); check [zvm] '
            'cloud_connector_url, that the connector runs and that this '
            'host may connect to it' % (probe.url, reason))
    results = [_transport_security(probe)]
    try:
        results.append(_api_version(probe.version()))
    except exception.Unauthorized:
        results.append(preflight.success(
            'API version not read: the connector refused the token (see '
            'the token check)'))
    except (Unreachable, exception.ZVMConnectorError) as err:
        results.append(preflight.failure(
            'the connector did not tell its API version: %s' % err))
    return preflight.worst(results)


def _transport_security(probe):
    zvm = CONF.zvm
    if probe.url.startswith('https:'):
        if zvm.insecure:
            return preflight.warning(
                'the Cloud Connector at %s answers over TLS, but its '
                'certificate is not verified ([zvm] insecure = True): the '
                'admin token can be intercepted; set [zvm] ca_file to the '
                'connector\'s CA and insecure = False' % probe.url)
        against = ('[zvm] ca_file = %s' % zvm.ca_file if zvm.ca_file
                   else options.DEFAULT_TRUST)
        return preflight.success(
            'the Cloud Connector at %s answers over TLS, its certificate '
            'verified against %s' % (probe.url, against))
    if zvm.token_file:
        return preflight.warning(
            'the Cloud Connector at %s answers over plain http: the admin '
            'token and every auth token cross the network unencrypted; '
            'serve the connector over TLS and set [zvm] '
            'cloud_connector_url to its https:// URL' % probe.url)
    return preflight.warning(
        'the Cloud Connector at %s answers over plain http without '
        'authentication: anyone who reaches it can manage z/VM; serve it '
        'over TLS with token authentication ([zvm] token_file), or keep it '
        'on a network only nova-compute reaches' % probe.url)


def _api_version(version):
    version = version or {}
    low = _parse_version(version.get('min_version'))
    high = _parse_version(version.get('max_version'))
    text = ('API version %s (connector %s)'
            % (version.get('api_version'), version.get('version')))
    if low is None or high is None or not low <= API_VERSION <= high:
        return preflight.failure(
            '%s does not include API %d.%d, which nova-zvm speaks; run '
            'zVMCloudConnector 1.6' % (text, API_VERSION[0], API_VERSION[1]))
    return preflight.success(text + ' is supported')


@needs_connector
def token(probe):
    """The token file is safe and the connector accepts its token."""
    zvm = CONF.zvm
    local = options.token_file()
    if local.code == preflight.Code.FAILURE:
        return local
    _, required = probe.reach()
    if not zvm.token_file:
        if required:
            return preflight.failure(
                'the Cloud Connector at %s requires a token ([wsgi] auth = '
                'token in its zvmsdk.conf); set [zvm] token_file to a copy '
                'of its admin token file (mode 0600)' % probe.url)
        return preflight.success(
            'no [zvm] token_file, and the Cloud Connector at %s runs '
            'without authentication ([wsgi] auth = none)' % probe.url)
    try:
        probe.call('version')
    except exception.Unauthorized as err:
        return preflight.failure(
            'the Cloud Connector at %s refused the admin token in [zvm] '
            'token_file = %s (%s); copy the connector\'s current admin '
            'token file ([wsgi] token_path in its zvmsdk.conf) there'
            % (probe.url, zvm.token_file, err.errmsg))
    return preflight.worst([local, preflight.success(
        'the Cloud Connector accepted the admin token')])


@needs_connector
def disk_pool(probe):
    """The disk pool exists on this z/VM and has free space."""
    pool = CONF.zvm.disk_pool
    name = pool or 'the connector\'s default disk pool'
    try:
        info = probe.call('host_diskpool_get_info', pool)
    except (exception.NotFound, exception.BadRequest) as err:
        return preflight.failure(
            'disk pool %s does not exist on %s (HTTP %s, overallRC %s, rc '
            '%s, rs %s); set [zvm] disk_pool to TYPE:NAME (ECKD or FBA, and '
            'a directory manager group of this z/VM), e.g. ECKD:POOL1'
            % (name, probe.system(), err.status, err.overall_rc, err.rc,
               err.rs))
    total = info.get('disk_total') or 0
    free = info.get('disk_available') or 0
    details = 'disk pool %s on %s: %s of %s GB free' % (
        name, probe.system(), free, total)
    if free <= 0:
        return preflight.failure(
            details + '; no guest can be created: add volumes to the pool '
            'or set [zvm] disk_pool to another one')
    if free < total * LOW_POOL_SPACE:
        return preflight.warning(
            details + ', less than %d%%; add volumes to the pool soon'
            % (LOW_POOL_SPACE * 100))
    return preflight.success(details)


@needs_connector
def vswitches(probe):
    """Every vswitch of vswitch_mappings exists on this z/VM."""
    mappings = CONF.zvm.vswitch_mappings
    if not mappings:
        return preflight.warning(
            '[zvm] vswitch_mappings is empty: servers with ports on neutron '
            'networks are refused; map each physical network to a vswitch, '
            'e.g. vswitch_mappings = physnet1:VSWITCH1')
    missing = []
    for physnet, vswitch in sorted(mappings.items()):
        try:
            probe.call('vswitch_query', vswitch)
        except (exception.NotFound, exception.InvalidParameter):
            missing.append('%s (physical network %s)' % (vswitch, physnet))
    if missing:
        existing = probe.known('vswitch_get_list') or []
        return preflight.failure(
            'vswitch %s does not exist on %s, which has %s; fix [zvm] '
            'vswitch_mappings, or define the vswitch on z/VM'
            % (', '.join(missing), probe.system(),
               ', '.join(existing) or 'no vswitch'))
    return preflight.success(
        'vswitches on %s: %s' % (probe.system(), ', '.join(
            '%s -> %s' % item for item in sorted(mappings.items()))))


def parse_ssi(lines):
    """SSI_Query's ``key = value`` lines as a dict; members as a list."""
    info = {'members': []}
    for line in lines or []:
        key, _, value = str(line).partition('=')
        key, value = key.strip(), value.strip()
        if key == 'member_system_id' and value:
            info['members'].append(value)
        elif key and key not in info:
            info[key] = value
    return info


@needs_connector
def ssi(probe):
    """SSI membership of this z/VM system."""
    info = parse_ssi(probe.call('host_get_ssi_info'))
    name = info.get('ssi_name')
    if not name:
        return preflight.success(
            '%s is not a member of an SSI cluster (live migration needs '
            'one)' % probe.system())
    details = ('%s is a member of SSI cluster %s (mode %s; members: %s)'
               % (probe.system(), name, info.get('ssi_mode') or '?',
                  ', '.join(info['members']) or '?'))
    if info.get('ssi_mode') != 'Stable':
        return preflight.warning(
            details + '; guests cannot be relocated until the cluster is '
            'Stable again (z/VM: QUERY SSI)')
    return preflight.success(details)


def _configured_fcp_template():
    # [zvm] fcp_template belongs to the FCP volume support; older
    # configurations do not have it.
    try:
        return CONF.zvm.fcp_template
    except (cfg.NoSuchOptError, AttributeError):
        return None


def count_devices(ranges):
    """FCP devices in a statistics text like ``'1A00 - 1A0F, 1B00'``."""
    count = 0
    for part in str(ranges or '').split(','):
        first, _, last = part.partition('-')
        first, last = first.strip(), last.strip()
        if not first:
            continue
        try:
            count += int(last, 16) - int(first, 16) + 1 if last else 1
        except ValueError:
            count += 1
    return count


def free_fcps(template):
    """Free FCP devices of a template, per path."""
    statistics = template.get('statistics') or {}
    free = {}
    for path, stats in sorted(statistics.items()):
        if isinstance(stats, dict):
            count = stats.get('available_count')
            free[path] = (int(count) if count is not None
                          else count_devices(stats.get('available')))
    return free


@needs_connector
def fcp_templates(probe):
    """The FCP template for volumes exists and has free FCPs on its paths."""
    wanted = _configured_fcp_template()
    templates = (probe.call('get_fcp_templates_details') or {}).get(
        'fcp_templates') or []
    names = ', '.join('%s (%s)' % (t.get('name'), t.get('id'))
                      for t in templates) or 'none'
    if not wanted:
        return preflight.success(
            'no FCP template is configured for volumes; the connector\'s '
            'FCP templates: %s' % names)
    template = next((t for t in templates
                     if wanted in (t.get('id'), t.get('name'))), None)
    if template is None:
        return preflight.failure(
            '[zvm] fcp_template = %s does not exist on the Cloud Connector, '
            'which has: %s; create the template there or set fcp_template '
            'to one of them' % (wanted, names))
    free = free_fcps(template)
    usable = len([count for count in free.values() if count])
    needed = template.get('min_fcp_paths_count') or len(free) or 1
    details = 'FCP template %s: free FCP devices per path: %s' % (
        wanted, ', '.join('%s: %d' % item for item in free.items())
        or 'no path')
    if usable < needed:
        return preflight.failure(
            details + '; a volume needs a free FCP on %d path(s): add FCP '
            'devices to the template (fcp_devices), or release unused ones'
            % needed)
    if usable < len(free):
        return preflight.warning(
            details + '; volumes attach with fewer paths than the template '
            'has')
    return preflight.success(details)


@needs_connector
def monitor_cache(probe):
    """Whether the connector's monitor answers power states from a cache.

    The driver's power sync reads which guests run from
    guest_inspect_stats, which zvmsdk's monitor caches for ``[monitor]
    cache_interval`` seconds; guest_get_power_state always asks CP. A guest
    the two disagree about shows the cache.
    """
    guests = sorted(u.upper() for u in probe.call('guest_list') or [])
    sample = guests[:MONITOR_SAMPLE]
    if not sample:
        return preflight.success(
            'no guest to compare the connector\'s monitor with, so its '
            'cache cannot be inferred; [monitor] cache_interval in the '
            'connector\'s zvmsdk.conf should be 0 or well below nova\'s '
            'sync_power_state_interval')
    running = probe.call('guest_inspect_stats', sample) or {}
    running = {userid.upper() for userid in running}
    stale = []
    for userid in sample:
        try:
            real = probe.call('guest_get_power_state', userid)
        except exception.NotFound:
            # Deleted since the guest list was read.
            continue
        if (userid in running) != (real == 'on'):
            stale.append('%s (%s)' % (userid, real))
    if stale:
        return preflight.warning(
            'the connector\'s monitor disagrees with CP about the power of '
            '%s: it answers from a cache ([monitor] cache_interval in its '
            'zvmsdk.conf), so nova sees power changes made outside nova up '
            'to cache_interval seconds late; set cache_interval = 0 there '
            '(or well below nova\'s sync_power_state_interval)'
            % ', '.join(stale))
    return preflight.success(
        'the connector\'s monitor agrees with CP about the power of %d '
        'guest(s): no stale cache seen' % len(sample))


def largest_image(probe):
    """Size in bytes of the largest image in the connector, or None."""
    sizes = []
    for image in probe.call('image_query') or []:
        try:
            sizes.append(int(image.get('image_size_in_bytes') or 0))
        except (TypeError, ValueError):
            pass
    return max(sizes, default=None)


def image_tmp_path(probe):
    """image_tmp_path, against the largest image the connector holds."""
    try:
        largest = largest_image(probe)
    except (Unreachable, exception.ZVMConnectorError):
        largest = None
    return options.image_tmp_path(largest)


def name_template(probe):
    """The template, and how many ids are left after this z/VM's guests."""
    return options.name_template(probe.known('guest_list'))
