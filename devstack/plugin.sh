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

# Both files nova reads: nova.conf for every service, and nova-cpu.conf
# which devstack derives from nova.conf for nova-compute.
function _zvm_nova_confs {
    local conf
    for conf in "$NOVA_CONF" "$NOVA_CPU_CONF"; do
        if [[ -n "$conf" ]]; then
            echo "$conf"
        fi
    done
}

# Set an option in every nova config file; an empty value is left unset
# so that the driver's own default applies.
function _zvm_iniset {
    local section=$1
    local option=$2
    local value=$3
    local conf
    if [[ -z "$value" ]]; then
        return 0
    fi
    for conf in $(_zvm_nova_confs); do
        iniset "$conf" "$section" "$option" "$value"
    done
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

# install_nova_zvm() - install the driver (and the lab's extra with it)
function install_nova_zvm {
    if _zvm_lab_enabled; then
        setup_develop "$NOVA_ZVM_DIR" lab
    else
        setup_develop "$NOVA_ZVM_DIR"
    fi
    # nova builds a config drive for every guest with genisoimage.
    install_package genisoimage
}

# configure_nova_zvm() - nova.conf for the z/VM driver
function configure_nova_zvm {
    if _zvm_lab_enabled; then
        _zvm_lab_defaults
    fi
    if [[ -z "$ZVM_CLOUD_CONNECTOR_URL" ]]; then
        die $LINENO "nova-zvm: set ZVM_CLOUD_CONNECTOR_URL" \
            "(or ZVM_LAB=True to run the lab)"
    fi

    _zvm_iniset DEFAULT compute_driver nova_zvm.ZVMDriver
    _zvm_iniset DEFAULT instance_name_template "$ZVM_INSTANCE_NAME_TEMPLATE"
    # The Cloud Connector deploys a guest only with a config drive.
    _zvm_iniset DEFAULT force_config_drive True

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

    if _zvm_lab_enabled; then
        # Nothing plugs the lab's NICs into neutron's data plane, so no
        # network-vif-plugged event ever comes: do not wait for one.
        _zvm_iniset DEFAULT vif_plugging_is_fatal False
        _zvm_iniset DEFAULT vif_plugging_timeout 0
    fi
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

# cleanup_nova_zvm() - remove what the plugin left on the host
function cleanup_nova_zvm {
    stop_zvm_lab
    rm -rf "$ZVM_LAB_STATE_DIR" "$ZVM_IMAGE_TMP_PATH"
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing nova-zvm"
    install_nova_zvm
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring nova-zvm"
    configure_nova_zvm
    # Before nova-compute starts, so that its first init_host finds the
    # connector.
    if _zvm_lab_enabled; then
        echo_summary "Starting the nova-zvm lab"
        start_zvm_lab
    fi
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    if _zvm_lab_enabled; then
        if [[ "$ZVM_LAB_IMAGE" == "True" ]] && \
            is_service_enabled glance g-api; then
            echo_summary "Uploading the nova-zvm lab image"
            upload_zvm_lab_image
        fi
        echo_summary "nova-zvm lab: $(_zvm_lab_url)" \
            "state in $ZVM_LAB_STATE_DIR"
    fi
fi

if [[ "$1" == "unstack" ]]; then
    if is_service_enabled $ZVM_LAB_SERVICE; then
        stop_zvm_lab
    fi
fi

if [[ "$1" == "clean" ]]; then
    cleanup_nova_zvm
fi

# Restore xtrace
$_XTRACE_NOVA_ZVM
