#!/usr/bin/env bash
# Installs every Debian package tessera needs to build, test and benchmark. Idempotent: packages that are
# already installed are skipped, so a second run costs one dpkg query and no network.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (see ../shared/docs/design.md, "Dependencies")
  libopencv-dev libvips-dev libsqlite3-dev sqlite3 libpq-dev libcpp-httplib-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libzip-dev libsodium-dev libssl-dev
  libtiff-dev libgtest-dev libgmock-dev libbenchmark-dev
  # PostgreSQL server for the catalog tests on the second backend
  postgresql postgresql-contrib
  # Python oracles used only by tests and benchmarks (run as /usr/bin/python3)
  python3-numpy python3-skimage python3-opencv python3-tifffile python3-pil python3-sklearn
  # tools used by tests and benchmarks
  coreutils time procps bc file
  wrk nginx-light  # tile benchmark: HTTP load generator and the static-file anchor
  nodejs chromium fonts-dejavu-core  # web UI: build (node 20+ with npm), browser tests and benchmark
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages and not root; run as root or install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
