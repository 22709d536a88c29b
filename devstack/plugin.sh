#!/bin/bash
#
# devstack plugin for nova-zvm, the nova compute driver for IBM z/VM.
#
# Enable it in local.conf:
#
#   [[local|localrc]]
#   enable_plugin nova-zvm <git url of nova-zvm> [branch]
#
# devstack calls this file as "plugin.sh <mode> <phase>"; see
# devstack/README.rst for the variables (devstack/settings).

# Save trace setting
_XTRACE_NOVA_ZVM=$(set +o | grep xtrace)
set +o xtrace

ZVM_LAB_SERVICE=zvm-lab

# Set a nova option; an empty value is left unset so that the driver's own
# default applies.
#
# Only nova.conf is written: lib/nova's start_nova_compute makes
# nova-cpu.conf, the file nova-compute reads, by copying nova.conf (after
# the post-config phase) and merging local.conf's
# [[post-config|$NOVA_CPU_CONF]] into it, so that is where an operator
# overrides these for nova-compute alone.
function _zvm_iniset {
    local section=$1
    local option=$2
    local value=$3
    if [[ -z "$value" ]]; then
        return 0
    fi
    iniset "$NOVA_CONF" "$section" "$option" "$value"
}

function _zvm_lab_enabled {
    [[ "$ZVM_LAB" == "True" ]] && is_service_enabled $ZVM_LAB_SERVICE
}

function _zvm_lab_scheme {
    if [[ "$ZVM_LAB_TLS" == "True" ]]; then
        echo https
    else
        echo http
    fi
}

function _zvm_lab_url {
    echo "$(_zvm_lab_scheme)://$ZVM_LAB_HOST:$ZVM_LAB_PORT"
}

# The vswitch names of ZVM_VSWITCH_MAPPINGS ("physnet:VSW,...").
function _zvm_mapped_vswitches {
    local mapping
    local IFS=,
    for mapping in $ZVM_VSWITCH_MAPPINGS; do
        if [[ "$mapping" == *:* ]]; then
            echo "${mapping#*:}"
        fi
    done
}

# Point the connector variables at the lab unless the operator set them.
function _zvm_lab_defaults {
    ZVM_CLOUD_CONNECTOR_URL=${ZVM_CLOUD_CONNECTOR_URL:-$(_zvm_lab_url)}
    if [[ "$ZVM_LAB_AUTH" == "token" ]]; then
        ZVM_TOKEN_FILE=${ZVM_TOKEN_FILE:-$ZVM_LAB_STATE_DIR/etc/token.dat}
    fi
    if [[ "$ZVM_LAB_TLS" == "True" ]]; then
        ZVM_CA_FILE=${ZVM_CA_FILE:-$ZVM_LAB_STATE_DIR/etc/lab-cert.pem}
    fi
}

# The node runs nova-compute, neutron's API (the zvm mechanism driver) or
# the lab (which needs the driver's package).
function _zvm_installs_here {
    is_service_enabled n-cpu q-svc neutron-api || _zvm_lab_enabled
}

# install_nova_zvm() - install the driver (and the lab's extra with it)
function install_nova_zvm {
    if _zvm_lab_enabled; then
        setup_develop "$NOVA_ZVM_DIR" lab
    else
        setup_develop "$NOVA_ZVM_DIR"
    fi
    # nova-compute builds a config drive for every guest with genisoimage.
    if is_service_enabled n-cpu; then
        install_package genisoimage
    fi
}

# configure_nova_zvm_names() - instance names that are z/VM userids
#
# Every nova service derives instance names from the template (nova-api
# shows them, nova-compute names the guests by them), so it is set on
# every node that runs one. lib/nova's own ("instance-%08x") is too long.
function configure_nova_zvm_names {
    _zvm_iniset DEFAULT instance_name_template "$ZVM_INSTANCE_NAME_TEMPLATE"
}

