#!/usr/bin/env bash
# `make image-check`: build the image with podman and run it as a user would, offline.
#
#  1. podman from Debian if missing; podman's own settings in scripts/podman/containers.conf
#     (runc, limits a nested sandbox accepts), no host file edited.
#  2. The base python:3.11-slim-bookworm, or where it cannot be pulled, a stand-in built
#     from Debian packages (scripts/podman/standin-base.sh), said below.
#  3. `podman build --format docker` (the HEALTHCHECK kept) on the host network.
#  4. Every run with --network=none: `monitor --help` as uid 10001; `monitor demo`; a
#     browser-engine `monitor check` of the imitation (python -m monitor.imitation in the
#     same container) with its screenshot; the daemon on a volume: heartbeat, HEALTHCHECK,
#     `podman stop -t 40` with a probe in flight (exit 0), a second container on the same
#     volume after it (same node name, starts), stopped with exit 0 too.
#  5. compose.yaml with podman-compose, every service on network none
#     (scripts/podman/compose-check.sh: the default profile, down and up again, the fleet).
# Each check prints PASS or FAIL; the script exits 1 when any failed, never skips one.
# The image and the base are kept for the next run; its containers, its volume and the
# layers a rebuild left untagged are removed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export CONTAINERS_CONF="$PWD/scripts/podman/containers.conf"

image=localhost/prefecture-monitor:check
base=docker.io/library/python:3.11-slim-bookworm
standin=localhost/python-standin:3.11-slim-bookworm
run=image-check-$$
volume=$run-data
logs=$(mktemp -d /tmp/image-check.XXXXXX)
config=/app/check.yaml
started=$SECONDS
failures=()

say() { printf '[image-check %4ds] %s\n' $((SECONDS - started)) "$*"; }
pass() { say "PASS $*"; }
fail() { say "FAIL $*"; failures+=("$*"); }
show() { sed 's/^/    | /' "$@" | tail -n 25; }

cleanup() {
    podman rm -f -t 0 "$run-a" "$run-b" >/dev/null 2>&1
    podman volume rm -f "$volume" >/dev/null 2>&1
    podman image prune -f >/dev/null 2>&1  # the layers a rebuild left untagged
}
trap cleanup EXIT

# --- 1. podman ---------------------------------------------------------------------------
if ! command -v podman >/dev/null; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    say "installing podman from Debian"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        podman runc >/dev/null || { fail "podman could not be installed"; exit 1; }
fi
say "$(podman --version), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"

# --- 2. the base -------------------------------------------------------------------------
if podman image exists "$base" || timeout 120 podman pull -q "$base" >/dev/null 2>"$logs/pull.log"; then
    build_base=$base
    say "base: $base"
else
    say "base: $base cannot be pulled here ($(tail -n 1 "$logs/pull.log" | cut -c1-120))"
    say "base: a STAND-IN, $standin: debootstrap of Debian bookworm + Debian's python3.11 (scripts/podman/standin-base.sh)"
    if ! podman image exists "$standin"; then
        t0=$SECONDS
        scripts/podman/standin-base.sh "$standin" >/dev/null 2>"$logs/standin.log" \
            || { fail "the stand-in base could not be built"; show "$logs/standin.log"; exit 1; }
        say "stand-in built in $((SECONDS - t0)) s"
    fi
    build_base=$standin
fi

# --- 3. the build ------------------------------------------------------------------------
build=(--format docker --network=host --build-arg "BASE=$build_base" -t "$image")
# pip in the build trusts this machine's CA bundle (mounted for the build only).
ca=/etc/ssl/certs/ca-certificates.crt
[[ -f $ca ]] && build+=(-v "$ca:$ca:ro" -v "$PWD/scripts/podman/pip.conf:/etc/pip.conf:ro")
t0=$SECONDS
if podman build "${build[@]}" . >"$logs/build.log" 2>&1; then
    size=$(podman image inspect --format '{{.Size}}' "$image")
    pass "build: $image in $((SECONDS - t0)) s, $((size / 1000000)) MB"
else
    fail "build"
    show "$logs/build.log"
    exit 1
