#!/usr/bin/env bash
# Start a private PostgreSQL cluster and print its URI. Installs the Debian
# server package when it is missing. Trust authentication on 127.0.0.1 only.
#   scripts/pg.sh          the tests' cluster under var/pg: fresh each run,
#                          durability off for speed
#   scripts/pg.sh bench    the benchmarks' cluster under var/pg-bench: kept
#                          between runs (the generated datasets live there),
#                          durable, with memory settings for millions of rows
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=${1:-test}
if [ "$KIND" = bench ]; then
    DATA=$PWD/var/pg-bench
else
    DATA=$PWD/var/pg
fi
PORT=${LIEYE_TEST_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
# The benchmarks' cluster keeps its port so its databases keep their URI.
if [ "$KIND" = bench ] && [ -f "$DATA/lieye-port" ]; then
    PORT=$(cat "$DATA/lieye-port")
fi

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

if [ "$KIND" = bench ] && [ -f "$DATA/PG_VERSION" ]; then
    if [ -f "$DATA/postmaster.pid" ] && as_pg "'$bindir/pg_ctl' -D '$DATA' status" >/dev/null; then
        echo "postgresql://postgres@127.0.0.1:$(sed -n 4p "$DATA/postmaster.pid")/"
        exit 0
    fi
else
    if [ -f "$DATA/postmaster.pid" ]; then
        as_pg "'$bindir/pg_ctl' -D '$DATA' -m immediate stop" >&2 || true
    fi
    rm -rf "$DATA"
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
    as_pg "'$bindir/initdb' -D '$DATA' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
fi
if [ "$KIND" = bench ]; then
    # What a production server of this size would set; durability stays on.
    OPTIONS="-c shared_buffers=4GB -c effective_cache_size=12GB \
        -c work_mem=32MB -c maintenance_work_mem=1GB -c max_wal_size=8GB \
        -c random_page_cost=1.1 -c max_connections=200"
else
    OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=200"
fi
as_pg "'$bindir/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w start \
    -o \"-p $PORT -k '$DATA' -c listen_addresses=127.0.0.1 $OPTIONS\"" >&2
echo "$PORT" > "$DATA/lieye-port"
echo "postgresql://postgres@127.0.0.1:$PORT/"
