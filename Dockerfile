# Production image of 立业案场客户信息平台: Tryton 8.0 LTS with the three modules
# of addons/ and the sao web client. docker-compose.yml runs it as the web
# processes (gunicorn), trytond-cron, trytond-worker and the one-shot set-up.
#
# Versions: the Python packages are requirements.txt's runtime lines (same
# trytond pin), sao is the SAO_VERSION of scripts/setup.sh. Keep them equal:
# tests/test_compose.py checks it.

ARG SAO_VERSION=8.0.11

# --- sao web client, fetched the way scripts/setup.sh does it: the npm
# tarball unpacked into a folder, then its own node_modules installed inside
# it (installed as a dependency, its index.html cannot find its libraries).
FROM node:20-bookworm-slim AS sao
ARG SAO_VERSION
WORKDIR /tmp/pack
RUN npm pack --silent "tryton-sao@${SAO_VERSION}" \
    && mkdir /sao \
    && tar -xzf tryton-sao-*.tgz -C /sao --strip-components=1 \
    && cd /sao \
    && npm install --omit=dev --legacy-peer-deps --no-audit --no-fund \
    && npm cache clean --force

# --- trytond and the modules
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# openssl: the compose `certs` service makes the proxy's self-signed
# certificate with this image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssl \
    && rm -rf /var/lib/apt/lists/*

COPY addons/lieye_sales_site /tmp/addons/lieye_sales_site
COPY addons/lieye_channel_crm /tmp/addons/lieye_channel_crm
COPY addons/lieye_research /tmp/addons/lieye_research
RUN pip install \
        'trytond[postgresql]==8.0.11' \
        'trytond-party>=8.0,<8.1' \
        'trytond-company>=8.0,<8.1' \
        'trytond-country>=8.0,<8.1' \
        'proteus>=8.0,<8.1' \
        'psycopg[binary,pool]>=3.2' \
        'xlsxwriter' \
        'phonenumbers' \
        'gunicorn' \
        /tmp/addons/lieye_sales_site \
        /tmp/addons/lieye_channel_crm \
        /tmp/addons/lieye_research \
    && rm -rf /tmp/addons \
    && python -c "import trytond.modules.lieye_research"

COPY --from=sao /sao /opt/lieye/sao
COPY trytond.conf /etc/trytond.conf

# The attachments (filestore) live under [database] path, shared by every
# trytond process through a volume.
RUN useradd --system --create-home --home-dir /var/lib/trytond trytond

ENV TRYTOND_CONFIG=/etc/trytond.conf \
    TRYTOND_WEB__ROOT=/opt/lieye/sao \
    TRYTOND_DATABASE__PATH=/var/lib/trytond

USER trytond
WORKDIR /var/lib/trytond
EXPOSE 8000
CMD ["python", "-O", "-m", "gunicorn", "--bind=0.0.0.0:8000", "--workers=4", \
     "trytond.application:app"]