fi
healthcheck=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$image")
if [[ $healthcheck == *'"monitor","status","--heartbeat"'* ]]; then
    pass "the image keeps its HEALTHCHECK: $healthcheck"
else
    fail "the image has no HEALTHCHECK ($healthcheck)"
fi
if podman image inspect --format '{{json .Config.Env}}' "$image" | grep -q MONITOR_DATABASE_URL; then
    fail "the image sets MONITOR_DATABASE_URL (it would override a mounted config)"
else
    pass "the image leaves MONITOR_DATABASE_URL unset"
fi

# Containers never join a network (--network=none, or one container's own, for B after A).
offline=(--network=none --no-healthcheck)

# --- 4a. --help as the non-root user -----------------------------------------------------
if podman run --rm "${offline[@]}" "$image" sh -c 'id -u; monitor --help' >"$logs/help.log" 2>&1 \
    && [[ $(head -n 1 "$logs/help.log") == 10001 ]] && grep -q '^Usage: monitor' "$logs/help.log"; then
    pass "monitor --help as uid 10001"
else
    fail "monitor --help as uid 10001"
    show "$logs/help.log"
fi

# --- 4b. the demo ------------------------------------------------------------------------
if podman run --rm "${offline[@]}" "$image" monitor demo --duration 60 --interval 2 \
    >"$logs/demo.log" 2>&1 && grep -q 'slots_opened' "$logs/demo.log" \
    && grep -q 'anomaly_started' "$logs/demo.log"; then
    pass "monitor demo: slots_opened and anomaly_started within 60 s, exit 0"
else
    fail "monitor demo (exit 0 with slots_opened and anomaly_started expected)"
    show "$logs/demo.log"
fi

# --- 4c. a browser-engine probe of the imitation, with its screenshot --------------------
podman volume create "$volume" >/dev/null
mounts=(-v "$volume:/data" -v "$PWD/scripts/podman/check-config.yaml:$config:ro"
    -v "$PWD/scripts/podman/in-flight.py:/app/in-flight.py:ro" -e "MONITOR_CONFIG=$config")
imitation='python -m monitor.imitation --scenario "4401=slots:{\"count\": 3}"'
imitation+=' --scenario "4402=slow:{\"delay\": 25, \"base\": \"slots\"}" >/tmp/imitation.log 2>&1 &'
imitation+=' until python -c "import socket; socket.create_connection((\"127.0.0.1\", 8765), 1)"'
imitation+=' 2>/dev/null; do sleep 0.2; done;'
if podman run --rm "${offline[@]}" "${mounts[@]}" "$image" sh -c "$imitation
        monitor db upgrade >/dev/null && monitor check 44/slots-browser --format json" \
    >"$logs/check.log" 2>&1 \
    && grep -q '"status": "available"' "$logs/check.log" \
    && grep -q 'sandbox on' "$logs/check.log"; then
    pass "monitor check of a browser-engine target: available, Chromium with its sandbox"
else
    fail "monitor check of a browser-engine target (available, sandbox on expected)"
    show "$logs/check.log"
fi
# The screenshot the outcome lists, on the volume, is a PNG.
bytes=""
shot=$(grep -o '"[0-9a-f]*/[0-9a-f]*\.png"' "$logs/check.log" | head -n 1 | tr -d '"')
png='import sys; d = open(sys.argv[1], "rb").read(); print(len(d)); sys.exit(d[:8] != b"\x89PNG\r\n\x1a\n")'
if [[ -n $shot ]] && bytes=$(podman run --rm "${offline[@]}" -v "$volume:/data" --entrypoint python \
    "$image" -c "$png" "/data/evidence/$shot" 2>&1); then
    pass "its screenshot: /data/evidence/$shot, a PNG of $bytes bytes"
else
    fail "the outcome's screenshot (${shot:-none listed}) is no PNG in /data/evidence: $bytes"
fi

# --- 4d. the daemon: heartbeat, HEALTHCHECK, stop with a probe in flight -----------------
node=$(podman run --rm "${offline[@]}" -v "$volume:/data" --entrypoint cat "$image" /data/node-name)
say "node name on the volume: $node"

