#!/bin/sh
# Run once by the postgres image when its data volume is first created
# (docker-compose.yml mounts it into /docker-entrypoint-initdb.d).
set -e

# Trigram indexes for the ilike searches of names and phones: the extension
# must exist before trytond-admin creates the indexes.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm'

# Streaming replication for the `postgres-replica` service (profile replica).
if [ -n "$LIEYE_REPLICATION_PASSWORD" ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v password="$LIEYE_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
    echo 'host replication replicator all scram-sha-256' >> "$PGDATA/pg_hba.conf"
fi
