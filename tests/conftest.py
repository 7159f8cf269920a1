"""Servers for the cross-module tests: a real trytond on a freshly built
database with the demo data, on SQLite and on PostgreSQL, reached through
JSON-RPC exactly like the web client.

PostgreSQL comes from LIEYE_TEST_PG_URI (scripts/test.sh starts the local
cluster and sets it). Without it the PostgreSQL tests are skipped, except
under CI=true where they fail."""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from rpc import Client

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / '.venv' / 'bin'
DEMO_PASSWORD = 'lieye-demo'
ADMIN_PASSWORD = 'lieye-admin'
ARTIFACTS = ROOT / 'var' / 'test-artifacts'
# A low max_attempt keeps the throttling test short: the core sleeps up to
# 2**attempts seconds after each failure.
TEST_CONFIG = '''[session]
max_attempt = 2
'''


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, backend, workdir):
        self.backend = backend
        self.workdir = workdir
        self.database = f'lieye_test_{uuid.uuid4().hex[:8]}'
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.env = dict(
            os.environ,
            TRYTOND_CONFIG=str(ROOT / 'trytond.conf'),
            LIEYE_DB_NAME=self.database,
            TRYTOND_WEB__LISTEN=f'127.0.0.1:{self.port}',
            TRYTOND_WEB__ROOT=str(ROOT / 'var' / 'sao'),
        )
        if backend == 'sqlite':
            self.env['TRYTOND_DATABASE__URI'] = 'sqlite://'
            self.env['TRYTOND_DATABASE__PATH'] = str(workdir)
        else:
            self.env['TRYTOND_DATABASE__URI'] = os.environ['LIEYE_TEST_PG_URI']
        self.process = None

    def build(self):
        subprocess.run(
            [str(VENV_BIN / 'python'), str(ROOT / 'scripts' / 'database.py')],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self):
        config = self.workdir / 'test.conf'
        config.write_text(TEST_CONFIG)
        self.log = open(self.workdir / 'trytond.log', 'w')
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / 'python'),
                '-O',
                str(VENV_BIN / 'trytond'),
                '-c',
                str(ROOT / 'trytond.conf'),
                str(config),
                '-d',
                self.database,
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / 'trytond.log').read_text()[-3000:])
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError('trytond did not start')

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(30)
            self.log.close()
        for stamp in (ROOT / 'var').glob(f'.modules-*-{self.database}'):
            stamp.unlink()
        if self.backend == 'postgresql':
            import psycopg

            uri = urlparse(self.env['TRYTOND_DATABASE__URI'])
            with psycopg.connect(
                uri._replace(path='/postgres').geturl(), autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def client(self, login=None, password=None):
        client = Client(self.url, self.database)
        if login:
            if password is None:
                password = ADMIN_PASSWORD if login == 'admin' else DEMO_PASSWORD
            client.login(login, password)
        return client

    def sql(self, query, params=()):
        "Run SQL directly on the server's database (for test set-up only)"
        if self.backend == 'sqlite':
            import sqlite3

            conn = sqlite3.connect(self.workdir / f'{self.database}.sqlite')
            try:
                cursor = conn.execute(query.replace('%s', '?'), params)
                rows = cursor.fetchall()
                conn.commit()
                return rows
            finally:
                conn.close()
        import psycopg

        uri = urlparse(self.env['TRYTOND_DATABASE__URI'])
        with psycopg.connect(
            uri._replace(path=f'/{self.database}').geturl(), autocommit=True
        ) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []


def require_postgresql():
    if not os.environ.get('LIEYE_TEST_PG_URI'):
        if os.environ.get('CI') == 'true':
            pytest.fail('no PostgreSQL: LIEYE_TEST_PG_URI is not set')
        pytest.skip('no PostgreSQL reachable (LIEYE_TEST_PG_URI unset)')


@pytest.fixture(scope='session', params=['sqlite', 'postgresql'])
def server(request, tmp_path_factory):
    if request.param == 'postgresql':
        require_postgresql()
    server = Server(request.param, tmp_path_factory.mktemp(request.param))
    server.build()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def sqlite_server(tmp_path_factory):
    "One server when the backend does not matter (browser tests)"
    server = Server('sqlite', tmp_path_factory.mktemp('sqlite-browser'))
    server.build()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_sessionstart(session):
    sys.path.insert(0, str(Path(__file__).parent))
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
