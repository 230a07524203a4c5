#!/usr/bin/env bash
# `make image-check`'s compose run (issue 31): the real compose.yaml, as README.md's
# "Docker" section runs it, with podman-compose and the least override it needs here.
#   scripts/podman/compose-check.sh [IMAGE [BASE]]   (scripts/image-check.sh calls it;
#                                                     `make compose-check` alone, after it)
# IMAGE is the image image-check.sh just built and checked (localhost/prefecture-monitor:check),
# BASE the base it was built on (python:3.11-slim-bookworm, else the stand-in): the stand-in
# PostgreSQL is built on it when postgres:15-bookworm cannot be pulled.
#
#  1. podman-compose $PODMAN_COMPOSE (PyPI; Debian's 1.0.3 ignores profiles) in a venv of
#     its own, ~/.cache/prefecture-monitor/ (not the project's dependencies), kept.
#  2. compose.yaml + scripts/podman/compose.check.yaml (what it overrides and why: printed
#     below and in its comments); every container on --network=none, no network created.
#  3. The default profile: `up -d` (the daemon alone, SQLite in its volume), its heartbeat
#     and HEALTHCHECK, a browser-engine `monitor check` of the imitation in it; `down`;
#     `up -d` again: the same node name from the volume, and it starts; `down`.
#  4. The fleet: `--profile fleet up -d` in stages (PostgreSQL, the first node, then the
#     second: podman-compose ignores `condition: service_healthy` before podman 4.6), both
#     nodes' heartbeats in the database; `stop` within the 40 s stop_grace_period, exit 0;
#     `down -v`: no container, volume, pod or network of the run left.
# Each check prints PASS or FAIL; the script exits 1 when any failed, never skips one.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export CONTAINERS_CONF="$PWD/scripts/podman/containers.conf"

image=${1:-localhost/prefecture-monitor:check}
base=${2:-docker.io/library/python:3.11-slim-bookworm}
podman image exists "$image" || { echo "compose-check: no image $image: run make image-check" >&2; exit 1; }
podman image exists "$base" || base=localhost/python-standin:3.11-slim-bookworm
PODMAN_COMPOSE=$(sed -n "s/^podman-compose==//p" scripts/podman/compose-requirements.txt)
tools=${XDG_CACHE_HOME:-$HOME/.cache}/prefecture-monitor/podman-compose-$PODMAN_COMPOSE
postgres_official=docker.io/library/postgres:15-bookworm
postgres_standin=localhost/postgres-standin:15-bookworm
project=image-check-compose-$$
logs=${COMPOSE_CHECK_LOGS:-$(mktemp -d /tmp/compose-check.XXXXXX)}
started=$((SECONDS - ${IMAGE_CHECK_ELAPSED:-0}))
failures=()

say() { printf '[image-check %4ds] compose: %s\n' $((SECONDS - started)) "$*"; }
pass() { say "PASS $*"; }
fail() { say "FAIL $*"; failures+=("$*"); }
show() { sed 's/^/    | /' "$@" | tail -n 25; }

# --- 1. podman-compose, pinned, in a venv of its own -------------------------------------
if ! "$tools/bin/podman-compose" version >/dev/null 2>&1; then
    rm -rf "$tools"
    if ! { python3 -m venv "$tools" && "$tools/bin/pip" install -q --disable-pip-version-check \
        -r scripts/podman/compose-requirements.txt; } >"$logs/venv.log" 2>&1; then
        fail "podman-compose $PODMAN_COMPOSE could not be installed in $tools"
        show "$logs/venv.log"
        rm -rf "$tools"
        exit 1
    fi
fi
say "$("$tools/bin/podman-compose" version 2>/dev/null | grep -m 1 podman-compose) from PyPI, in $tools"

# --- 2. PostgreSQL's image: the official one, or a stand-in from Debian's postgresql-15 ---
if podman image exists "$postgres_official" \
    || timeout 120 podman pull -q "$postgres_official" >/dev/null 2>"$logs/pull.log"; then
    postgres_image=$postgres_official
    say "postgres: $postgres_official"
