"""The data generator of bench/ (issue: scale): a tiny dataset is built on
PostgreSQL and passes the check step; the check step refuses data the
application could not have written."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_postgresql

ROOT = Path(__file__).resolve().parent.parent


def run_generate(*args):
    env = dict(os.environ, LIEYE_BENCH_PG_URI=os.environ['LIEYE_TEST_PG_URI'])
    env['TRYTOND_CONFIG'] = str(ROOT / 'trytond.conf')
    env.pop('TRYTOND_DATABASE__PATH', None)
    return subprocess.run(
        [str(ROOT / '.venv' / 'bin' / 'python'), '-O', 'bench/generate.py', *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def sql(query, params=()):
    from urllib.parse import urlparse

    import psycopg

    uri = urlparse(os.environ['LIEYE_TEST_PG_URI'])
    with psycopg.connect(
        uri._replace(path='/lieye_bench_tiny').geturl(), autocommit=True
    ) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def set_followup_customer(followup, customer):
    "Bypass the foreign key, as a faulty bulk load would"
    sql('ALTER TABLE lieye_followup DISABLE TRIGGER ALL')
    try:
        sql(
            'UPDATE lieye_followup SET customer = %s WHERE id = %s',
            (customer, followup),
        )
    finally:
        sql('ALTER TABLE lieye_followup ENABLE TRIGGER ALL')


@pytest.fixture(scope='module')
def tiny():
    require_postgresql()
    process = run_generate('tiny')
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process.stdout


def test_tiny_dataset(tiny):
    "R: S2.8, S3.1 — the generated dataset passes the check step"
    sys.path.insert(0, str(ROOT / 'bench'))
    import generate

    projects, per_project, consultants = generate.SIZES['tiny']
    assert 'check' in tiny and 'done' in tiny
    ((customers,),) = sql('SELECT COUNT(*) FROM lieye_customer')
    assert customers == projects * per_project
    ((persons,),) = sql('SELECT COUNT(*) FROM lieye_customer_person')
    ((registrations,),) = sql('SELECT COUNT(*) FROM lieye_registration')
    ((followups,),) = sql('SELECT COUNT(*) FROM lieye_followup')
    # The shape of a real site: 1.5 persons, 3 registrations and 5 follow-ups
    # per customer group, every stage present.
    assert 1.3 < persons / customers < 1.7
    assert 2.4 < registrations / customers < 3.6
    assert 4 < followups / customers < 6
    stages = {s for (s,) in sql('SELECT DISTINCT stage FROM lieye_customer')}
    assert stages == {
        'call',
        'walk_in',
        'qualified',
        'card_holder',
        'subscribed',
        'signed',
    }
    ((owners,),) = sql(
        'SELECT COUNT(DISTINCT COALESCE(owner, previous_owner)) FROM lieye_customer'
    )
    assert owners == projects * consultants
    # The review queue (B7): a few entries of the last days wait, and every
    # warning has entries to find; customers left without contact are in
    # the pool.
    ((waiting, approved, reviews),) = sql(
        "SELECT COUNT(*) FILTER (WHERE state = 'submitted'), "
        "COUNT(*) FILTER (WHERE state = 'approved'), "
        '(SELECT COUNT(*) FROM lieye_registration_review) FROM lieye_registration'
    )
    assert 0.01 < waiting / registrations < 0.1
    # A submission and a review for each approved entry, a submission for
    # each waiting one, and the returned rounds.
    assert reviews >= 2 * approved + waiting
    stamp = json.loads((ROOT / 'var' / 'bench' / 'tiny.json').read_text())
    assert set(stamp['counts']['flags']) == {
        'shared_phone',
        'burst',
        'same_answers',
        'edits',
        'protection',
    }
    assert all(stamp['counts']['flags'].values()), stamp['counts']['flags']
    ((pooled,),) = sql('SELECT COUNT(*) FROM lieye_customer WHERE in_pool')
    assert 0 < pooled < customers
    # Every record of the tiny set passes the check, not only a sample.
    process = run_generate('--check', 'tiny', '100000')
    assert process.returncode == 0, process.stderr[-3000:]


def test_check_refuses_bad_data(tiny):
    "The check step fails loudly on data our code would refuse"
    ((registration,),) = sql(
        "SELECT id FROM lieye_registration WHERE state = 'approved' "
        "AND stage = 'walk_in' ORDER BY id LIMIT 1"
    )
    ((person, other_person, third_person),) = sql(
        'SELECT a.id, b.id, c.id FROM lieye_customer_person a '
        'JOIN lieye_customer_person b ON a.project = b.project '
        'AND a.customer != b.customer '
        'JOIN lieye_customer_person c ON c.project = b.project '
        'AND c.customer NOT IN (a.customer, b.customer) '
        'WHERE a.phone IS NOT NULL AND b.phone IS NOT NULL '
        'AND c.phone IS NOT NULL ORDER BY a.id, b.id, c.id LIMIT 1'
    )
    ((customer, stage),) = sql(
        "SELECT id, stage FROM lieye_customer WHERE stage = 'signed' LIMIT 1"
    )
    ((followup,),) = sql('SELECT id FROM lieye_followup ORDER BY id LIMIT 1')
    ((protected, deadline),) = sql(
        'SELECT id, pool_deadline FROM lieye_customer '
        'WHERE pool_deadline IS NOT NULL ORDER BY id LIMIT 1'
    )
    ((entered, last_entry),) = sql(
        'SELECT id, last_entry_date FROM lieye_customer '
        'WHERE last_entry_date IS NOT NULL AND id != %s ORDER BY id DESC LIMIT 1',
        (protected,),
    )
    ((review, reviewed),) = sql(
        'SELECT id, registration FROM lieye_registration_review '
        "WHERE action = 'approved' AND registration != %s ORDER BY id LIMIT 1",
        (registration,),
    )
    saved = {
        'registration': sql(
            'SELECT how_heard FROM lieye_registration WHERE id = %s', (registration,)
        )[0][0],
        'phones': sql(
            'SELECT id, phone FROM lieye_customer_person WHERE id IN (%s, %s)',
            (person, other_person),
        ),
        'followup': sql(
            'SELECT customer FROM lieye_followup WHERE id = %s', (followup,)
        )[0][0],
    }
    try:
        # An approved entry without its required item, a phone in local form
        # and the same phone twice in a project, a stage no registration
        # gives, a follow-up of a customer that does not exist.
        sql(
            'UPDATE lieye_registration SET how_heard = NULL WHERE id = %s',
            (registration,),
        )
        sql(
            "UPDATE lieye_customer_person SET phone = '13912345678' WHERE id = %s",
            (person,),
        )
        sql(
            'UPDATE lieye_customer_person SET phone = '
            '(SELECT phone FROM lieye_customer_person WHERE id = %s) WHERE id = %s',
            (third_person, other_person),
        )
        sql("UPDATE lieye_customer SET stage = 'call' WHERE id = %s", (customer,))
        set_followup_customer(followup, 99999999)
        # A pool deadline the module does not compute, a last entry date
        # without its entry, an approved entry whose last round returned it.
        sql(
            "UPDATE lieye_customer SET pool_deadline = pool_deadline + 1 WHERE id = %s",
            (protected,),
        )
        sql(
            'UPDATE lieye_customer SET last_entry_date = NULL WHERE id = %s',
            (entered,),
        )
        sql(
            "UPDATE lieye_registration_review SET action = 'returned' WHERE id = %s",
            (review,),
        )
        process = run_generate('--check', 'tiny', '100000')
        assert process.returncode != 0
        report = process.stderr
        assert f'lieye.registration,{registration}' in report
        assert f'lieye.customer.person,{person}' in report
        assert 'lieye_customer_person [\'project\', \'phone\']' in report
        assert f'lieye.customer,{customer}' in report
        assert 'lieye_followup.customer: 1 rows point nowhere' in report
        assert f'lieye.customer,{protected}: pool_deadline is' in report
        assert f'lieye.customer,{entered}: last entry date' in report
        assert f'lieye.registration,{reviewed}: last round action' in report
    finally:
        sql(
            'UPDATE lieye_registration SET how_heard = %s WHERE id = %s',
            (saved['registration'], registration),
        )
        for id_, phone in saved['phones']:
            sql(
                'UPDATE lieye_customer_person SET phone = %s WHERE id = %s',
                (phone, id_),
            )
        sql("UPDATE lieye_customer SET stage = %s WHERE id = %s", (stage, customer))
        set_followup_customer(followup, saved['followup'])
        sql(
            'UPDATE lieye_customer SET pool_deadline = %s WHERE id = %s',
            (deadline, protected),
        )
        sql(
            'UPDATE lieye_customer SET last_entry_date = %s WHERE id = %s',
            (last_entry, entered),
        )
        sql(
            "UPDATE lieye_registration_review SET action = 'approved' WHERE id = %s",
            (review,),
        )
