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
    "$STUB_PYTHON" - "$@" <<'PYEOF'
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

function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
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
