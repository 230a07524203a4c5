#!/bin/sh
# The image's entry point: give the daemon a node name that outlives the container, then
# run the command. Without $MONITOR_NODE the name is read from /data/node-name, written
# once (a random id) on the volume's first start: every container on the same volume,
# after an upgrade or a re-create, is the same node. Edit the file, or set $MONITOR_NODE,
# to choose the name.
set -eu
if [ -z "${MONITOR_NODE:-}" ]; then
    file=/data/node-name
    if [ ! -s "$file" ]; then
        id=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
        (set -C; echo "node-$id" >"$file") 2>/dev/null || true  # a racing twin may win
    fi
    if [ -s "$file" ]; then
        MONITOR_NODE=$(head -n 1 "$file")
        export MONITOR_NODE
    else
        echo "image-entry: cannot write $file (is /data writable by uid $(id -u)?):" \
            "the node name is the container's host name" >&2
    fi
fi
exec "$@"
