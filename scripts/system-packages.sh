#!/usr/bin/env bash
# Install the Debian packages prefecture-monitor needs, if they are missing.
#   scripts/system-packages.sh            Chromium + fonts (to run the daemon): the headless
#                                         shell the engine prefers, and chromium, its fall-back
#   scripts/system-packages.sh --test     also postgresql (the test suite starts a real server)
#   scripts/system-packages.sh --headless-shell-only
#                                         the headless shell without chromium (the image's default)
#   ... --no-recommends                   without Debian's recommended packages (the image)
# Used by the Makefile, .ci/run and the Dockerfile, so all three install the same things.
# The image takes no recommended package: what is listed (and what it depends on) is what
# runs there, and `make image-check` proves it. The host and CI keep Debian's
# recommendations, with which the test suite's rendering checks were written.
set -euo pipefail

# libatomic1: Playwright's bundled Node.js (the driver) links it, and slim images lack it.
packages=(chromium chromium-headless-shell fonts-liberation libatomic1)
recommends=()
for arg in "$@"; do
    case "$arg" in
        --test) packages+=(postgresql) ;;
        --headless-shell-only) packages=(chromium-headless-shell fonts-liberation libatomic1) ;;
        --no-recommends) recommends=(--no-install-recommends) ;;
        *) echo "usage: $0 [--test | --headless-shell-only] [--no-recommends]" >&2; exit 2 ;;
    esac
done

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "missing system packages: ${missing[*]} (no apt-get here: install them with your package manager," \
         "or point \$MONITOR_BROWSER at a Chromium executable)" >&2
    exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing system packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${recommends[@]}" "${missing[@]}" >/dev/null
