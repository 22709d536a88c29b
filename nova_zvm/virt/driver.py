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

"""ZVMDriver: nova's ComputeDriver API on top of the z/VM Cloud Connector.

A thin facade: every method hands its work to an ops module (``power``,
``host``, ``spawn``, ``snapshot``, ``imagecache``...) and
:func:`translate.translated` is the one place where the client's errors
become nova's exceptions.
"""

from nova.compute import power_state
from nova import exception as nova_exception
from nova.i18n import _
from nova.virt import driver
from nova.virt import hardware
from oslo_log import log as logging

from nova_zvm import client as zvm_client
from nova_zvm import conf
from nova_zvm.virt import diagnostics as zvm_diagnostics
from nova_zvm.virt import evacuate as zvm_evacuate
from nova_zvm.virt import events as zvm_events
from nova_zvm.virt import host as zvm_host
from nova_zvm.virt import image as zvm_image
from nova_zvm.virt import imagecache
from nova_zvm.virt import interfaces as zvm_interfaces
from nova_zvm.virt import live_migration as zvm_live_migration
from nova_zvm.virt import migration as zvm_migration
from nova_zvm.virt import ownership
from nova_zvm.virt import power as zvm_power
from nova_zvm.virt import snapshot as zvm_snapshot
from nova_zvm.virt import spawn as zvm_spawn
from nova_zvm.virt import startup
from nova_zvm.virt import translate
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import volumes as zvm_volumes

CONF = conf.CONF
LOG = logging.getLogger(__name__)

_translated = translate.translated
_drives_power = translate.drives_power


