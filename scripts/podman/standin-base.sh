#!/usr/bin/env bash
# Build a local stand-in for python:3.11-slim-bookworm from Debian's own packages, for a
# machine that reaches Debian's archive but no container registry:
#   scripts/podman/standin-base.sh TAG
# A debootstrap of bookworm (minbase) with Debian's Python 3.11, venv and CA certificates,
# and this machine's apt sources (bookworm, -updates, -security) so that the image's
# `apt-get install` sees the same packages. Debian's python3 is /usr/bin/python3 (3.11.2),
# not the official image's /usr/local/bin/python3: the Dockerfile only runs `python3`.
set -euo pipefail
tag="${1:?usage: standin-base.sh TAG}"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends debootstrap >/dev/null

sources=/etc/apt/sources.list.d/debian.sources
mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$sources" 2>/dev/null || true)
[[ -n "$mirror" ]] || { echo "no Debian mirror found in $sources" >&2; exit 1; }

root=$(mktemp -d /var/tmp/standin-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3.11,python3-venv,ca-certificates \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log" "$root/etc/apt/sources.list"
cp "$sources" "$root/etc/apt/sources.list.d/debian.sources"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import --quiet \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
    --message "stand-in for python:3.11-slim-bookworm (debootstrap bookworm + python3.11)" \
    - "$tag" >/dev/null
echo "$tag"
