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

"""Which nova instance a z/VM guest belongs to.

A guest's userid comes from nova's instance name, so two nova databases
(a rebuilt one whose ids restart, a second region on the same connector)
can name two instances alike. Before the driver deletes a guest it checks
that the guest is the instance's:

* A record, one file per userid under ``<instances_path>/nova-zvm/owners``
  holding the instance's uuid, is written before ``guest_create`` and
  removed when the guest is deleted. A record naming another uuid means
  the guest is someone else's.
* Without a record (a guest made by nova's in-tree z/VM driver, by an
  older nova-zvm, or on another compute host), the guest is the instance's
  only if nova launched the instance (``launched_at`` set): a launched
  instance's build created the guest, while a failed build (nova destroys
  those) found the userid taken. Such a guest is adopted: its record is
  written.

The Cloud Connector 1.6.3 cannot keep the uuid with the guest: its REST
handler of ``guest_create`` drops the ``comments`` field and no other call
writes data a later call reads back.
"""

from oslo_log import log as logging

from nova_zvm import conf
from nova_zvm.virt import records

CONF = conf.CONF
LOG = logging.getLogger(__name__)

OWNED = 'owned'
FOREIGN = 'foreign'


class OwnerRegistry(object):
    """Userid -> instance uuid records of the guests this host created."""

    def __init__(self, path=None):
        self._records = records.UseridRecords('owners', path=path)

    @property
    def path(self):
        return self._records.path

    def get(self, userid):
        """The uuid recorded for ``userid``, or None."""
        return self._records.read(userid) or None

    def set(self, userid, uuid):
        self._records.write(userid, uuid)

    def discard(self, userid, uuid=None):
        """Remove the record (only if it names ``uuid``, when given)."""
        self._records.remove(userid, only_if=uuid)

    def records(self):
        """``{USERID: uuid}`` of every record."""
        found = {}
        for userid in self._records.userids():
            uuid = self.get(userid)
            if uuid:
                found[userid] = uuid
        return found

    def check(self, instance, userid):
        """OWNED or FOREIGN: may ``instance`` delete guest ``userid``?"""
        recorded = self.get(userid)
        if recorded is not None:
            return OWNED if recorded == instance.uuid else FOREIGN
        if _launched(instance):
            self.adopt(instance, userid)
            return OWNED
        return FOREIGN

    def adopt(self, instance, userid):
        """Record a launched instance's guest made without a record."""
        if self.get(userid) is None:
            LOG.info('Recording guest %s as this instance\'s (created '
                     'before ownership records)', userid, instance=instance)
            self.set(userid, instance.uuid)


def _launched(instance):
    # Not loaded (never, for instances nova-compute hands over): not known.
    return bool(instance.obj_attr_is_set('launched_at') and
                instance.launched_at)


def refuse(instance, userid):
    LOG.error('Not deleting guest %(user)s: it is not the guest of this '
              'instance (%(uuid)s): its ownership record names another '
              'instance, or it has none and this instance was never '
              'launched. Remove the guest by hand if it is really unused.',
              {'user': userid, 'uuid': instance.uuid}, instance=instance)