class ZVMDriver(driver.ComputeDriver):
    """nova-compute's driver for z/VM through the Cloud Connector."""

    capabilities = dict(
        driver.ComputeDriver.capabilities,
        # The connector deploys raw disk images only.
        supports_image_type_raw=True,
        has_imagecache=True,
        # FCP volumes (see virt/volumes.py): one guest per volume, and the
        # connector can neither grow nor swap an attached LUN.
        supports_multiattach=False,
        supports_extend_volume=False,
        # Interfaces: attach to stopped guests, detach from any.
        supports_attach_interface=True,
        # Inside an SSI cluster the guest is recreated from the shared
        # directory, elsewhere rebuilt from its image.
        supports_evacuate=True,
    )

    def __init__(self, virtapi):
        super().__init__(virtapi)
        # Nothing reaches the connector before init_host.
        self._client = None
        self._power = None
        self._host_stats = None
        self._image_manager = None
        self._connector_ok = False
        # Set while nova-compute starts with the connector unreachable.
        self._starting_blind = False
        self._events = None

    # Start-up -------------------------------------------------------------

    def init_host(self, host):
        startup.validate_options()
        self._client = zvm_client.ZVMClient.from_conf(CONF)
        self._power = zvm_power.PowerOps(self._client)
        self._host_stats = zvm_host.HostStats(self._client)
        self._connector_ok = startup.check_connector(self._client)
        self._init_events()

    # Lifecycle events (virt/events.py): polled while nova listens ----------

    def _init_events(self):
        self._events = zvm_events.LifecyclePoller(self._power, self.emit_event)
        if self._compute_event_callback is not None:
            self._events.start()

    def register_event_listener(self, callback):
        super().register_event_listener(callback)
        if self._events is None:
            return      # init_host starts the poller
        if callback is None:
            self._events.stop()
        else:
            self._events.start()

    def cleanup_host(self, host):
        if self._events is not None:
            self._events.stop()
        # Nova-compute is stopping: its pooled connections to the connector
        # (and the connector's threads serving them) go now, not when the
        # process ends or the driver object is collected.
        if self._client is not None:
            self._client.close()

    def process_instances_at_startup(self, context, instances):
        if self._connector_ok or startup.check_connector(self._client):
            self._connector_ok = True
            startup.record_unrecorded(self._power, instances)
            return instances
        # Nova recovers these without the connector (ERROR for interrupted
        # builds and rebuilds, a reset for interrupted snapshots); the rest
        # need it and the power sync reconciles them once it answers.
        recoverable = [inst for inst in instances
                       if startup.recoverable_offline(inst)]
        LOG.warning('The z/VM Cloud Connector is not reachable: recovering '
                    '%(n)d of %(all)d instances whose start-up recovery '
                    'needs no connector call; the power sync reconciles '
                    'the rest once it answers',
                    {'n': len(recoverable), 'all': len(instances)})
        self._starting_blind = True
        return recoverable

    # Guests: state ---------------------------------------------------------

    @_translated()
    def get_info(self, instance, use_cache=True):
        try:
            return self._power.get_info(instance, use_cache=use_cache)
        except nova_exception.InvalidInput:
            # No valid userid: no such guest can exist on z/VM.
            raise nova_exception.InstanceNotFound(instance_id=instance.uuid)
        except translate.UNREACHABLE:
            if not self._starting_blind:
                raise
            # Nova's start-up recovery of an interrupted snapshot asks
            # after resetting it: unknown, the power sync tells later.
            return hardware.InstanceInfo(state=power_state.NOSTATE)

    @_translated(not_ready=True)
    def get_num_instances(self):
        return self._power.count()

    @_translated(not_ready=True)
    def list_instances(self):
        # Instance names come from instance_name_template; give back the
        # case it produces so that nova can match them.
        sample = startup.sample_names()[-1][1]
        lower = sample == sample.lower()
        return [u.lower() if lower else u
                for u in self._power.list_userids()]

    @_translated()
    def list_instance_uuids(self):
        # The guests this host recorded as its instances' (see
        # ownership): a local read plus the cached bulk guest list.
        try:
            userids = set(self._power.list_userids())
        except translate.UNREACHABLE as err:
            # Nova's new-host check calls this at start-up and does not
            # expect VirtDriverNotReady: keep nova-compute running.
            LOG.warning('Cannot list guests, the z/VM Cloud Connector is '
                        'not reachable: %s', err)
            return []
        records = ownership.OwnerRegistry().records()
        return sorted(uuid for userid, uuid in records.items()
                      if userid in userids)

    @_translated()
    def instance_exists(self, instance):
        try:
            return self._power.exists(instance)
        except nova_exception.InvalidInput:
            return False

    # Guests: lifecycle -----------------------------------------------------

    @_drives_power
    @_translated(guest_gone=False)
    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        try:
            zvm_spawn.spawn(self._client, self.virtapi, context, instance,
                            image_meta, injected_files, admin_password,
                            allocations, network_info,
                            block_device_info=block_device_info,
                            power_on=power_on, image_manager=self._images(),
                            volume_limit=self._volume_limit())
        except Exception:
            self._power.forget(instance)
            raise
        self._power.spawned(instance, power_on)

    @_drives_power
    @_translated()
    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        if self._keeps_guest(context, instance, network_info, destroy_disks):
            return
        gone = False
        try:
            gone = zvm_spawn.destroy(self._client, context, instance,
                                     network_info,
                                     block_device_info=block_device_info,
                                     destroy_disks=destroy_disks)
        finally:
            self._power.forget(instance, gone=gone)

    def cleanup(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, migrate_data=None, destroy_vifs=True,
                destroy_secrets=True):
        zvm_spawn.cleanup_local(instance)

    @_drives_power
    @_translated()
    def snapshot(self, context, instance, image_id, update_task_state):
        try:
            zvm_snapshot.snapshot(self._client, context, instance, image_id,
                                  update_task_state)
        finally:
            # The capture stops and restarts the guest.
            self._power.cache.invalidate(zvm_userid.for_instance(instance))

    # Resize and migration --------------------------------------------------

    @_drives_power
    @_translated()
    def migrate_disk_and_power_off(self, context, instance, dest, flavor,
                                   network_info, block_device_info=None,
                                   timeout=0, retry_interval=0):
        try:
            return zvm_migration.migrate_disk_and_power_off(
                self._client, self._power, context, instance, flavor,
                network_info, timeout=timeout, retry_interval=retry_interval)
        except (nova_exception.ResizeError,
                nova_exception.MigrationPreCheckError) as err:
            # Refused before the guest was touched: nova puts the server
            # back in its state and records the reason.
            LOG.error('Resize/migration refused: %s', err, instance=instance)
            raise nova_exception.InstanceFaultRollback(inner_exception=err)

    @_drives_power
    @_translated()
    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        zvm_migration.finish_migration(
            self._client, self._power, migration, instance, image_meta,
            network_info, power_on)

    def confirm_migration(self, context, migration, instance, network_info):
        # The source released the guest when it moved; a resize on one
        # host left nothing behind.
        pass

    @_drives_power
    @_translated()
    def finish_revert_migration(self, context, instance, network_info,
                                migration, block_device_info=None,
                                power_on=True, share_info=None):
        zvm_migration.finish_revert_migration(
            self._client, self._power, migration, instance, network_info,
            power_on)

    def _keeps_guest(self, context, instance, network_info, destroy_disks):
        """destroy() that must not delete the shared directory entry.

        A revert's destroy at the destination (the source starts the same
        guest again), or destroy_disks=False (the entry is shared with the
        member that has the guest now, e.g. after an evacuation).
        """
        if zvm_migration.is_revert_at_destination(instance):
            zvm_migration.revert_at_destination(
                self._client, self._power, context, instance, network_info)
        elif not destroy_disks:
            zvm_migration.release(self._client, self._power, instance,
                                  network_info)
            zvm_spawn.cleanup_local(instance)
        else:
            return False
        return True

    @_translated()
    def check_instance_shared_storage_local(self, context, instance):
        return zvm_migration.shared_directory_data(
            self._client, self._host_stats.nodename())

    @_translated()
    def check_instance_shared_storage_remote(self, context, data):
        return zvm_migration.shares_directory(
            self._client, self._host_stats.nodename(), data)

    def check_instance_shared_storage_cleanup(self, context, data):
        pass

    @_translated()
    def instance_on_disk(self, instance):
        return zvm_evacuate.instance_on_disk(self._client, instance)

    @_drives_power
    @_translated()
    def rebuild(self, context, instance, image_meta, injected_files,
                admin_password, allocations, bdms, detach_block_devices,
                attach_block_devices, network_info=None, evacuate=False,
                block_device_info=None, preserve_ephemeral=False,
                accel_uuids=None, reimage_boot_volume=False):
        if not (evacuate and
                zvm_evacuate.instance_on_disk(self._client, instance)):
            # nova's own rebuild: destroy, then spawn from the image.
            raise NotImplementedError()
        zvm_evacuate.recreate(self._client, self._power, context, instance,
                              image_meta, bdms, detach_block_devices,
                              attach_block_devices, network_info)

    # Guests: power ---------------------------------------------------------

    @_translated()
    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        LOG.info('Rebooting (%s)', reboot_type, instance=instance)
        self._power.reboot(instance, reboot_type)

    @_translated()
    def power_off(self, instance, timeout=0, retry_interval=0):
        LOG.info('Powering off (clean shutdown timeout %ss)', timeout,
                 instance=instance)
        self._power.power_off(instance, timeout=timeout,
                              retry_interval=retry_interval)

    @_translated()
    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        LOG.info('Powering on', instance=instance)
        self._power.power_on(instance)

    @_translated()
    def pause(self, instance):
        LOG.info('Pausing', instance=instance)
        self._power.pause(instance)

    @_translated()
    def unpause(self, instance):
        LOG.info('Unpausing', instance=instance)
        self._power.unpause(instance)

    @_translated()
    def get_console_output(self, context, instance):
        output = self._client.guest_get_console_output(
            zvm_userid.for_instance(instance)) or ''
        if isinstance(output, str):
            output = output.encode('utf-8', 'replace')
        # The newest lines are the interesting ones.
        return output[-CONF.zvm.console_log_max_bytes:]

    @_translated()
    def get_instance_diagnostics(self, instance):
        return zvm_diagnostics.instance_diagnostics(
            self._client, instance, paused=self._is_paused(instance))

    @_translated()
    def get_diagnostics(self, instance):
        return zvm_diagnostics.diagnostics(
            self._client, instance, paused=self._is_paused(instance))

    def _is_paused(self, instance):
        return zvm_userid.for_instance(instance) in self._power.paused

    # Interfaces ------------------------------------------------------------

    @_translated()
    def attach_interface(self, context, instance, image_meta, vif):
        zvm_interfaces.attach_interface(self._client, instance, image_meta,
                                        vif)

    @_translated()
    def detach_interface(self, context, instance, vif):
        zvm_interfaces.detach_interface(self._client, instance, vif)

    # Live migration --------------------------------------------------------

    @_translated()
    def check_can_live_migrate_destination(self, context, instance,
                                           src_compute_info, dst_compute_info,
                                           block_migration=False,
                                           disk_over_commit=False):
        return zvm_live_migration.check_destination(
            self._client, instance, src_compute_info, dst_compute_info,
            block_migration=block_migration)

    def cleanup_live_migration_destination_check(self, context,
                                                 dest_check_data):
        pass

    @_translated()
    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data, block_device_info=None):
        return zvm_live_migration.check_source(
            self._client, instance, dest_check_data, block_device_info)

    @_translated()
    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        return zvm_live_migration.pre_live_migration(
            self._client, instance, network_info, migrate_data)

    @_drives_power
    @_translated()
    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        zvm_live_migration.live_migrate(
            self._client, self._power, context, instance, dest, post_method,
            recover_method, block_migration, migrate_data)

    def post_live_migration_at_source(self, context, instance, network_info):
        # The NICs moved with the guest; live_migration released it here.
        pass

    @_drives_power
    @_translated()
    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        zvm_live_migration.adopt(self._client, instance, network_info)
        self._power.forget(instance)

    @_drives_power
    @_translated()
    def rollback_live_migration_at_destination(self, context, instance,
                                               network_info,
                                               block_device_info,
                                               destroy_disks=True,
                                               migrate_data=None):
        # Never deletes anything: the guest (shared) runs at the source.
        zvm_live_migration.rollback_at_destination(self._client, instance)
        self._power.forget(instance)

    # Host ------------------------------------------------------------------

    @_translated(not_ready=True)
    def get_available_nodes(self, refresh=False):
        # Nova's start-up (init_host, instance recovery) is over.
        self._starting_blind = False
        self._require_host_stats()
        return [self._host_stats.nodename()]

    @_translated(not_ready=True)
    def get_available_resource(self, nodename):
        self._require_host_stats()
        return zvm_host.available_resource(self._host_stats.get())

    @_translated(not_ready=True)
    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        self._require_host_stats()
        stats = self._host_stats.get()
        inventory = provider_tree.data(nodename).inventory
        ratios = self._get_allocation_ratios(inventory)
        provider_tree.update_inventory(
            nodename, zvm_host.inventory(stats, ratios))
        provider_tree.add_traits(nodename, *zvm_host.TRAITS)

    @_translated()
    def get_host_uptime(self):
        self._require_host_stats()
        return zvm_host.uptime(self._host_stats.get())

    def get_host_ip_addr(self):
        return CONF.my_ip

    def _volume_limit(self):
        """The largest minidisk the disk pool can place, if known."""
        return self._host_stats.disk_limit() if self._host_stats else None

    def _require_host_stats(self):
        if self._host_stats is None:
            raise nova_exception.VirtDriverNotReady()

    # Images ----------------------------------------------------------------

    def _images(self):
        if self._image_manager is None:
            self._image_manager = zvm_image.ImageManager(self._client)
        return self._image_manager

    @_translated()
    def manage_image_cache(self, context, all_instances):
        imagecache.manage_image_cache(self._client, self._images(), context,
                                      all_instances)

    @_translated()
    def cache_image(self, context, image_id):
        return imagecache.cache_image(self._client, self._images(), context,
                                      image_id)

    # Volumes ---------------------------------------------------------------

    _volume_ops = None

    def _volumes(self):
        if self._volume_ops is None:
            self._volume_ops = zvm_volumes.VolumeOps(self._client)
        return self._volume_ops

    @_translated()
    def get_volume_connector(self, instance):
        return self._volumes().connector(instance)

    @_translated()
    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        self._volumes().attach(instance, connection_info, mountpoint,
                               encryption=encryption)

    @_translated()
    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        self._volumes().detach(instance, connection_info, mountpoint,
                               encryption=encryption)

    def swap_volume(self, context, old_connection_info, new_connection_info,
                    instance, mountpoint, resize_to):
        raise NotImplementedError(_('z/VM FCP volumes cannot be swapped: '
                                    'detach the volume and attach the '
                                    'other one'))

    def extend_volume(self, context, connection_info, instance,
                      requested_size):
        raise nova_exception.ExtendVolumeNotSupported()
