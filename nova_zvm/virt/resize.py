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

"""Resize: a flavor's CPU and memory shape in a stopped guest's entry.

The Cloud Connector changes the directory entry of a stopped guest
(``resize_cpus``, ``resize_mem``) up to the entry's maximums (``MACHINE
ESA n`` and the USER statement's maximum storage, set at spawn from
``[zvm] max_guest_vcpus`` / ``max_guest_memory_mb``). It has no call that
grows or shrinks a minidisk, so a flavor that changes the root or
ephemeral disk is refused, like a shape above the maximums, before the
guest is touched.
"""

from nova import exception as nova_exception
from nova.i18n import _
from oslo_log import log as logging

from nova_zvm.virt import userid as zvm_userid

LOG = logging.getLogger(__name__)

_UNITS_MB = {'K': 1.0 / 1024, 'M': 1, 'G': 1024, 'T': 1024 * 1024}


def _refuse(reason):
    return nova_exception.ResizeError(reason=reason)


def check_disks(instance, new_flavor):
    """Refuse a flavor whose root or ephemeral disk differs."""
    old = instance.flavor
    for field, what in (('root_gb', 'root disk'),
                        ('ephemeral_gb', 'ephemeral disk')):
        if getattr(old, field) != getattr(new_flavor, field):
            raise _refuse(_(
                'flavor %(new)s has a %(what)s of %(n)s GB, this server '
                '%(o)s GB: z/VM minidisks cannot be resized (the Cloud '
                'Connector has no call that grows or shrinks one); choose '
                'a flavor with the same %(what)s size')
                % {'new': new_flavor.name, 'what': what,
                   'n': getattr(new_flavor, field),
                   'o': getattr(old, field)})


def _memory_mb(text):
    text = text.strip().upper()
    return int(float(text[:-1]) * _UNITS_MB[text[-1]])


def entry_limits(client, userid):
    """``(max_vcpus, max_memory_mb)`` of the guest's directory entry.

    Either is None when the entry does not state it.
    """
    lines = (client.guest_get_user_direct(userid) or {}).get(
        'user_direct', [])
    max_vcpus = max_mem = None
    for line in lines:
        words = line.upper().split()
        if words[:1] == ['USER'] and len(words) >= 5:
            max_mem = _memory_mb(words[4])
        elif words[:2] == ['MACHINE', 'ESA'] and len(words) >= 3:
            max_vcpus = int(words[2])
    return max_vcpus, max_mem


def check_limits(client, instance, new_flavor):
    """Refuse a shape beyond the entry's maximums.

    The connector would answer 409, after the guest was stopped.
    """
    userid = zvm_userid.for_instance(instance)
    max_vcpus, max_mem = entry_limits(client, userid)
    if max_vcpus is not None and new_flavor.vcpus > max_vcpus:
        raise _refuse(_(
            'flavor %s has %d vCPUs, guest %s can have at most %d (its '
            'directory entry\'s MACHINE statement, from [zvm] '
            'max_guest_vcpus when it was spawned)')
            % (new_flavor.name, new_flavor.vcpus, userid, max_vcpus))
    if max_mem is not None and new_flavor.memory_mb > max_mem:
        raise _refuse(_(
            'flavor %s has %d MB of memory, guest %s can have at most %d MB '
            '(its directory entry\'s maximum storage, from [zvm] '
            'max_guest_memory_mb when it was spawned)')
            % (new_flavor.name, new_flavor.memory_mb, userid, max_mem))
    memory_size(new_flavor)


def memory_size(flavor):
    """The connector's memory notation (1-4 digits and M or G), exact."""
    mb = flavor.memory_mb
    if mb <= 9999:
        return '%dM' % mb
    if mb % 1024 == 0 and mb // 1024 <= 9999:
        return '%dG' % (mb // 1024)
    raise _refuse(_('flavor %s has %d MB of memory: z/VM takes a memory '
                    'size of at most 9999 MB or a whole number of GB')
                  % (flavor.name, mb))


def check(client, instance, new_flavor):
    """Everything that can refuse ``new_flavor``, before any change."""
    check_disks(instance, new_flavor)
    check_limits(client, instance, new_flavor)


def apply_shape(client, instance, flavor):
    """Give the stopped guest ``flavor``'s vCPUs and memory."""
    userid = zvm_userid.for_instance(instance)
    LOG.info('Setting guest %(user)s to %(cpus)d vCPUs and %(mem)d MB '
             '(flavor %(flavor)s)',
             {'user': userid, 'cpus': flavor.vcpus, 'mem': flavor.memory_mb,
              'flavor': flavor.name}, instance=instance)
    client.guest_resize_cpus(userid, flavor.vcpus)
    client.guest_resize_mem(userid, memory_size(flavor))
