#!/usr/bin/env bash
# Installs the Debian packages kxmatch builds and tests with, if missing;
# `install-deps.sh deb`: those `make deb` builds the package with;
# `install-deps.sh compilers`: clang, for `make compilers` and `make fuzz`.
# As root it runs apt-get; otherwise it prints the command to run.
set -euo pipefail

pkgs=(build-essential cmake pkg-config
      libxapian-dev xapian-tools liblmdb-dev lmdb-utils libjson-c-dev
      libcurl4-openssl-dev libmicrohttpd-dev libinih-dev libsodium-dev libcsv-dev curl python3 python3-aiosmtpd
      openssl)
if [ "${1:-}" = compilers ]; then
    # libclang-rt-dev: libFuzzer and the sanitizers' runtimes, which clang
    # only recommends (and --no-install-recommends leaves out).
    pkgs+=(clang libclang-rt-dev)
elif [ "${1:-}" = deb ]; then
    # `make deb`: the package build (debian/) and its check, not the
    # browser tests.
    pkgs+=(debhelper dpkg-dev lintian)
else
    # Browser tests (tests/e2e): Debian's chromium, a CJK font so that the
    # screenshots show Chinese, and Node.js with npm unless one is installed.
    pkgs+=(chromium fonts-wqy-microhei)
    command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
    # The load test (tests/integration/test_load.sh): wrk, with its LuaJIT.
    pkgs+=(wrk)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "kxmatch needs these Debian packages; run as root:" >&2
    echo "  apt-get update && $cmd" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
$cmd >/dev/null