# configure_nova_zvm() - the z/VM driver's options, for nova-compute
function configure_nova_zvm {
    if _zvm_lab_enabled; then
        _zvm_lab_defaults
    fi
    if [[ -z "$ZVM_CLOUD_CONNECTOR_URL" ]]; then
        die $LINENO "nova-zvm: set ZVM_CLOUD_CONNECTOR_URL" \
            "(or ZVM_LAB=True to run the lab)"
    fi

    # force_config_drive and, with the lab, the vif-plugging options come
    # from override-defaults through lib/nova and lib/neutron.
    _zvm_iniset DEFAULT compute_driver nova_zvm.ZVMDriver

    _zvm_iniset zvm cloud_connector_url "$ZVM_CLOUD_CONNECTOR_URL"
    _zvm_iniset zvm token_file "$ZVM_TOKEN_FILE"
    _zvm_iniset zvm ca_file "$ZVM_CA_FILE"
    if [[ "$ZVM_INSECURE" == "True" ]]; then
        _zvm_iniset zvm insecure True
    fi
    _zvm_iniset zvm vswitch_mappings "$ZVM_VSWITCH_MAPPINGS"
    _zvm_iniset zvm disk_pool "$ZVM_DISK_POOL"
    _zvm_iniset zvm user_profile "$ZVM_USER_PROFILE"
    _zvm_iniset zvm image_tmp_path "$ZVM_IMAGE_TMP_PATH"
    _zvm_iniset zvm reachable_timeout "$ZVM_REACHABLE_TIMEOUT"
    mkdir -p "$ZVM_IMAGE_TMP_PATH"
}

