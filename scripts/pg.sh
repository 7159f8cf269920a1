#!/usr/bin/env bash
# Start a private PostgreSQL cluster for the tests under var/pg (fresh each
# run, trust authentication on 127.0.0.1 only, durability off for speed) and
# print its URI. Installs the Debian server package when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${LIEYE_TEST_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
DATA=$PWD/var/pg

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    if [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
        bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    else
        echo "no PostgreSQL server installed" >&2
        exit 1
    fi
fi

# PostgreSQL refuses to run as root: run it as the postgres user if we are.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/bash -c "$*"
    else
        bash -c "$*"
    fi
}

if [ -f "$DATA/postmaster.pid" ]; then
    as_pg "'$bindir/pg_ctl' -D '$DATA' -m immediate stop" >&2 || true
fi
rm -rf "$DATA"
mkdir -p "$DATA"
[ "$(id -u)" = 0 ] && chown postgres: "$DATA"
as_pg "'$bindir/initdb' -D '$DATA' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
as_pg "'$bindir/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w start \
    -o \"-p $PORT -k '$DATA' -c listen_addresses=127.0.0.1 \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=200\"" >&2
echo "postgresql://postgres@127.0.0.1:$PORT/"
