#!/usr/bin/env bash
# Set-up shared by `make run` and `make test`: Python packages, the sao web
# client, the database `lieye` with the three modules, Chinese and the demo
# data. Every step checks what is already there, so running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SAO_VERSION=8.0.11

step() { printf '\n== %s\n' "$*"; }

if [ ! -x .venv/bin/python ]; then
    step "Python virtual environment"
    python3 -m venv .venv
fi
stamp=var/.pip-stamp
if [ ! -f $stamp ] || [ requirements.txt -nt $stamp ] \
        || [ -n "$(find addons -name pyproject.toml -newer $stamp)" ]; then
    step "Python packages"
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt \
        $(printf -- '-e addons/%s ' lieye_sales_site lieye_channel_crm lieye_research)
    touch $stamp
fi

if [ ! -f var/sao/dist/tryton-sao.js ] || [ ! -d var/sao/node_modules ]; then
    step "sao web client $SAO_VERSION"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "tryton-sao@$SAO_VERSION" >/dev/null)
    rm -rf var/sao && mkdir -p var/sao
    tar -xzf "$tmp"/tryton-sao-*.tgz -C var/sao --strip-components=1
    (cd var/sao && npm install --silent --omit=dev --legacy-peer-deps --no-audit --no-fund >/dev/null)
    rm -rf "$tmp"
fi

# The web client's own zh_CN catalogue misses a few strings our users see.
.venv/bin/python - <<'PY'
import json
path = 'var/sao/locale/zh_CN.json'
catalogue = json.load(open(path, encoding='utf-8'))
extra = json.load(open('scripts/sao_zh_CN.json', encoding='utf-8'))
missing = {k: v for k, v in extra.items()
    if not (catalogue.get(k) or [None, None])[1]}
if missing:
    for key, value in missing.items():
        catalogue[key] = [None, value]
    json.dump(catalogue, open(path, 'w', encoding='utf-8'), ensure_ascii=False)
PY

step "Database ${LIEYE_DB_NAME} (${TRYTOND_DATABASE__URI})"
.venv/bin/python scripts/database.py
