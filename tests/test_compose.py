"""The production shape: docker-compose.yml, the Dockerfile and deploy/.

Needs no server. It reads the files; where the docker client has the compose
plugin it also has `docker compose config` check the whole file (that needs
only the client, no docker engine)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / 'docker-compose.yml'
MODULES = 'lieye_sales_site lieye_channel_crm lieye_research'
# requirements.txt lines that only the development set-up needs
DEV_ONLY = {'pytest', 'playwright', 'ruff', 'pre-commit', 'pre-commit-hooks', 'pyyaml'}


@pytest.fixture(scope='module')
def services():
    return yaml.safe_load(COMPOSE.read_text())['services']


def command_text(service):
    "The service's command as one line of words"
    command = service['command']
    if isinstance(command, list):
        command = ' '.join(command)
    return ' '.join(command.replace('\\\n', ' ').split())


def pinned(text, package):
    "The versions pinned with == for package in text"
    return set(re.findall(re.escape(package) + r'(?:\[[\w,]+\])?==([\w.]+)', text))


def test_services(services):
    assert {'postgres', 'trytond', 'cron', 'worker', 'proxy', 'setup'} <= set(services)
    postgres = services['postgres']
    assert postgres['image'] == 'postgres:15'
    assert 'pg_isready' in ' '.join(postgres['healthcheck']['test'])
    assert any(
        volume.endswith(':/var/lib/postgresql/data') for volume in postgres['volumes']
    )


@pytest.mark.parametrize('name', ['trytond', 'cron', 'worker', 'setup'])
def test_trytond_environment(services, name):
    service = services[name]
    assert service['build'] == '.'
    environment = service['environment']
    assert environment['TRYTOND_DATABASE__URI'].startswith('postgresql://')
    assert environment['TRYTOND_QUEUE__WORKER'] == 'True'
    # trytond 8.0.12 fails the first login of a database not loaded at start
    assert environment['TRYTOND_DATABASE_NAMES'] == 'lieye'


def test_web_is_gunicorn_optimised(services):
    command = services['trytond']['command']
    assert command[:4] == ['python', '-O', '-m', 'gunicorn']
    assert command[-1] == 'trytond.application:app'
    (workers,) = [arg for arg in command if arg.startswith('--workers=')]
    assert int(re.sub(r'\$\{\w+:-(\d+)\}', r'\1', workers.split('=')[1])) > 1


@pytest.mark.parametrize('name', ['cron', 'worker'])
def test_daemons_preload_database(services, name):
    command = command_text(services[name])
    assert command.startswith('python -O ')
    assert f'trytond-{name} -d lieye' in command


def test_setup_activates_modules(services):
    command = command_text(services['setup'])
    assert (
        f'trytond-admin -d lieye -u {MODULES} --activate-dependencies -l zh_CN'
    ) in command
    assert 'TRYTONPASSFILE=' in command


def test_proxy_serves_https(services):
    proxy = services['proxy']
    assert any(str(port).endswith(':443') for port in proxy['ports'])
    (config,) = [
        volume.split(':')[0]
        for volume in proxy['volumes']
        if volume.startswith('./deploy/')
    ]
    text = (ROOT / config).read_text()
    assert 'listen 443 ssl' in text
    assert 'http://trytond:8000' in text
    assert 'X-Forwarded-Proto' in text


def test_versions_match_development_setup():
    dockerfile = (ROOT / 'Dockerfile').read_text()
    requirements = (ROOT / 'requirements.txt').read_text()
    setup = (ROOT / 'scripts' / 'setup.sh').read_text()
    assert re.search(r'^FROM python:3\.11-slim\b', dockerfile, re.M)

    assert pinned(dockerfile, 'trytond') == pinned(requirements, 'trytond')
    assert len(pinned(requirements, 'trytond')) == 1
    runtime = [
        line.strip()
        for line in requirements.splitlines()
        if line.strip()
        and not line.startswith('#')
        and re.split(r'[\[<>=]', line)[0].strip().lower() not in DEV_ONLY
    ]
    missing = [line for line in runtime if f"'{line}'" not in dockerfile]
    assert not missing, f'Dockerfile does not install {missing}'

    (sao,) = re.findall(r'^SAO_VERSION=(\S+)$', setup, re.M)
    assert re.findall(r'^ARG SAO_VERSION=(\S+)$', dockerfile, re.M) == [sao]
    assert 'npm pack --silent "tryton-sao@${SAO_VERSION}"' in dockerfile


def compose_plugin():
    if not shutil.which('docker'):
        return False
    return (
        subprocess.run(['docker', 'compose', 'version'], capture_output=True).returncode
        == 0
    )


@pytest.mark.skipif(
    not compose_plugin(), reason='no docker client with the compose plugin'
)
def test_docker_compose_config():
    command = [
        'docker',
        'compose',
        '--env-file',
        os.devnull,
        '-f',
        str(COMPOSE),
        '--profile',
        'replica',
        'config',
        '-q',
    ]
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith('LIEYE_')
    }
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(environment, LIEYE_DB_PASSWORD='x', LIEYE_ADMIN_PASSWORD='y'),
    )
    assert result.returncode == 0, result.stderr
    # The passwords are required: no silent default.
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env=environment
    )
    assert result.returncode != 0
    assert 'PASSWORD' in result.stderr
