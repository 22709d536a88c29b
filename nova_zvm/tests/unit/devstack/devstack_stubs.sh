#!/bin/bash
#
# Stand-ins for the devstack functions nova-zvm's devstack/plugin.sh
# calls, for nova_zvm/tests/unit/devstack. Each records what it was asked
# to do: calls in $STUB_LOG (one line each), running services in
# $STUB_SERVICES (one name a line), and iniset writes a real ini file.
#
# Needs: STUB_LOG, STUB_SERVICES, STUB_PYTHON (a python3 interpreter).

function _stub_record {
    echo "$*" >> "$STUB_LOG"
}

# iniset [-sudo] config-file section option value
function iniset {
    if [[ "$1" == "-sudo" ]]; then
        shift
    fi
    _stub_record iniset "$@"
    "$STUB_PYTHON" -I -S - "$@" <<'PYEOF'
import configparser
import sys

path, section, option, value = sys.argv[1:5]
# No special DEFAULT section and no interpolation: store what is given.
conf = configparser.RawConfigParser(default_section='\x00')
conf.optionxform = str
conf.read(path)
if not conf.has_section(section):
    conf.add_section(section)
conf.set(section, option, value)
with open(path, 'w') as f:
    conf.write(f)
PYEOF
}

# iniget config-file section option: the value, or nothing
function iniget {
    "$STUB_PYTHON" -I -S - "$@" <<'PYEOF'
import configparser
import sys

path, section, option = sys.argv[1:4]
conf = configparser.RawConfigParser(default_section='\x00')
conf.read(path)
if conf.has_option(section, option):
    print(conf.get(section, option))
PYEOF
}

# As devstack's: a service name, or "nova"/"glance"/"neutron" for any of
# their n-*/g-*/q-* services.
function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
        case "$service" in
            nova) [[ ",$ENABLED_SERVICES" == *",n-"* ]] && return 0 ;;
            glance) [[ ",$ENABLED_SERVICES" == *",g-"* ]] && return 0 ;;
            neutron) [[ ",$ENABLED_SERVICES" == *",q-"* ]] && return 0 ;;
        esac
    done
    return 1
}

function enable_service {
    local service
    for service in "$@"; do
        if ! is_service_enabled "$service"; then
            ENABLED_SERVICES+=",$service"
        fi
    done
}

# trueorfalse default varname: devstack's reading of a boolean variable.
function trueorfalse {
    local default=$1
    local value=${!2:-}
    case "$value" in
        1|[yY]|[yY]es|YES|[tT]rue|TRUE|[oO]n|ON) echo True ;;
        0|[nN]|[nN]o|NO|[fF]alse|FALSE|[oO]ff|OFF) echo False ;;
        *) echo "$default" ;;
    esac
}

function define_plugin {
    _stub_record define_plugin "$@"
}

function setup_develop {
    _stub_record setup_develop "$@"
}

function install_package {
    _stub_record install_package "$@"
}

function get_python_exec_prefix {
    echo "${STUB_EXEC_PREFIX:-/usr/local/bin}"
}

# run_process service command [group] [user]
function run_process {
    _stub_record run_process "$1" "$2"
    if is_service_enabled "$1"; then
        echo "$1" >> "$STUB_SERVICES"
    fi
}

function stop_process {
    _stub_record stop_process "$1"
    if [[ -f "$STUB_SERVICES" ]]; then
        grep -v -x -F "$1" "$STUB_SERVICES" > "$STUB_SERVICES.new" || true
        mv "$STUB_SERVICES.new" "$STUB_SERVICES"
    fi
}

function openstack {
    _stub_record openstack "$@"
}

# wait_for_service timeout url: answers ${STUB_WAIT_RC:-0}.
function wait_for_service {
    _stub_record wait_for_service "$@"
    return "${STUB_WAIT_RC:-0}"
}

function echo_summary {
    echo "summary: $*"
}

function die {
    local line=$1
    shift
    echo "die at line $line: $*" >&2
    exit 1
}

