#!/usr/bin/env bash
# Make sure genisoimage (nova's default mkisofs_cmd, used to build config
# drives) is installed. On a fresh Debian/Ubuntu machine it is not.
set -eu
command -v genisoimage >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
else
    echo "genisoimage is missing and cannot be installed without root:" \
         "run 'apt-get install genisoimage' as root" >&2
    exit 1
fi
if command -v apt-get >/dev/null 2>&1; then
    echo "Installing genisoimage (needed to build config drives)..."
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq genisoimage >/dev/null
elif command -v dnf >/dev/null 2>&1; then
    $SUDO dnf install -y -q genisoimage
else
    echo "genisoimage is missing: install it with your package manager" >&2
    exit 1
fi
command -v genisoimage >/dev/null
