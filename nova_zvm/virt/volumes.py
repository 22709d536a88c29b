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

"""FCP volumes: the guest's FC connector, attach, detach, release.

A guest with volumes owns one FCP device per path of the FCP template
(``[zvm] fcp_template`` or the connector's default): the connector
reserves them for the guest's userid on the first ``get_volume_connector``
and hands the same ones back on every later call, so the NPIV WWPNs Cinder
maps LUNs to stay those the guest uses. The reservation ends when the
guest's last volume is detached, when an attach fails with no other volume
on the devices, and when the guest is destroyed (zvmsdk 1.6.3 does not
release FCP records when it deletes a guest).

The connector's own traps (facts.md): ``reserve`` must be a JSON bool (the
string "false" is truthy there), ``multipath`` the string "true"/"false",
and a template with no free device answers 200 with an empty ``zvm_fcp``.
"""

from nova import exception as nova_exception
from nova.i18n import _
from oslo_log import log as logging
from oslo_utils import excutils

from nova_zvm import conf
from nova_zvm import exception as zvm_exception
from nova_zvm.virt import userid as zvm_userid
from nova_zvm.virt import validate

CONF = conf.CONF
LOG = logging.getLogger(__name__)

FIBRE_CHANNEL = 'fibre_channel'


class NoFreeFCP(nova_exception.NovaException):
    msg_fmt = _("No free FCP device on every path of FCP template "
                "%(template)s for guest %(guest)s: add FCP devices to the "
                "template (its fcp_devices) on the z/VM Cloud Connector, "
                "detach volumes of other guests, or set [zvm] fcp_template "
                "to a template with free devices")


class NoFCPTemplate(nova_exception.NovaException):
    msg_fmt = _("%(reason)s: create an FCP template on the z/VM Cloud "
                "Connector (POST /volumes/fcptemplates) and name it in "
                "[zvm] fcp_template, or make one the host default")


class UnsupportedVolume(nova_exception.Invalid):
    msg_fmt = _("Volume %(volume_id)s cannot be attached to a z/VM guest: "
                "%(reason)s")


def _wwpn(text):
    text = str(text).strip().lower()
    return text[2:] if text.startswith('0x') else text


def fcp_lun(lun):
    """A SCSI LUN number as z/VM writes it: 16 hex digits, ``0x``-prefixed.

    Cinder hands out LUN numbers (1, 2, ...); z/VM and the guest address
    LUNs by their 8-byte SAM form: peripheral addressing below 256, flat
    space addressing (0x40 in the first byte) up to 16383.
    """
    if isinstance(lun, str):
        text = _wwpn(lun)
        if len(text) > 4:
            return '0x' + text.rjust(16, '0')
        lun = int(text, 16) if lun.lower().startswith('0x') else int(text)
    lun = int(lun)
    if not 0 <= lun < 0x4000:
        raise ValueError('LUN %d is out of the range z/VM can address' % lun)
    return '0x%04x000000000000' % (lun if lun < 256 else 0x4000 | lun)


def fc_target(connection_info):
    """``(target WWPNs, LUN)`` of a fibre_channel connection, every path.

    :raises UnsupportedVolume: another volume type, a multiattach volume,
        or paths that reach the volume under different LUNs
    """
    volume_id = connection_info.get('serial') or '-'
    kind = connection_info.get('driver_volume_type')
    if kind != FIBRE_CHANNEL:
        raise UnsupportedVolume(
            volume_id=volume_id,
            reason='its type is %s; z/VM guests reach volumes over FCP only '
                   '(driver_volume_type fibre_channel)' % kind)
    if connection_info.get('multiattach'):
        raise UnsupportedVolume(
            volume_id=volume_id,
            reason='it is a multiattach volume; a z/VM guest owns its FCP '
                   'devices, so a volume cannot be shared between guests')
    data = connection_info.get('data') or {}
    wwns = data.get('target_wwns') or data.get('target_wwn') or []
    luns = data.get('target_luns') or [data.get('target_lun')]
    if isinstance(wwns, str):
        wwns = [wwns]
    if not isinstance(luns, list):
        luns = [luns]
    wwpns = []
    for wwn in wwns:
        if _wwpn(wwn) not in wwpns:
            wwpns.append(_wwpn(wwn))
    found = {fcp_lun(lun) for lun in luns if lun is not None}
    if not wwpns or len(found) != 1:
        raise UnsupportedVolume(
            volume_id=volume_id,
            reason='its connection names %s target WWPN(s) and LUN(s) %s; '
                   'the z/VM Cloud Connector needs target WWPNs and one LUN '
                   'shared by all paths' % (len(wwpns), sorted(found)))
    return wwpns, found.pop()