start_daemon() { # NAME: the imitation and `monitor run --migrate` in one container
    podman run -d --name "$1" --network=none --health-interval=disable --stop-timeout 40 \
        "${mounts[@]}" "$image" sh -c "$imitation exec monitor run --migrate" >/dev/null \
        2>"$logs/$1.start.log"
}

# shellcheck source=scripts/podman/wait.sh
. scripts/podman/wait.sh

running() { [[ $(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }

stop_and_judge() { # NAME LABEL [LOG LINE]: podman stop -t 40, the exit code, the line logged
    local t0=$SECONDS code
    podman stop -t 40 "$1" >/dev/null 2>&1
    code=$(podman inspect --format '{{.State.ExitCode}}' "$1")
    podman logs "$1" >"$logs/$1.log" 2>&1
    if [[ -n ${3:-} ]] && ! grep -q "$3" "$logs/$1.log"; then
        fail "$2: the daemon never logged «$3»"
        show "$logs/$1.log"
    elif [[ $code == 0 ]]; then
        pass "$2: stopped in $((SECONDS - t0)) s with exit 0"
    else
        fail "$2: exit $code after $((SECONDS - t0)) s (40 s stop timeout)"
        show "$logs/$1.log"
    fi
}

start_daemon "$run-a"
if wait_for 120 podman exec "$run-a" monitor status --heartbeat; then
    podman exec "$run-a" monitor status --heartbeat >"$logs/heartbeat.log" 2>&1
    if grep -q "$node" "$logs/heartbeat.log"; then
        pass "monitor status --heartbeat: exit 0, node $node"
    else
        fail "monitor status --heartbeat does not name node $node"
        show "$logs/heartbeat.log"
    fi
    if podman healthcheck run "$run-a" >"$logs/health.log" 2>&1; then
        pass "the HEALTHCHECK (podman healthcheck run): exit 0"
    else
        fail "the HEALTHCHECK"
        show "$logs/health.log"
    fi
else
    fail "monitor status --heartbeat never exited 0 within 120 s"
    podman logs "$run-a" >"$logs/a.log" 2>&1
    show "$logs/a.log"
fi

if wait_for 120 podman exec "$run-a" python /app/in-flight.py /booking/create/4402; then
    stop_and_judge "$run-a" "podman stop with a probe in flight (the slow page, 25 s)" \
        "stopping: waiting up to .* for 1 probes"
else
    fail "the slow probe was never in flight within 120 s"
    stop_and_judge "$run-a" "podman stop"
fi

# --- 4e. a second container on the same volume after stop --------------------------------
start_daemon "$run-b"
# Started once it logs "daemon started on NODE"; a refused start exits 2 before.
b_started() { podman logs "$run-b" 2>&1 | grep -q "daemon started on $node "; }
b_settled() { b_started || ! running "$run-b"; }
wait_for 90 b_settled
if b_started && sleep 5 && running "$run-b"; then
    podman exec "$run-b" monitor status --heartbeat >"$logs/heartbeat-b.log" 2>&1
    pass "a second container on the same volume after stop starts (node $node)"
    stop_and_judge "$run-b" "the second container"
else
    podman logs "$run-b" >"$logs/b.log" 2>&1
    fail "a second container on the same volume after stop: exit" \
        "$(podman inspect --format '{{.State.ExitCode}}' "$run-b"): $(grep -m 1 -i 'another daemon\|error' "$logs/b.log")"
    show "$logs/b.log"
fi

# --- 5. compose.yaml, as the README runs it ----------------------------------------------
mkdir -p "$logs/compose"
IMAGE_CHECK_ELAPSED=$((SECONDS - started)) COMPOSE_CHECK_LOGS=$logs/compose \
    scripts/podman/compose-check.sh "$image" "$build_base" || failures+=("compose (FAIL lines above)")

say "logs in $logs"
if ((${#failures[@]})); then
    say "FAILED: ${#failures[@]} check(s): ${failures[*]}"
    exit 1
fi
say "all checks passed in $((SECONDS - started)) s"
