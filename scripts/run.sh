#!/usr/bin/env bash
# Serve the web client and JSON-RPC on http://127.0.0.1:${LIEYE_PORT:-8000}.
# The database is preloaded (-d): trytond 8.0.12 fails the first login of a
# database it did not load at start.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo "立业案场客户信息平台: http://${TRYTOND_WEB__LISTEN}/ (admin / lieye-admin)"
exec .venv/bin/python -O .venv/bin/trytond -c trytond.conf -d "$LIEYE_DB_NAME"