def check_encryption(connection_info, encryption):
    if encryption and encryption.get('provider'):
        raise nova_exception.VolumeEncryptionNotSupported(
            volume_type=connection_info.get('driver_volume_type'),
            volume_id=connection_info.get('serial') or '-')


class VolumeOps(object):
    """FCP volumes of the guests of one Cloud Connector."""

    def __init__(self, client):
        self._client = client
        self._template_id = None

    # The FCP template -----------------------------------------------------

    def template_id(self):
        """The id of ``[zvm] fcp_template`` (id or name) or the default."""
        if self._template_id is None:
            self._template_id = self._find_template()
        return self._template_id

    def _find_template(self):
        out = self._client.get_fcp_templates() or {}
        templates = out.get('fcp_templates') or []
        wanted = CONF.zvm.fcp_template
        if wanted:
            for template in templates:
                if wanted in (template.get('id'), template.get('name')):
                    return template['id']
            raise NoFCPTemplate(
                reason='[zvm] fcp_template = %s is not an FCP template of '
                       'the z/VM Cloud Connector (it has: %s)' % (
                           wanted, ', '.join(sorted(
                               str(t.get('name')) for t in templates))
                           or 'none'))
        for template in templates:
            if template.get('is_default') or template.get('host_default'):
                return template['id']
        raise NoFCPTemplate(reason='[zvm] fcp_template is not set and the '
                                   'z/VM Cloud Connector has no default FCP '
                                   'template')

    # The connector --------------------------------------------------------

    def _reserve(self, userid, instance):
        template = self.template_id()
        out = self._client.get_volume_connector(
            userid, reserve=True, fcp_template_id=template) or {}
        if not out.get('zvm_fcp'):
            # The connector answers 200 and reserves nothing.
            raise NoFreeFCP(template=CONF.zvm.fcp_template or template,
                            guest=userid)
        return out

    def connector(self, instance):
        """The FC connector of the instance's guest, for Cinder.

        Reserves the guest's FCP devices on the first call; later calls
        return the same devices and reserve nothing more.
        """
        userid = zvm_userid.for_instance(instance)
        out = self._reserve(userid, instance)
        wwpns = [_wwpn(w) for w in out.get('wwpns') or []]
        return {
            'host': out.get('host') or CONF.host,
            'ip': CONF.my_ip,
            'initiator': None,
            'wwpns': wwpns,
            # NPIV ports have no node names of their own on z/VM.
            'wwnns': [],
            'multipath': len(wwpns) > 1,
            'platform': 's390x',
            'os_type': 'linux2',
            'do_local_attach': False,
            'zvm_fcp': [f.lower() for f in out['zvm_fcp']],
            'phy_to_virt_initiators': out.get('phy_to_virt_initiators'),
            'fcp_paths': out.get('fcp_paths'),
            'fcp_template_id': out.get('fcp_template_id'),
        }

    def release(self, userid):
        """Unreserve the guest's FCP devices that carry no volume.

        :returns: the FCP devices the guest had reserved before
        """
        out = self._client.get_volume_connector(
            userid, reserve=False, fcp_template_id=self.template_id()) or {}
        return [f.lower() for f in out.get('zvm_fcp') or []]

    # Attach and detach ----------------------------------------------------

    def _connection(self, instance, userid, fcps, connection_info,
                    mountpoint):
        wwpns, lun = fc_target(connection_info)
        return {
            'assigner_id': userid,
            'zvm_fcp': fcps,
            'target_wwpn': ['0x' + w for w in wwpns],
            'target_lun': lun,
            'os_version': validate.connector_os_version(instance.image_meta),
            # The connector calls .lower() on it: a string, not a bool.
            'multipath': 'true' if len(fcps) > 1 else 'false',
            'mount_point': mountpoint,
            'is_root_volume': False,
        }

    def attach(self, instance, connection_info, mountpoint,
               encryption=None):
        userid = zvm_userid.for_instance(instance)
        try:
            check_encryption(connection_info, encryption)
            fc_target(connection_info)
        except nova_exception.Invalid:
            # Nova asked for the connector (which reserved the guest's
            # FCPs) before handing the volume over: release them unless
            # another volume uses them.
            with excutils.save_and_reraise_exception():
                self.release_quietly(userid, instance)
        out = self._reserve(userid, instance)
        fcps = [f.lower() for f in out['zvm_fcp']]
        body = self._connection(instance, userid, fcps, connection_info,
                                mountpoint)
        LOG.info('Attaching volume %(vol)s (LUN %(lun)s) at %(mp)s through '
                 'FCP %(fcps)s', {'vol': connection_info.get('serial'),
                                  'lun': body['target_lun'],
                                  'mp': mountpoint, 'fcps': ','.join(fcps)},
                 instance=instance)
        try:
            self._client.volume_attach(body)
        except zvm_exception.ZVMConnectorError as err:
            LOG.error('Attaching volume %(vol)s to %(guest)s failed: '
                      '%(err)s', {'vol': connection_info.get('serial'),
                                  'guest': userid, 'err': err},
                      instance=instance)
            # The connector undid its dedicate and connection count; the
            # reservation of devices with no other volume is ours to end.
            self.release_quietly(userid, instance)
            raise

    def detach(self, instance, connection_info, mountpoint, encryption=None):
        userid = zvm_userid.for_instance(instance)
        fcps = self._guest_fcps(connection_info, userid)
        if not fcps:
            LOG.warning('Volume %s has no FCP devices of guest %s: nothing '
                        'to detach on z/VM', connection_info.get('serial'),
                        userid, instance=instance)
            return
        body = self._connection(instance, userid, fcps, connection_info,
                                mountpoint)
        body['update_connections_only'] = False
        LOG.info('Detaching volume %(vol)s at %(mp)s from FCP %(fcps)s',
                 {'vol': connection_info.get('serial'), 'mp': mountpoint,
                  'fcps': ','.join(fcps)}, instance=instance)
        self._client.volume_detach(body)
        self.release(userid)

    def _guest_fcps(self, connection_info, userid):
        """The guest's FCP devices the volume was attached through."""
        # The reservation holds while a volume is attached: asking again
        # returns the same devices without reserving new ones. Asking
        # without reserving would also unreserve them.
        template = self.template_id()
        out = self._client.get_volume_connector(
            userid, reserve=True, fcp_template_id=template) or {}
        return [f.lower() for f in out.get('zvm_fcp') or []]

    def release_quietly(self, userid, instance):
        """``release``, logging a failure: for paths that raise already."""
        try:
            self.release(userid)
        except zvm_exception.ZVMConnectorError as err:
            LOG.warning('Could not release the FCP devices of %(guest)s: '
                        '%(err)s', {'guest': userid, 'err': err},
                        instance=instance)

    # Destroy --------------------------------------------------------------

    def release_guest(self, instance, userid):
        """End the deleted guest's FCP reservations and connections.

        The guest's directory entry, with its DEDICATE lines, is gone; the
        connector's records of its devices are not (zvmsdk 1.6.3 keeps
        them). Only records that name this userid are changed.
        """
        try:
            self.template_id()
        except NoFCPTemplate:
            # No template: no guest of this host can have FCP devices.
            return
        for fcp in self.release(userid):
            self._free_if_ours(fcp, userid, instance)

    def _free_if_ours(self, fcp, userid, instance):
        """Clear a record the deleted guest left with connections on it."""
        usage = self._client.get_fcp_usage(fcp) or []
        if len(usage) < 3 or str(usage[0]).upper() != userid.upper():
            return
        if usage[1] or usage[2]:
            LOG.info('Freeing FCP %(fcp)s of deleted guest %(guest)s '
                     '(reserved %(res)s, connections %(conn)s)',
                     {'fcp': fcp, 'guest': userid, 'res': usage[1],
                      'conn': usage[2]}, instance=instance)
            self._client.set_fcp_usage(fcp, userid, 0, 0, '')
