#!/usr/bin/env bash
# Installs the Debian packages the build needs, when any is missing. Sourced by the other scripts.
#   ensure_packages PACKAGE...
ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What the core library links against.
CORE_PACKAGES=(pkg-config libsodium-dev zlib1g-dev libzstd-dev)
# What the SQLite driver (the SQLite trait) links against: GRDB uses the system's SQLite.
SQLITE_PACKAGES=(libsqlite3-dev)

# Installs a Python package from PyPI when python3 cannot import it.
#   ensure_python_module MODULE PACKAGE
ensure_python_module() {
    python3 -c "import $1" 2>/dev/null && return 0
    echo "Installing $2 from PyPI" >&2
    python3 -m pip install --quiet "$2" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$2"
}
