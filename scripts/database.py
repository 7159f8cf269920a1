"""Create or update the database with the three modules, Chinese and the demo
data. Idempotent: the modules are updated only when their files changed, and
the demo data loader skips what exists.

Environment (see scripts/env.sh): LIEYE_DB_NAME, TRYTOND_DATABASE__URI,
TRYTOND_DATABASE__PATH, TRYTOND_CONFIG. LIEYE_NO_DEMO=1 skips the demo data.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
MODULES = ['lieye_sales_site', 'lieye_channel_crm', 'lieye_research']
ADMIN_PASSWORD = 'lieye-admin'
ADMIN_EMAIL = 'admin@lieye.example'


def modules_digest():
    "Digest of the module sources and of the installed trytond version"
    import trytond

    digest = hashlib.sha256(trytond.__version__.encode())
    for module in MODULES:
        for path in sorted((ROOT / 'addons' / module).rglob('*')):
            if (
                path.is_file()
                and '__pycache__' not in path.parts
                and 'tests' not in path.parts
            ):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_database(name, uri):
    "Create the empty database if missing and return True if it was created"
    if uri.startswith('sqlite'):
        path = Path(os.environ['TRYTOND_DATABASE__PATH']) / f'{name}.sqlite'
        if path.exists() and path.stat().st_size:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return True
    import psycopg

    parsed = urlparse(uri)
    admin_uri = parsed._replace(path='/postgres').geturl()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            'SELECT 1 FROM pg_database WHERE datname = %s', (name,)
        ).fetchone()
        if not exists:
            conn.execute(
                f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''
            )
    db_uri = parsed._replace(path=f'/{name}').geturl()
    with psycopg.connect(db_uri, autocommit=True) as conn:
        # Trigram indexes for the ilike searches of names and phones.
        conn.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        initialised = conn.execute(
            "SELECT to_regclass('ir_module') IS NOT NULL"
        ).fetchone()[0]
    return not initialised


def trytond_admin(name, *args):
    with tempfile.NamedTemporaryFile('w', suffix='.pass') as passfile:
        passfile.write(ADMIN_PASSWORD)
        passfile.flush()
        env = dict(os.environ, TRYTONPASSFILE=passfile.name)
        subprocess.run(
            [
                str(ROOT / '.venv' / 'bin' / 'trytond-admin'),
                '-c',
                os.environ['TRYTOND_CONFIG'],
                '-d',
                name,
                *args,
            ],
            check=True,
            env=env,
        )


def main():
    name = os.environ['LIEYE_DB_NAME']
    uri = os.environ['TRYTOND_DATABASE__URI']
    created = ensure_database(name, uri)
    backend = 'sqlite' if uri.startswith('sqlite') else urlparse(uri).netloc
    stamp = ROOT / 'var' / f'.modules-{backend.replace("/", "_")}-{name}'
    digest = modules_digest()
    if created:
        print(f'creating {name}: activating {", ".join(MODULES)}')
        trytond_admin(
            name,
            '-u',
            *MODULES,
            '--activate-dependencies',
            '-l',
            'zh_CN',
            '--email',
            ADMIN_EMAIL,
        )
    elif not stamp.exists() or stamp.read_text() != digest:
        print(f'updating {name}: modules changed')
        trytond_admin(name, '-u', *MODULES, '--activate-dependencies', '-l', 'zh_CN')
    else:
        print(f'{name} is up to date')
    stamp.write_text(digest)
    if os.environ.get('LIEYE_NO_DEMO') != '1':
        sys.path.insert(0, str(ROOT / 'scripts'))
        import demo_data

        demo_data.load(name)


if __name__ == '__main__':
    main()
