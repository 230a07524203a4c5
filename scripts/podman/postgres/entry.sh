#!/usr/bin/env bash
# The postgres stand-in's entry point (Containerfile beside it): what the official
# postgres image's docker-entrypoint.sh does for POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB, and nothing more (no /docker-entrypoint-initdb.d, no POSTGRES_INITDB_ARGS).
# One difference, said: the official image trusts local (socket) connections and asks
# the password over TCP; here the socket is the only way in (the check's containers share
# no network, only the socket's volume), so it asks the password there too.
set -Eeuo pipefail

if [[ ${1:-} != postgres ]]; then
    exec "$@"
fi

# As root: own the data and socket folders (fresh volumes are root's), then drop to postgres.
if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA" /run/postgresql
    chown postgres:postgres "$PGDATA" /run/postgresql
    chmod 700 "$PGDATA"
    chmod 3777 /run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
        echo "postgres stand-in: POSTGRES_PASSWORD is not set: set it (compose.yaml does)" >&2
        exit 1
    fi
    user=${POSTGRES_USER:-postgres}
    db=${POSTGRES_DB:-$user}
    initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    # Created through a private socket, so no client sees the database half made.
    init_socket=$(mktemp -d)
    pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses='' -c unix_socket_directories=$init_socket" start
    if [[ $db != postgres ]]; then
        PGPASSWORD=$POSTGRES_PASSWORD psql -q -v ON_ERROR_STOP=1 -h "$init_socket" \
            --username="$user" --dbname=postgres --set=db="$db" <<<'CREATE DATABASE :"db";'
    fi
    pg_ctl -D "$PGDATA" -w -s -m fast stop
    rmdir "$init_socket"
    echo "postgres stand-in: database $db created, owner $user"
fi
exec "$@"
