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

"""Guest calls: definition, deploy and capture, power, resize, migration."""

from nova_zvm.client import base
from nova_zvm.client import validate


class GuestAPI(base.APIBase):

    def guest_create(self, userid, vcpus, memory, disk_list=None,
                     user_profile=None, max_cpu=None, max_mem=None,
                     **kwargs):
        """Define a guest.

        Extra keywords (``ipl_from``, ``loaddev``, ``account``,
        ``comments``...) go into the body as they are.
        """
        api = 'guest_create'
        guest = {'userid': validate.userid(api, userid), 'vcpus': vcpus,
                 'memory': memory,
                 # zvmsdk 1.6.3 fails (HTTP 500) on a guest without disks
                 # unless it is given an empty list.
                 'disk_list': disk_list or []}
        guest.update(base.given(user_profile=user_profile,
                                max_cpu=max_cpu, max_mem=max_mem, **kwargs))
        return self._call(api, 'POST', '/guests', json_body={'guest': guest})

    def guest_delete(self, userid):
        # Idempotent: a repeat after a locked entry is safe.
        return self._call('guest_delete', 'DELETE',
                          self._guest_path('guest_delete', userid),
                          locked_retry=True)

    def guest_list(self):
        return self._call('guest_list', 'GET', '/guests')

    def guest_get_definition_info(self, userid):
        return self._call('guest_get_definition_info', 'GET',
                          self._guest_path('guest_get_definition_info',
                                           userid))

    def guest_get_info(self, userid):
        return self._call('guest_get_info', 'GET',
                          self._guest_path('guest_get_info', userid, 'info'))

    def guest_get_user_direct(self, userid):
        return self._call('guest_get_user_direct', 'GET',
                          self._guest_path('guest_get_user_direct', userid,
                                           'user_direct'))

    def guest_get_power_state(self, userid):
        return self._call('guest_get_power_state', 'GET',
                          self._guest_path('guest_get_power_state', userid,
                                           'power_state'))

    def guest_get_power_state_real(self, userid):
        return self._call('guest_get_power_state_real', 'GET',
                          self._guest_path('guest_get_power_state_real',
                                           userid, 'power_state_real'))

    def guest_get_adapters_info(self, userid):
        return self._call('guest_get_adapters_info', 'GET',
                          self._guest_path('guest_get_adapters_info', userid,
                                           'adapters'))

    def guest_inspect_stats(self, userids):
        """Stats of one userid or a list of them, in one call."""
        api = 'guest_inspect_stats'
        userids = validate.userid_list(api, userids)
        return self._call(api, 'GET', '/guests/stats',
                          params={'userid': ','.join(userids)})

    def guest_inspect_vnics(self, userids):
        api = 'guest_inspect_vnics'
        userids = validate.userid_list(api, userids)
        return self._call(api, 'GET', '/guests/interfacestats',
                          params={'userid': ','.join(userids)})

    # Power.

    # A timeout asks the connector to wait that long before it answers:
    # the HTTP read timeout must cover it, or the call fails while the
    # guest is still shutting down cleanly.

    def guest_start(self, userid, timeout=None):
        return self._action('guest_start', userid, 'start',
                            base.given(timeout=timeout), wait=timeout)

    def guest_stop(self, userid, timeout=None, poll_interval=None):
        return self._action('guest_stop', userid, 'stop',
                            base.given(timeout=timeout,
                                       poll_interval=poll_interval),
                            wait=_waits(timeout, poll_interval))

    def guest_softstop(self, userid, timeout=None, poll_interval=None):
        return self._action('guest_softstop', userid, 'softstop',
                            base.given(timeout=timeout,
                                       poll_interval=poll_interval),
                            wait=_waits(timeout, poll_interval))

    def guest_reboot(self, userid):
        return self._action('guest_reboot', userid, 'reboot')

    def guest_reset(self, userid):
        return self._action('guest_reset', userid, 'reset')

    def guest_pause(self, userid):
        return self._action('guest_pause', userid, 'pause')

    def guest_unpause(self, userid):
        return self._action('guest_unpause', userid, 'unpause')

    def guest_get_console_output(self, userid):
        return self._action('guest_get_console_output', userid,
                            'get_console_output')

    # Images in and out of guests: long, and limited by the connector.

    def guest_deploy(self, userid, image_name, transportfiles=None,
                     remotehost=None, vdev=None, hostname=None,
                     skipdiskcopy=None):
        api = 'guest_deploy'
        fields = {'image': validate.image_name(api, image_name)}
        if vdev is not None:
            validate.vdev(api, vdev)
        fields.update(base.given(transportfiles=transportfiles,
                                 remotehost=remotehost, vdev=vdev,
                                 hostname=hostname,
                                 skipdiskcopy=skipdiskcopy))
        # A 503 here is the connector's deploy/capture limit, answered
        # before anything is done: safe to retry.
        return self._action(api, userid, 'deploy', fields,
                            long_running=True, busy_retry=True)

    def guest_capture(self, userid, image_name, capture_type=None,
                      compress_level=None):
        api = 'guest_capture'
        fields = {'image': validate.image_name(api, image_name)}
        fields.update(base.given(capture_type=capture_type,
                                 compress_level=compress_level))
        return self._action(api, userid, 'capture', fields,
                            long_running=True, busy_retry=True)

    # Resize and migration.

    def guest_resize_cpus(self, userid, cpu_cnt):
        return self._action('guest_resize_cpus', userid, 'resize_cpus',
                            {'cpu_cnt': cpu_cnt})

    def guest_live_resize_cpus(self, userid, cpu_cnt):
        return self._action('guest_live_resize_cpus', userid,
                            'live_resize_cpus', {'cpu_cnt': cpu_cnt})

    def guest_resize_mem(self, userid, size):
        return self._action('guest_resize_mem', userid, 'resize_mem',
                            {'size': size})

    def guest_live_resize_mem(self, userid, size):
        return self._action('guest_live_resize_mem', userid,
                            'live_resize_mem', {'size': size})

    def guest_grow_root_volume(self, userid, os_version):
        return self._action('guest_grow_root_volume', userid,
                            'grow_root_volume', {'os_version': os_version})

    def guest_live_migrate(self, userid, dest_zcc_userid, destination, parms,
                           lgr_action):
        api = 'guest_live_migrate'
        return self._action(api, userid, 'live_migrate_vm',
                            {'dest_zcc_userid': dest_zcc_userid,
                             'destination': destination, 'parms': parms,
                             'operation': lgr_action},
                            long_running=True)

    def guest_register(self, userid, meta, net_set, port_macs=None):
        fields = {'meta': meta, 'net_set': net_set}
        fields.update(base.given(port_macs=port_macs))
        return self._action('guest_register', userid, 'register_vm', fields)

    def guest_deregister(self, userid):
        return self._action('guest_deregister', userid, 'deregister_vm')

    # Disks.

    def guest_create_disks(self, userid, disk_list):
        api = 'guest_create_disks'
        return self._call(api, 'POST',
                          self._guest_path(api, userid, 'disks'),
                          json_body={'disk_info': {'disk_list': disk_list}})

    def guest_delete_disks(self, userid, disk_vdev_list):
        api = 'guest_delete_disks'
        for vdev in disk_vdev_list:
            validate.vdev(api, vdev)
        return self._call(
            api, 'DELETE', self._guest_path(api, userid, 'disks'),
            json_body={'vdev_info': {'vdev_list': list(disk_vdev_list)}})

    def guest_config_minidisks(self, userid, disk_info):
        api = 'guest_config_minidisks'
        return self._call(api, 'PUT',
                          self._guest_path(api, userid, 'disks'),
                          json_body={'disk_info': {'disk_list': disk_info}})

    def _action(self, api, userid, action, fields=None, long_running=False,
                busy_retry=None, wait=None):
        body = {'action': action}
        body.update(fields or {})
        return self._call(api, 'POST',
                          self._guest_path(api, userid, 'action'),
                          json_body=body, long_running=long_running,
                          busy_retry=busy_retry, wait=wait)


def _waits(timeout, poll_interval):
    """Longest the connector waits: the timeout plus one last poll."""
    if not timeout:
        return None
    return timeout + (poll_interval or 0)
