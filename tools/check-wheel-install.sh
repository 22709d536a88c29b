#!/bin/bash
#
# Install nova-zvm from a wheel built from this tree into a Python
# environment that has nova and nothing of nova-zvm, and check with nova's
# own loader that `compute_driver = nova_zvm.ZVMDriver` loads; then
# uninstall and check that nova is as it was. Also checks the rule the
# install guide gives for distribution-packaged nova: the shim must sit in
# the nova package nova is imported from.
#
# Usage (tox -e install): check-wheel-install.sh WORK_DIR
# Runs in the current python's environment, which must hold nova.

set -o errexit
set -o nounset
set -o pipefail

WORK=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=python

# Prints the loaded driver class and where the shim came from, or exits 1
# (nova's loader exits when it cannot import the driver).
LOADER='
import os, sys
import nova.virt
from nova.virt import driver, virtapi
drv = driver.load_compute_driver(virtapi.VirtAPI(), "nova_zvm.ZVMDriver")
shim = sys.modules["nova.virt.nova_zvm"]
print(type(drv).__module__ + "." + type(drv).__name__)
print(os.path.dirname(os.path.dirname(os.path.realpath(shim.__file__))))
'

# Every file nova's installation recorded is still there, nova's in-tree
# z/VM driver included.
NOVA_INTACT='
import importlib.metadata, sys
files = importlib.metadata.distribution("nova").files
missing = [str(f) for f in files if not f.locate().exists()]
assert any(str(f).startswith("nova/virt/zvm/") for f in files)
sys.exit("missing: %s" % missing[:5] if missing else 0)
'

# Library deprecation warnings are not what this check is about.
export PYTHONWARNINGS=ignore

step() {
    echo "== $*"
}

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

nova_virt=$($PY -c \
    'import nova.virt, os; print(os.path.dirname(nova.virt.__file__))')

rm -rf "$WORK"
mkdir -p "$WORK/dist"

step "nova without nova-zvm does not load the driver"
$PY -m pip uninstall --yes --quiet nova-zvm >/dev/null 2>&1 || true
if $PY -c "$LOADER" >/dev/null 2>&1; then
    fail "nova.virt.nova_zvm loads before nova-zvm is installed"
fi

step "build the wheel"
$PY -m pip wheel --quiet --no-deps --no-build-isolation \
    --wheel-dir "$WORK/dist" "$REPO"
wheel=$(ls "$WORK"/dist/nova_zvm-*.whl)
echo "$(basename "$wheel")"
version=$(basename "$wheel" | cut -d- -f2)
case "$version" in
    0.0.*) fail "pbr made version $version: setup.cfg has no version" ;;
esac

$PY -c "$NOVA_INTACT" || fail "nova's files are incomplete to begin with"

step "install it next to nova"
$PY -m pip install --quiet "$wheel"
out=$($PY -c "$LOADER")
echo "$out"
[[ "$(echo "$out" | sed -n 1p)" == "nova_zvm.virt.driver.ZVMDriver" ]] ||
    fail "nova loaded something else: $out"
[[ "$(echo "$out" | sed -n 2p)" == "$nova_virt" ]] ||
    fail "the shim is not in nova's package $nova_virt"
$PY -m pip show nova-zvm | grep -x "Version: $version"
$PY -m pip check

step "uninstall it: the shim goes, nova stays"
$PY -m pip uninstall --yes --quiet nova-zvm
[[ ! -e "$nova_virt/nova_zvm" ]] || fail "$nova_virt/nova_zvm is left"
$PY -c "$NOVA_INTACT" || fail "nova's files changed"
if $PY -c "$LOADER" >/dev/null 2>&1; then
    fail "the driver still loads after uninstall"
fi

step "distribution nova: a shim outside nova's package is not found"
$PY -m pip install --quiet --no-deps --target "$WORK/elsewhere" "$wheel"
if PYTHONPATH="$WORK/elsewhere" $PY -c "$LOADER" >/dev/null 2>&1; then
    fail "a shim outside nova's own directory loaded"
fi
step "... and is found once linked into nova's package"
ln -s "$WORK/elsewhere/nova/virt/nova_zvm" "$nova_virt/nova_zvm"
trap 'rm -f "$nova_virt/nova_zvm"' EXIT
out=$(PYTHONPATH="$WORK/elsewhere" $PY -c "$LOADER")
[[ "$(echo "$out" | sed -n 1p)" == "nova_zvm.virt.driver.ZVMDriver" ]] ||
    fail "the linked shim did not load: $out"
rm -f "$nova_virt/nova_zvm"

step "ok: nova-zvm $version installs from its wheel and nova loads it"
