#!/usr/bin/env bash
# Refresh the modules' locale/zh_CN.po from the code: builds a scratch
# database without demo data (the export needs English as its default
# language), exports, and lists what is still untranslated.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIEYE_DB_NAME=lieye_i18n LIEYE_NO_DEMO=1
source scripts/env.sh
.venv/bin/python scripts/database.py >/dev/null
.venv/bin/trytond-admin -c trytond.conf -d lieye_i18n --export-translations \
    -l zh_CN -u lieye_sales_site lieye_channel_crm lieye_research
for po in addons/*/locale/zh_CN.po; do
    .venv/bin/python - "$po" <<'PY'
import sys
import polib
for entry in polib.pofile(sys.argv[1]):
    if not entry.msgstr or 'fuzzy' in entry.flags:
        print(f'{sys.argv[1]}: {entry.msgctxt}: {entry.msgid!r}')
PY
done