# What stack.sh and devstack's lib/nova and lib/neutron do around the
# plugin, reduced to what decides the hypervisor and writes nova's
# configuration (devstack: stackrc, lib/nova, lib/neutron, stack.sh).

# stackrc, read before the override_defaults phase.
function devstack_stackrc {
    VIRT_DRIVER=${VIRT_DRIVER:-libvirt}
    INSTANCE_NAME_PREFIX=${INSTANCE_NAME_PREFIX:-instance-}
}

# lib/nova and lib/neutron, sourced after the override_defaults phase.
function devstack_lib_defaults {
    FORCE_CONFIG_DRIVE=${FORCE_CONFIG_DRIVE:-False}
    VIF_PLUGGING_IS_FATAL=${VIF_PLUGGING_IS_FATAL:-True}
    VIF_PLUGGING_TIMEOUT=${VIF_PLUGGING_TIMEOUT:-300}
    if is_service_enabled nova && [[ "$VIRT_DRIVER" == "libvirt" ]]; then
        # lib/nova sources lib/nova_plugins/hypervisor-$VIRT_DRIVER.
        _stub_record hypervisor_plugin "$VIRT_DRIVER"
    fi
}

# lib/nova's configure_nova and create_nova_conf: before post-config.
function devstack_configure_nova {
    if ! is_service_enabled nova; then
        return 0
    fi
    iniset "$NOVA_CONF" DEFAULT instance_name_template \
        "${INSTANCE_NAME_PREFIX}%08x"
    if [[ "$FORCE_CONFIG_DRIVE" != "False" ]]; then
        iniset "$NOVA_CONF" DEFAULT force_config_drive "$FORCE_CONFIG_DRIVE"
    fi
    if [[ "$VIRT_DRIVER" == "libvirt" ]] && is_service_enabled n-cpu; then
        iniset "$NOVA_CONF" DEFAULT compute_driver libvirt.LibvirtDriver
    fi
}

# lib/neutron's configure_neutron_nova: stack.sh runs it asynchronously
# and waits for it only after the post-config phase, so it may write
# nova.conf after the plugin did.
function devstack_configure_neutron_nova {
    if ! is_service_enabled nova || ! is_service_enabled neutron; then
        return 0
    fi
    iniset "$NOVA_CONF" DEFAULT vif_plugging_is_fatal "$VIF_PLUGGING_IS_FATAL"
    iniset "$NOVA_CONF" DEFAULT vif_plugging_timeout "$VIF_PLUGGING_TIMEOUT"
}

# stack.sh's merge of local.conf's [[post-config|FILE]] sections, given
# here as STUB_POST_CONFIG_<NAME>: a file of ini text merged into FILE.
function devstack_merge_post_config {
    local conf=$1
    local overrides=$2
    if [[ -z "$overrides" || ! -f "$overrides" ]]; then
        return 0
    fi
    "$STUB_PYTHON" -I -S - "$conf" "$overrides" <<'PYEOF'
import configparser
import sys

path, overrides = sys.argv[1:3]
conf = configparser.RawConfigParser(default_section='\x00')
conf.optionxform = str
conf.read(path)
new = configparser.RawConfigParser(default_section='\x00')
new.optionxform = str
new.read(overrides)
for section in new.sections():
    if not conf.has_section(section):
        conf.add_section(section)
    for option, value in new.items(section):
        conf.set(section, option, value)
with open(path, 'w') as f:
    conf.write(f)
PYEOF
}

# lib/nova's start_nova_compute: nova-cpu.conf is nova.conf copied, then
# local.conf's [[post-config|$NOVA_CPU_CONF]] merged in.
function devstack_start_nova_compute {
    if ! is_service_enabled n-cpu; then
        return 0
    fi
    cp "$NOVA_CONF" "$NOVA_CPU_CONF"
    devstack_merge_post_config "$NOVA_CPU_CONF" "$STUB_POST_CONFIG_CPU"
    run_process n-cpu "nova-compute --config-file $NOVA_CPU_CONF"
}