# configure_neutron_for_zvm() - the zvm ML2 mechanism driver in neutron
#
# Binds this host's ports on the physical networks of ZVM_VSWITCH_MAPPINGS
# with VIF type zvm, their VLAN in the binding, ACTIVE (no agent runs on a
# z/VM host); see doc/source/networking.rst. Runs where neutron's API
# server runs, in post-config (before neutron starts). ZVM_ML2_HOSTS: the
# nova-compute hosts to bind for (default: this host).
function configure_neutron_for_zvm {
    local conf=/$Q_PLUGIN_CONF_FILE
    local hosts=${ZVM_ML2_HOSTS:-$(iniget $NOVA_CPU_CONF DEFAULT host)}
    local physnets="" mapping drivers
    hosts=${hosts:-$HOSTNAME}
    for mapping in ${ZVM_VSWITCH_MAPPINGS//,/ }; do
        physnets+="${physnets:+,}${mapping%%:*}"
    done
    drivers=$(iniget $conf ml2 mechanism_drivers)
    if [[ ",$drivers," != *",zvm,"* ]]; then
        iniset $conf ml2 mechanism_drivers "${drivers:+$drivers,}zvm"
    fi
    iniset $conf ml2_zvm hosts "$hosts"
    iniset $conf ml2_zvm physical_networks "$physnets"
}

# start_zvm_lab() - run the lab as a devstack service and wait for it
function start_zvm_lab {
    local cmd
    local vswitch
    cmd="$(get_python_exec_prefix)/nova-zvm-lab"
    cmd+=" --host $ZVM_LAB_HOST --port $ZVM_LAB_PORT"
    cmd+=" --auth $ZVM_LAB_AUTH --state-dir $ZVM_LAB_STATE_DIR"
    cmd+=" --disk-pool $ZVM_DISK_POOL"
    for vswitch in $(_zvm_mapped_vswitches); do
        cmd+=" --vswitch $vswitch"
    done
    if [[ "$ZVM_LAB_TLS" == "True" ]]; then
        cmd+=" --tls"
    fi
    if [[ -n "$ZVM_LAB_LATENCY_PROFILE" ]]; then
        cmd+=" --latency-profile $ZVM_LAB_LATENCY_PROFILE"
    fi
    # A fresh connector database for a fresh (in-memory) fake z/VM.
    reset_zvm_lab
    mkdir -p "$ZVM_LAB_STATE_DIR"
    run_process $ZVM_LAB_SERVICE "$cmd"
    if ! wait_for_service $SERVICE_TIMEOUT "$(_zvm_lab_url)/"; then
        die $LINENO "nova-zvm: the lab did not answer on $(_zvm_lab_url)"
    fi
}

# upload_zvm_lab_image() - a Glance image the lab can deploy
#
# A z/VM disk image header (see doc/source/images.rst) of the lab's disk
# pool type and a small body: the lab checks the header against the root
# disk, it does not boot the contents.
function upload_zvm_lab_image {
    local image_file=$ZVM_LAB_STATE_DIR/$ZVM_LAB_IMAGE_NAME.img
    local header
    # The real format (creatediskimage): tag, size and unit in 16 bytes,
    # HLen and GZIP level, blanks to 512 bytes; level 0: raw body follows.
    if [[ "${ZVM_DISK_POOL%%:*}" == "FBA" ]]; then
        # 1048576 blocks of 512 bytes: 512 MiB, fits a 1 GB root disk.
        header=$(printf 'xCAT FBA Disk Image:%16s' '1048576 BLK')
    else
        # 500 cylinders of a 3390: about 425 MB, fits a 1 GB root disk.
        header=$(printf 'xCAT CKD Disk Image:%16s' '500 CYL')
    fi
    mkdir -p "$ZVM_LAB_STATE_DIR"
    printf '%-512s' "$header HLen: 0055 GZIP: 0" > "$image_file"
    head -c 65536 /dev/zero >> "$image_file"
    openstack --os-cloud devstack-admin image create \
        "$ZVM_LAB_IMAGE_NAME" --public \
        --disk-format raw --container-format bare \
        --property os_distro="$ZVM_LAB_IMAGE_OS_DISTRO" \
        --property architecture=s390x \
        --property hypervisor_type=zvm \
        --file "$image_file"
}

# stop_zvm_lab() - stop the lab service
function stop_zvm_lab {
    stop_process $ZVM_LAB_SERVICE
}

# reset_zvm_lab() - forget the lab's state
#
# The fake z/VM lives in the lab's memory and ends with its process, while
# the connector's database, image repository and files are in the state
# directory. Both go together, as stack.sh gives nova and Glance new
# databases: a guest left in the connector's database alone would refuse
# the next boot of that name (InstanceExists). The lab writes a new admin
# token and certificate at each start.
function reset_zvm_lab {
    rm -rf "$ZVM_LAB_STATE_DIR"
}

# cleanup_nova_zvm() - remove what the plugin left on the host
function cleanup_nova_zvm {
    stop_zvm_lab
    reset_zvm_lab
    rm -rf "$ZVM_IMAGE_TMP_PATH"
}

# check_nova_zvm() - nova-zvm-status check on nova-compute's configuration:
# a Warning is shown, a Failure stops the stack.
function check_nova_zvm {
    local conf=$NOVA_CPU_CONF
    local rc=0
    if [[ ! -f "$conf" ]]; then
        conf=$NOVA_CONF
    fi
    "$(get_python_exec_prefix)/nova-zvm-status" --config-file "$conf" \
        check || rc=$?
    if [[ $rc -ge 2 ]]; then
        die $LINENO "nova-zvm: nova-zvm-status check failed (exit code" \
            "$rc); the table above names each option to fix"
    fi
}

# Every phase acts only for the services this node runs: nova-compute
# (n-cpu) gets the driver and its options, any nova service the instance
# name template, the zvm-lab service the lab.
if [[ "$1" == "stack" && "$2" == "install" ]]; then
    if _zvm_installs_here; then
        echo_summary "Installing nova-zvm"
        install_nova_zvm
    fi
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    if is_service_enabled nova; then
        configure_nova_zvm_names
    fi
    if is_service_enabled n-cpu; then
        echo_summary "Configuring nova-zvm"
        configure_nova_zvm
    fi
    if is_service_enabled q-svc neutron-api; then
        echo_summary "Configuring neutron's zvm mechanism driver"
        configure_neutron_for_zvm
    fi
    # Before nova-compute starts, so that its first init_host finds the
    # connector.
    if _zvm_lab_enabled; then
        echo_summary "Starting the nova-zvm lab"
        start_zvm_lab
    fi
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    if _zvm_lab_enabled; then
        if [[ "$ZVM_LAB_IMAGE" == "True" ]] && is_service_enabled glance; then
            echo_summary "Uploading the nova-zvm lab image"
            upload_zvm_lab_image
        fi
        echo_summary "nova-zvm lab: $(_zvm_lab_url)" \
            "state in $ZVM_LAB_STATE_DIR"
    fi
fi

# After nova-compute is configured and running.
if [[ "$1" == "stack" && "$2" == "test-config" ]] && \
    is_service_enabled n-cpu; then
    echo_summary "Checking nova-zvm with nova-zvm-status"
    check_nova_zvm
fi

if [[ "$1" == "unstack" ]]; then
    if is_service_enabled $ZVM_LAB_SERVICE; then
        stop_zvm_lab
        reset_zvm_lab
    fi
fi

if [[ "$1" == "clean" ]]; then
    if is_service_enabled $ZVM_LAB_SERVICE n-cpu; then
        cleanup_nova_zvm
    fi
fi

# Restore xtrace
$_XTRACE_NOVA_ZVM
