# Environment shared by the scripts: where the database lives.
# LIEYE_DB_URI (postgresql://user@host:port/) switches from SQLite to PostgreSQL.
mkdir -p var
export TRYTOND_CONFIG="$PWD/trytond.conf"
export LIEYE_DB_NAME="${LIEYE_DB_NAME:-lieye}"
if [ -n "${LIEYE_DB_URI:-}" ]; then
    export TRYTOND_DATABASE__URI="$LIEYE_DB_URI"
else
    export TRYTOND_DATABASE__URI="sqlite://"
    export TRYTOND_DATABASE__PATH="${TRYTOND_DATABASE__PATH:-$PWD/var}"
fi
export TRYTOND_WEB__ROOT="${TRYTOND_WEB__ROOT:-$PWD/var/sao}"
export TRYTOND_WEB__LISTEN="127.0.0.1:${LIEYE_PORT:-8000}"