else
    postgres_image=$postgres_standin
    say "postgres: $postgres_official cannot be pulled here ($(tail -n 1 "$logs/pull.log" | cut -c1-100))"
    say "postgres: a STAND-IN, $postgres_standin: Debian's postgresql-15 on $base, an entry point" \
        "honouring POSTGRES_USER/PASSWORD/DB (scripts/podman/postgres/)"
    # Kept between runs, as the base is; rebuilt when its files change (their digest, a label).
    recipe=$(cat scripts/podman/postgres/* | sha256sum | cut -c1-16)
    built=$(podman image inspect --format '{{index .Labels "prefecture-monitor.recipe"}}' \
        "$postgres_standin" 2>/dev/null)
    if [[ $built != "$recipe" ]]; then
        t0=$SECONDS
        if podman build --format docker --network=host --build-arg "BASE=$base" \
            --label "prefecture-monitor.recipe=$recipe" -t "$postgres_standin" \
            scripts/podman/postgres >"$logs/postgres-build.log" 2>&1; then
            say "postgres stand-in built in $((SECONDS - t0)) s"
        else
            fail "the postgres stand-in could not be built"
            show "$logs/postgres-build.log"
            exit 1
        fi
    fi
fi

# --- 3. compose.yaml and what the check overrides ----------------------------------------
export CHECK_IMAGE=$image CHECK_POSTGRES_IMAGE=$postgres_image
unset MONITOR_DATABASE_URL MONITOR_RUN_ARGS
compose=("$tools/bin/podman-compose" -p "$project" -f compose.yaml -f scripts/podman/compose.check.yaml)
pc() { "${compose[@]}" "$@"; }
say "runs compose.yaml as project $project, overridden by scripts/podman/compose.check.yaml:"
say "  every service network_mode: none (containers here join no bridge network)"
say "  monitor, monitor-2: image $image (the one just built: compose.yaml's build: . needs python:3.11-slim-bookworm)"
say "  monitor, monitor-2: scripts/podman/check-config.yaml at /app/prefectures.yaml (compose.yaml's commented line: targets on the imitation, no connectivity check: there is no network)"
say "  postgres: image $postgres_image; its socket in a volume postgres-socket at /run/postgresql in it and in the nodes (the one way in without a network)"

cleanup() {
    pc --profile fleet down -v -t 0 >"$logs/cleanup.log" 2>&1
    podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
    podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null 2>&1
    podman pod rm -f "pod_$project" >/dev/null 2>&1
}
trap cleanup EXIT

networks_before=$(podman network ls -q | sort)
container() { # SERVICE: its container's name in this run
    podman ps -a --filter "label=io.podman.compose.project=$project" \
        --filter "label=io.podman.compose.service=$1" --format '{{.Names}}' | head -n 1
}
containers() { podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}' | LC_ALL=C sort | xargs; }
# shellcheck source=scripts/podman/wait.sh
. scripts/podman/wait.sh
offline() { # every container of the run so far on network none
    local name mode ok=0
    for name in $(containers); do
        mode=$(podman inspect --format '{{.HostConfig.NetworkMode}}' "$name")
        [[ $mode == none ]] || { fail "$name joined the network «$mode», not none"; ok=1; }
    done
    return $ok
}
heartbeat_ok() { # CONTAINER: `monitor status --heartbeat` exits 0 in it
    podman exec "$1" monitor status --heartbeat >"$logs/$1.heartbeat.log" 2>&1
}
node_of() { podman exec "$1" cat /data/node-name 2>/dev/null; }
started_as() { # CONTAINER NODE: it logged "daemon started on NODE"
    podman logs "$1" 2>&1 | grep -q "daemon started on $2 "
}

# --- 3a. the default profile: the daemon alone, SQLite in its volume ---------------------
if pc up -d >"$logs/up-1.log" 2>&1 && [[ $(containers) == "$project"_monitor_1 ]]; then
    pass "up -d: the default profile is the daemon alone ($(containers))"
else
    fail "up -d: the daemon alone expected, got «$(containers)»"
    show "$logs/up-1.log"
fi
monitor=$(container monitor)
node=""
if [[ -n $monitor ]] && wait_for 120 heartbeat_ok "$monitor"; then
    node=$(node_of "$monitor")
    if [[ -n $node ]] && grep -q "node $node: ok" "$logs/$monitor.heartbeat.log" \
        && podman exec "$monitor" sh -c 'test -s /data/monitor.db'; then
        pass "monitor status --heartbeat: exit 0, node $node (from /data/node-name), SQLite in /data"
    else
        fail "the heartbeat does not name the volume's node «$node», or no /data/monitor.db"
        show "$logs/$monitor.heartbeat.log"
    fi
    # Docker runs the HEALTHCHECK on its own; podman through systemd timers, which this
    # machine has not (podman says so on stderr), so it is run by hand.
    if podman healthcheck run "$monitor" >"$logs/health.log" 2>&1; then
        pass "the HEALTHCHECK (podman healthcheck run): exit 0"
    else
        fail "the HEALTHCHECK"
        show "$logs/health.log"
    fi
else
    fail "monitor status --heartbeat never exited 0 within 120 s"
    [[ -n $monitor ]] && podman logs "$monitor" >"$logs/monitor.log" 2>&1 && show "$logs/monitor.log"
fi

# A browser-engine probe of the imitation, started in the daemon's container (its loopback
# is the only network it has).
imitation='python -m monitor.imitation --scenario "4401=slots:{\"count\": 3}" >/tmp/imitation.log 2>&1 &'
imitation+=' imitation=$!; until python -c "import socket; socket.create_connection((\"127.0.0.1\", 8765), 1)"'
imitation+=' 2>/dev/null; do sleep 0.2; done;'
if pc exec -T monitor sh -c "$imitation monitor check 44/slots-browser --format json; code=\$?;
        kill \$imitation; exit \$code" >"$logs/check.log" 2>&1 \
    && grep -q '"status": "available"' "$logs/check.log" && grep -q 'sandbox on' "$logs/check.log"; then
    pass "exec monitor check of a browser-engine target: available, Chromium with its sandbox"
else
    fail "exec monitor check of a browser-engine target (available, sandbox on expected)"
    show "$logs/check.log"
fi

if pc down >"$logs/down-1.log" 2>&1 && [[ -z $(containers) ]] \
    && podman volume exists "${project}_monitor-data"; then
    pass "down: the container removed, the volume ${project}_monitor-data kept"
else
    fail "down (no container left, the volume kept, expected): «$(containers)»"
    show "$logs/down-1.log"
fi

# --- 3b. up again: the same node from the volume, and it starts --------------------------
pc up -d >"$logs/up-2.log" 2>&1
monitor=$(container monitor)
settled() { started_as "$monitor" "$node" || [[ $(podman inspect --format '{{.State.Running}}' "$monitor") != true ]]; }
if [[ -n $monitor && -n $node ]] && wait_for 90 settled && started_as "$monitor" "$node" \
    && sleep 3 && wait_for 30 heartbeat_ok "$monitor"; then
    pass "up -d again on the volume: the same node $node, started, heartbeat ok"
else
    fail "up -d again on the volume: node ${node:-unknown} did not start"
    [[ -n $monitor ]] && podman logs "$monitor" >"$logs/monitor-2nd.log" 2>&1 && show "$logs/monitor-2nd.log"
fi
offline
pc down >"$logs/down-2.log" 2>&1 || { fail "down"; show "$logs/down-2.log"; }

# --- 4. the fleet: PostgreSQL and two nodes ----------------------------------------------
# As the README says, with the database URL naming the socket's folder instead of the host
# `postgres` (no network here), and --cluster.
export MONITOR_DATABASE_URL='postgresql+psycopg://monitor:monitor@/monitor?host=/run/postgresql'
export MONITOR_RUN_ARGS=--cluster
say "fleet: MONITOR_DATABASE_URL=postgresql+psycopg://monitor:***@/monitor?host=/run/postgresql MONITOR_RUN_ARGS=--cluster"
say "fleet: started in stages (postgres; monitor; the rest): podman-compose ignores" \
    "condition: service_healthy before podman 4.6 (this is $(podman version --format '{{.Client.Version}}'))"

# The imitation, with its slow page (25 s), in each node's container (its loopback is its
# only network), started with the node so that the first probes meet it (a refused one
# backs off): a probe in flight when the fleet stops, whichever node takes the job.
# (podman exec: podman-compose 1.6.0's `exec -d` waits for the command to end.)
slow='exec python -m monitor.imitation --scenario "4401=slots:{\"count\": 3}"'
slow+=' --scenario "4402=slow:{\"delay\": 25, \"base\": \"slots\"}" >/tmp/imitation.log 2>&1'

pc --profile fleet up -d postgres >"$logs/up-postgres.log" 2>&1
postgres=$(container postgres)
if [[ -n $postgres ]] && wait_for 120 podman healthcheck run "$postgres"; then
    pass "postgres: its healthcheck (pg_isready -U monitor) passes"
else
    fail "postgres never healthy within 120 s"
    [[ -n $postgres ]] && podman logs "$postgres" >"$logs/postgres.log" 2>&1 && show "$logs/postgres.log"
fi

pc --profile fleet up -d monitor >"$logs/up-fleet-1.log" 2>&1
monitor=$(container monitor)
[[ -n $monitor ]] && podman exec -d "$monitor" sh -c "$slow" >"$logs/imitation-1.log" 2>&1
if [[ -n $monitor ]] && wait_for 120 heartbeat_ok "$monitor" \
    && podman logs "$monitor" 2>&1 | grep -q "cluster mode: worker $node "; then
    pass "the first node $node: migrated PostgreSQL, beats, in cluster mode"
else
    fail "the first node never beat in cluster mode within 120 s"
    [[ -n $monitor ]] && podman logs "$monitor" >"$logs/fleet-1.log" 2>&1 && show "$logs/fleet-1.log"
fi

pc --profile fleet up -d >"$logs/up-fleet.log" 2>&1
monitor2=$(container monitor-2)
[[ -n $monitor2 ]] && podman exec -d "$monitor2" sh -c "$slow" >"$logs/imitation-2.log" 2>&1
node2=""
[[ -n $monitor2 ]] && wait_for 60 node_of "$monitor2" && node2=$(node_of "$monitor2")
both_beat() { # both nodes listed fresh by `status --heartbeat --format json`, from PostgreSQL
    podman exec "$monitor" monitor status --heartbeat --format json >"$logs/fleet-heartbeats.json" 2>&1 \
        && grep -q "\"node\": \"$node\", \"last_beat\": \"[^\"]*\", \"stale\": false" "$logs/fleet-heartbeats.json" \
        && grep -q "\"node\": \"$node2\", \"last_beat\": \"[^\"]*\", \"stale\": false" "$logs/fleet-heartbeats.json"
}
if [[ -n $node2 && $node2 != "$node" ]] && wait_for 120 both_beat; then
    restarts=$(podman inspect --format '{{.RestartCount}}' "$monitor2")
    if [[ $(containers) == "${project}_monitor-2_1 ${project}_monitor_1 ${project}_postgres_1" && $restarts == 0 ]]; then
        pass "--profile fleet up -d: postgres and two nodes; $node2 started at once (no restart)," \
            "both heartbeats in the database"
    else
        fail "--profile fleet up -d: containers «$(containers)», $node2 restarted $restarts time(s)"
    fi
else
    fail "the fleet's two heartbeats (nodes ${node:-?} and ${node2:-?}) never both fresh within 120 s"
    cat "$logs/fleet-heartbeats.json" >"$logs/fleet-heartbeats.txt" 2>/dev/null && show "$logs/fleet-heartbeats.txt"
    [[ -n $monitor2 ]] && podman logs "$monitor2" >"$logs/fleet-2.log" 2>&1 && show "$logs/fleet-2.log"
fi
offline && pass "every container of the run on network none"

in_flight() {
    local name
    for name in "$monitor" "$monitor2"; do
        podman exec -i "$name" python - /booking/create/4402 <scripts/podman/in-flight.py && return 0
    done
    return 1
}
if wait_for 100 in_flight; then
    say "fleet: a probe in flight (the slow page, 25 s)"
else
    fail "the fleet's slow probe was never in flight within 100 s"
fi

# The nodes first: podman-compose stops every service at once, PostgreSQL with the nodes,
# which then lose their database while they stop (the README says so).
t0=$SECONDS
pc --profile fleet stop monitor monitor-2 >"$logs/stop.log" 2>&1
took=$((SECONDS - t0))
pc --profile fleet stop >>"$logs/stop.log" 2>&1
codes="" clean=1
for name in $(containers); do
    code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
    codes+=" $name=$code"
    [[ $code == 0 ]] || clean=0
done
# The nodes' logs: no ERROR nor traceback, at start or stop (podman-compose stops every
# service at once, PostgreSQL too: a node that lost its database while stopping says so).
errors=""
for name in "$monitor" "$monitor2"; do
    [[ -n $name ]] || continue
    podman logs "$name" >"$logs/$name.log" 2>&1
    grep -qE '^[0-9:]+ (ERROR|CRITICAL) |Traceback' "$logs/$name.log" && errors+=" $name"
done
waited=$(cat "$logs/$monitor.log" "$logs/$monitor2.log" 2>/dev/null | grep -c 'stopping: waiting up to .* for 1 probes')
if ((waited == 0)); then
    fail "--profile fleet stop: no node logged «stopping: waiting up to … for 1 probes»"
elif ((took < 40 && clean)) && [[ -n $codes && -z $errors ]]; then
    pass "--profile fleet stop monitor monitor-2 with a probe in flight: in $took s" \
        "(stop_grace_period 40 s), then stop: exit 0 each, no error logged:$codes"
elif [[ -n $errors ]]; then
    fail "--profile fleet stop: ERROR logged by$errors"
    for name in $errors; do show "$logs/$name.log"; done
else
    fail "--profile fleet stop: $took s (40 s allowed), exit codes:${codes:- none}"
    show "$logs/stop.log"
fi

pc --profile fleet down -v >"$logs/down-v.log" 2>&1
left_volumes=$(podman volume ls -q | grep -F "${project}_" | xargs)
left_pod=$(podman pod ls -q --filter "name=pod_$project")
networks_after=$(podman network ls -q | sort)
if [[ -z $(containers) && -z $left_volumes && -z $left_pod && $networks_after == "$networks_before" ]]; then
    pass "--profile fleet down -v: no container, volume or pod left; podman network ls unchanged" \
        "($(podman network ls --format '{{.Name}}' | xargs): none created)"
else
    fail "--profile fleet down -v left containers «$(containers)», volumes «$left_volumes»," \
        "pod «$left_pod», networks «$(comm -13 <(echo "$networks_before") <(echo "$networks_after") | xargs)»"
    show "$logs/down-v.log"
fi

say "logs in $logs"
if ((${#failures[@]})); then
    exit 1
fi
