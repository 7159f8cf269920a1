"""The benchmark suite: each benchmark prints our figure, a baseline measured
in the same run, and their ratio; results also go to var/bench-results.json.

    bench/run              on the small dataset (10k customer groups)
    SIZE=large bench/run   on the large one (1M), P2 also on medium (100k)

The datasets come from bench/generate.py on the benchmarks' PostgreSQL
cluster; they are built on first use. The server is the production shape:
gunicorn workers running trytond under python -O.

B1 a secretary's room list through the ORM with record rules, vs the same
   rows by hand-written SQL.
P1 a consultant registers and submits N visitors (customer group, person and
   party, a walk-in registration with 40 answers, submit) with access checks
   on, vs bare Tryton creating N parties with a phone as the administrator.
   Both in the server process, in transactions that are rolled back.
P2 a consultant's "my customers" first page (the list view's fields, 50 rows)
   through JSON-RPC with record rules, vs hand-written indexed SQL returning
   the same rows and columns; on each dataset size, and the growth of our
   figure from the smaller to the larger.
P3 判客: the look-up of a phone among all persons (phones drawn from every
   project) for a project, as the entry form does it, in the server process,
   vs the same look-up by raw indexed SQL; and the same look-up through
   JSON-RPC (on_change_with of the entry form) for the absolute figure.
B7 a reviewer's queue of entries waiting for review (its list view's fields
   with the warnings, 50 rows, ordered as the queue) through JSON-RPC, vs the
   same page by hand-written SQL without the warnings; and its counted tabs
   (one search_count each, the warnings' tab included) vs the same counts by
   SQL, the warnings' tab counted as all.
B3 a reviewer's duplicate customers of the site, the first page of each tab
   (in the site; also in other projects) through JSON-RPC, vs the same rows
   and columns by hand-written SQL.
P7 concurrent consultants (P7_CLIENTS, default 50), each with a mixed
   workload (entry, search, first page, follow-up, home counters) and a think
   time between actions (P7_THINK, default "1,3" seconds), for P7_SECONDS
   (default 60) against P7_WORKERS gunicorn workers (default 4), vs one client
   running the same mix alone: errors, p50 and p95 of every request.

BENCH_N sets N for P1 (default 200).
"""

import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'bench'))
sys.path.insert(0, str(ROOT / 'tests'))

import generate  # noqa: E402

from rpc import Client  # noqa: E402

ROOM_FIELDS = ['code', 'floor', 'unit_number', 'building_area', 'list_total', 'state']
PAGE_FIELDS = [
    'code',
    'name',
    'project.rec_name',
    'owner.rec_name',
    'stage',
    'grade.rec_name',
    'intent',
    'first_contact_date',
    'last_followup_date',
]
# The review queue's list view (view/registration_queue_list.xml).
QUEUE_FIELDS = [
    'date',
    'customer.rec_name',
    'project.rec_name',
    'stage',
    'intent',
    'grade.rec_name',
    'consultant.rec_name',
    'submitted_at',
    'flags',
]
# The duplicate queue's list view (view/duplicate_list.xml).
DUPLICATE_FIELDS = [
    'project.rec_name',
    'match',
    'value',
    'customer_count',
    'other_projects',
]
PAGE_SIZE = 50
# Numbers no generated person has (generate.MOBILE_PREFIXES lacks 134).
FREE_PREFIX = '134'
# P7 keeps the customers it enters: each client numbers its own in a block of
# numbers (the first BLOCK_DIGITS of the eight after the prefix) that no
# earlier run used.
BLOCK_DIGITS = 4
PHONES_PER_BLOCK = 10 ** (8 - BLOCK_DIGITS)


def timed(function, repeat):
    "Return the median seconds of repeat calls of function, after a warm-up"
    function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def percentile(samples, q):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * q))]


def result(name, rows, ours, baseline, **extra):
    return dict(
        name=name,
        rows=rows,
        ours_ms=ours * 1000,
        baseline_ms=baseline * 1000,
        ratio=ours / baseline,
        **extra,
    )


def rpc_date(date):
    return {
        '__class__': 'date',
        'year': date.year,
        'month': date.month,
        'day': date.day,
    }


class Server:
    "gunicorn serving the given databases, as in docker-compose.yml"

    def __init__(self, uri, databases, workers):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        env = dict(
            os.environ,
            TRYTOND_CONFIG=str(ROOT / 'trytond.conf'),
            TRYTOND_DATABASE__URI=uri,
            TRYTOND_DATABASE_NAMES=','.join(databases),
        )
        env.pop('TRYTOND_DATABASE__PATH', None)
        self.log = open(ROOT / 'var' / 'bench-server.log', 'w')
        self.process = subprocess.Popen(
            [
                str(ROOT / '.venv' / 'bin' / 'python'),
                '-O',
                '-m',
                'gunicorn',
                f'--bind=127.0.0.1:{self.port}',
                f'--workers={workers}',
                '--timeout=300',
                'trytond.application:app',
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((ROOT / 'var' / 'bench-server.log').read_text())
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError('gunicorn did not start')

    def client(self, database, login):
        return Client(self.url, database).login(login, generate.PASSWORD)

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def connect(uri, database):
    import psycopg

    return psycopg.connect(urlparse(uri)._replace(path=f'/{database}').geturl())


def free_phone_blocks(uri, database, count):
    "Return the first count blocks of numbers under FREE_PREFIX no person has"
    conn = connect(uri, database)
    prefix = '+86' + FREE_PREFIX
    rows = conn.execute(
        'SELECT DISTINCT SUBSTR(phone, %s, %s) FROM lieye_customer_person '
        'WHERE phone LIKE %s',
        (len(prefix) + 1, BLOCK_DIGITS, f'{prefix}%'),
    ).fetchall()
    conn.close()
    used = {int(block) for (block,) in rows}
    free = [b for b in range(10**BLOCK_DIGITS) if b not in used][:count]
    assert len(free) == count, 'no free phone numbers left for the benchmark'
    return free


def free_phone(block, number):
    return f'{FREE_PREFIX}{block * PHONES_PER_BLOCK + number:08d}'


def member_projects(cursor, user_id):
    "Return the projects of which the user is an active member"
    cursor.execute(
        'SELECT project FROM lieye_project_member WHERE "user" = %s AND active',
        (user_id,),
    )
    return [p for (p,) in cursor.fetchall()]


def bench_room_list(database, repeat=30):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        User = pool.get('res.user')
        (user,) = User.search([('login', '=', 'p001sec')])
    with Transaction().start(
        database, user.id, readonly=True, context={'_check_access': True}
    ) as transaction:
        Room = pool.get('lieye.room')
        projects = User.get_lieye_projects()

        def orm():
            Room.search_read([], fields_names=ROOM_FIELDS)

        room = Room.__table__()
        cursor = transaction.connection.cursor()

        def sql():
            cursor.execute(
                *room.select(
                    room.id,
                    *(getattr(room, f) for f in ROOM_FIELDS),
                    where=room.project.in_(list(projects)),
                    order_by=[room.building, room.floor, room.unit_number, room.id],
                )
            )
            cursor.fetchall()

        rows = len(Room.search([]))
        ours, baseline = timed(orm, repeat), timed(sql, repeat)
    return result('B1 room list with record rules vs raw SQL', rows, ours, baseline)


def bench_register_visitors(database, count, phone_block):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        User = pool.get('res.user')
        (consultant,) = User.search([('login', '=', 'p001c01')])
        (admin,) = User.search([('login', '=', 'admin')])

    phases = dict.fromkeys(['customer', 'registration', 'submit'], 0.0)
    with Transaction().start(database, 0) as transaction:
        Question = pool.get('lieye.question')
        Project = pool.get('lieye.project')
        Dictionary = pool.get('lieye.dictionary')
        (project,) = Project.search([('code', '=', 'P001')])
        # Bring the questionnaire to 40 items, as a real site's.
        existing = Question.search([])
        extra = Question.create(
            [
                {
                    'name': f'bench_q{i}',
                    'string': f'问题{i}',
                    'type_': ['char', 'integer', 'boolean'][i % 3],
                    'section': 'other',
                }
                for i in range(40 - len(existing))
            ]
        )

        def dictionary(category, code):
            (value,) = Dictionary.search(
                [
                    ('project', '=', project.id),
                    ('category', '=', category),
                    ('code', '=', code),
                ]
            )
            return value.id

        standard = {
            'how_heard': dictionary('how_heard', 'internet'),
            'residence_district': dictionary('district', 'local_core'),
            'purpose': dictionary('purpose', 'own_use'),
            'area_need': dictionary('area_need', '90_120'),
            'industry': dictionary('industry', 'it'),
            'concern_1': dictionary('concern_factor', 'price'),
        }
        answers = {
            'budget_total': 300,
            'household_income': '20_30k',
            'current_housing': 'rent',
            'visit_count': 1,
        }
        for question in extra:
            answers[question.name] = {'char': '答案', 'integer': 7, 'boolean': True}[
                question.type_
            ]
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        with (
            transaction.set_user(consultant.id),
            transaction.set_context(_check_access=True, language='zh_CN'),
        ):
            start = time.perf_counter()
            for i in range(count):
                t0 = time.perf_counter()
                (customer,) = Customer.create(
                    [
                        {
                            'project': project.id,
                            'persons': [
                                (
                                    'create',
                                    [
                                        {
                                            'relation': 'self',
                                            'name': f'访客{i}',
                                            'phone': free_phone(phone_block, i),
                                        }
                                    ],
                                )
                            ],
                        }
                    ]
                )
                t1 = time.perf_counter()
                (registration,) = Registration.create(
                    [
                        dict(
                            standard,
                            project=project.id,
                            customer=customer.id,
                            consultant=consultant.id,
                            stage='walk_in',
                            answers=answers,
                        )
                    ]
                )
                t2 = time.perf_counter()
                Registration.submit([registration])
                t3 = time.perf_counter()
                phases['customer'] += t1 - t0
                phases['registration'] += t2 - t1
                phases['submit'] += t3 - t2
            ours = time.perf_counter() - start
        transaction.rollback()

    with Transaction().start(database, admin.id) as transaction:
        Party = pool.get('party.party')
        start = time.perf_counter()
        for i in range(count):
            Party.create(
                [
                    {
                        'name': f'访客{i}',
                        'contact_mechanisms': [
                            (
                                'create',
                                [
                                    {
                                        'type': 'mobile',
                                        'value': '+86' + free_phone(phone_block, i),
                                    }
                                ],
                            )
                        ],
                    }
                ]
            )
        baseline = time.perf_counter() - start
        transaction.rollback()
    return result(
        f'P1 register+submit {count} visitors vs parties',
        count,
        ours / count,
        baseline / count,
        phases_ms={k: v * 1000 / count for k, v in phases.items()},
    )


def bench_first_page(server, uri, database, repeat=50):
    "P2: the first page of a consultant's customers"
    client = server.client(database, 'p001c01')
    conn = connect(uri, database)
    cursor = conn.cursor()
    projects = member_projects(cursor, client.user_id)

    def rpc():
        return client.model(
            'lieye.customer',
            'search_read',
            [],
            0,
            PAGE_SIZE,
            None,
            PAGE_FIELDS,
        )

    # The same rows and columns: the first person's name stands for the
    # group's name, as Customer.get_name does.
    query = """SELECT c.id, c.code,
            COALESCE((SELECT p.name FROM lieye_customer_person p
                WHERE p.customer = c.id AND p.name IS NOT NULL
                ORDER BY p.sequence, p.id LIMIT 1), c.code),
            pr.name, u.name, c.stage, g.name, c.intent,
            c.first_contact_date, c.last_followup_date
        FROM lieye_customer c
        JOIN lieye_project pr ON pr.id = c.project
        JOIN res_user u ON u.id = c.owner
        LEFT JOIN lieye_dictionary g ON g.id = c.grade
        WHERE c.owner = %s AND c.project = ANY(%s)
        ORDER BY c.create_date DESC, c.id
        LIMIT %s"""

    def sql():
        cursor.execute(query, (client.user_id, projects, PAGE_SIZE))
        return cursor.fetchall()

    # The same call inside the server's process, one transaction each like
    # a request: what the ORM costs without HTTP, JSON and the session.
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()

    def orm():
        with Transaction().start(
            database, client.user_id, readonly=True, context={'_check_access': True}
        ):
            Customer = pool.get('lieye.customer')
            return Customer.search_read([], 0, PAGE_SIZE, None, PAGE_FIELDS)

    ours_rows, sql_rows = rpc(), sql()
    if [r['id'] for r in ours_rows] != [r[0] for r in sql_rows]:
        raise RuntimeError('P2: the RPC and the SQL do not return the same rows')
    if [r['id'] for r in orm()] != [r[0] for r in sql_rows]:
        raise RuntimeError('P2: the ORM and the SQL do not return the same rows')
    ours, baseline = timed(rpc, repeat), timed(sql, repeat)
    in_process = timed(orm, repeat)
    cursor.execute('SELECT COUNT(*) FROM lieye_customer')
    (total,) = cursor.fetchone()
    conn.close()
    return result(
        f'P2 my customers, first page ({total // 1000}k groups)',
        len(ours_rows),
        ours,
        baseline,
        customers=total,
        in_process_ms=in_process * 1000,
    )


def bench_phone_lookup(server, uri, database, repeat=200):
    "P3: 判客 — a phone among all persons"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    conn = connect(uri, database)
    cursor = conn.cursor()
    cursor.execute(
        'SELECT phone FROM lieye_customer_person WHERE phone IS NOT NULL '
        'ORDER BY random() LIMIT %s',
        (repeat,),
    )
    phones = [p for (p,) in cursor.fetchall()]
    cursor.execute('SELECT COUNT(*) FROM lieye_customer_person')
    (persons,) = cursor.fetchone()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        User = pool.get('res.user')
        (consultant,) = User.search([('login', '=', 'p001c01')])
    with Transaction().start(
        database, consultant.id, readonly=True, context={'_check_access': True}
    ):
        Person = pool.get('lieye.customer.person')
        Project = pool.get('lieye.project')
        (project,) = Project.search([('code', '=', 'P001')])
        samples = iter(phones * 2)

        def orm():
            return Person.find_known(project, 'phone', next(samples))

        query = (
            'SELECT id FROM lieye_customer_person '
            'WHERE phone = %s AND project = %s ORDER BY id LIMIT 1'
        )
        sql_samples = iter(phones * 2)

        def sql():
            cursor.execute(query, (next(sql_samples), project.id))
            return cursor.fetchall()

        ours, baseline = timed(orm, repeat - 1), timed(sql, repeat - 1)
    conn.close()

    client = server.client(database, 'p001c01')
    (project,) = client.search('lieye.project', [('code', '=', 'P001')])
    rpc_samples = iter(phones * 2)

    def rpc():
        return client.model(
            'lieye.registration.entry.start',
            'on_change_with',
            {'project': project, 'phone': next(rpc_samples)},
            ['known'],
        )

    over_rpc = timed(rpc, repeat - 1)
    return result(
        f'P3 phone look-up among {persons // 1000}k persons',
        persons,
        ours,
        baseline,
        rpc_ms=over_rpc * 1000,
    )


def action_views(cursor, xml_id):
    """Return the domain and order of an action of the module and the
    domains of its tabs, as the client reads them"""
    from trytond.pyson import PYSONDecoder

    cursor.execute(
        'SELECT w.domain, w."order" FROM ir_action_act_window w '
        'JOIN ir_model_data m ON m.db_id = w.id '
        "AND m.model = 'ir.action.act_window' "
        "WHERE m.module = 'lieye_sales_site' AND m.fs_id = %s",
        (xml_id,),
    )
    domain, order = cursor.fetchone()
    cursor.execute(
        'SELECT d.name, d.domain FROM ir_action_act_window_domain d '
        'JOIN ir_model_data m ON m.db_id = d.act_window '
        "AND m.model = 'ir.action.act_window' "
        "WHERE m.module = 'lieye_sales_site' AND m.fs_id = %s "
        'ORDER BY d.sequence, d.id',
        (xml_id,),
    )
    decode = PYSONDecoder().decode
    return (
        decode(domain) if domain else [],
        decode(order) if order else None,
        [(name, decode(tab) if tab else []) for name, tab in cursor.fetchall()],
    )


def bench_review_queue(server, uri, database, repeat=30):
    """B7: a reviewer's queue, its first page with the warnings and its
    counted tabs, vs the same page and counts by SQL without the warnings"""
    client = server.client(database, 'p001sec')
    conn = connect(uri, database)
    cursor = conn.cursor()
    domain, order, tabs = action_views(cursor, 'act_registration_review')
    projects = member_projects(cursor, client.user_id)

    def page(fields):
        return client.model(
            'lieye.registration', 'search_read', domain, 0, PAGE_SIZE, order, fields
        )

    # The customer's name as Customer.get_rec_name gives it: the first named
    # person and the code.
    query = """SELECT r.id, r.date, COALESCE((SELECT p.name
                FROM lieye_customer_person p
                WHERE p.customer = c.id AND p.name IS NOT NULL AND p.name != ''
                ORDER BY p.sequence, p.id LIMIT 1) || ' (' || c.code || ')',
                c.code),
            '[' || pr.code || '] ' || pr.name, r.stage, r.intent, g.name, u.name,
            r.submitted_at
        FROM lieye_registration r
        JOIN lieye_customer c ON c.id = r.customer
        JOIN lieye_project pr ON pr.id = r.project
        JOIN res_user u ON u.id = r.consultant
        LEFT JOIN lieye_dictionary g ON g.id = r.grade
        WHERE r.state = 'submitted' AND r.project = ANY(%s)
        ORDER BY r.date, r.id
        LIMIT %s"""

    def sql():
        cursor.execute(query, (projects, PAGE_SIZE))
        return cursor.fetchall()

    ours_rows, sql_rows = page(QUEUE_FIELDS), sql()
    if [r['id'] for r in ours_rows] != [r[0] for r in sql_rows]:
        raise RuntimeError('B7: the RPC and the SQL do not return the same rows')
    ours = timed(lambda: page(QUEUE_FIELDS), repeat)
    baseline = timed(sql, repeat)
    without_flags = timed(
        lambda: page([f for f in QUEUE_FIELDS if f != 'flags']), repeat
    )

    # The tabs: each count as the client asks it, and by SQL, where the
    # count of the flagged entries is the count of them all.
    plain = {
        None: '',
        ('intent', '=', 'high'): "AND intent = 'high'",
        ('intent', '=', 'medium'): "AND intent = 'medium'",
        ('intent', '=', 'low'): "AND intent = 'low'",
        ('intent', '=', None): 'AND intent IS NULL',
        ('flagged', '=', True): '',
    }
    tab_times, counts, sql_counts = {}, {}, []
    for name, tab in tabs:
        (clause,) = [tuple(c) for c in tab] or [None]
        counts[name] = client.model('lieye.registration', 'search_count', [domain, tab])
        tab_times[name] = timed(
            lambda tab=tab: client.model(
                'lieye.registration', 'search_count', [domain, tab]
            ),
            repeat,
        )
        sql_counts.append(
            'SELECT COUNT(*) FROM lieye_registration '
            f"WHERE state = 'submitted' AND project = ANY(%s) {plain[clause]}"
        )

    def sql_tabs():
        for count_query in sql_counts:
            cursor.execute(count_query, (projects,))
            cursor.fetchone()

    tabs_baseline = timed(sql_tabs, repeat)
    cursor.execute("SELECT COUNT(*) FROM lieye_registration WHERE state = 'submitted'")
    (waiting,) = cursor.fetchone()
    conn.close()
    flagged = sum(1 for r in ours_rows if r['flags'])
    return [
        result(
            'B7 review queue, first page with warnings',
            len(ours_rows),
            ours,
            baseline,
            without_flags_ms=without_flags * 1000,
            flagged_on_page=flagged,
            waiting_in_site=counts[tabs[0][0]],
            waiting_in_all_sites=waiting,
        ),
        result(
            f'B7 review queue, {len(tabs)} counted tabs',
            len(tabs),
            sum(tab_times.values()),
            tabs_baseline,
            tabs_ms={k: v * 1000 for k, v in tab_times.items()},
            counts=counts,
        ),
    ]


def bench_duplicate_queue(server, uri, database, repeat=30):
    """B3: a reviewer's duplicate customers of the site, the first page of
    each tab (in the site; also in other projects), vs the same rows and
    columns by SQL"""
    client = server.client(database, 'p001sec')
    conn = connect(uri, database)
    cursor = conn.cursor()
    _, _, tabs = action_views(cursor, 'act_customer_duplicate')
    projects = member_projects(cursor, client.user_id)
    # Numbers of several groups of the site, or known in another project.
    having = {
        'project': ('', 'HAVING COUNT(DISTINCT customer) > 1'),
        'other_projects': (
            'AND EXISTS (SELECT 1 FROM lieye_customer_person o '
            'WHERE o.{match} = p.{match} AND o.project != p.project)',
            '',
        ),
    }
    results = []
    for _, tab in tabs:
        (scope,) = [value for field, _, value in tab if field == 'scope']
        exists, groups = having[scope]
        numbers = ' UNION ALL '.join(
            f"""SELECT project, '{match}' AS match, {match} AS value,
                COUNT(DISTINCT customer) AS customers
            FROM lieye_customer_person p
            WHERE project = ANY(%(projects)s) AND {match} IS NOT NULL
            {exists.format(match=match)}
            GROUP BY project, {match} {groups}"""
            for match in ['phone', 'id_number']
        )
        query = f"""SELECT d.match, d.value, d.customers,
                '[' || pr.code || '] ' || pr.name,
                (SELECT string_agg(DISTINCT '[' || op.code || '] ' || op.name, '、')
                    FROM (SELECT project FROM lieye_customer_person
                        WHERE d.match = 'phone' AND phone = d.value
                        UNION ALL SELECT project FROM lieye_customer_person
                        WHERE d.match = 'id_number' AND id_number = d.value) o
                    JOIN lieye_project op ON op.id = o.project
                    WHERE o.project != d.project)
            FROM ({numbers}) d
            JOIN lieye_project pr ON pr.id = d.project
            ORDER BY d.value, d.match
            LIMIT %(limit)s"""

        def rpc(tab=tab):
            return client.model(
                'lieye.customer.duplicate',
                'search_read',
                tab,
                0,
                PAGE_SIZE,
                None,
                DUPLICATE_FIELDS,
            )

        def sql(query=query):
            cursor.execute(query, {'projects': projects, 'limit': PAGE_SIZE})
            return cursor.fetchall()

        ours_rows, sql_rows = rpc(), sql()
        if [(r['match'], r['value']) for r in ours_rows] != [
            tuple(r[:2]) for r in sql_rows
        ]:
            raise RuntimeError('B3: the RPC and the SQL do not return the same rows')
        count = timed(
            lambda tab=tab: client.model(
                'lieye.customer.duplicate', 'search_count', tab
            ),
            repeat,
        )
        where = {'project': 'in the site', 'other_projects': 'in other projects'}
        results.append(
            result(
                f'B3 duplicates {where[scope]}, first page',
                len(ours_rows),
                timed(rpc, repeat),
                timed(sql, repeat),
                count_ms=count * 1000,
                in_site=client.model('lieye.customer.duplicate', 'search_count', tab),
            )
        )
    conn.close()
    return results


class Workload:
    "A consultant's mixed work through JSON-RPC, timing every request"

    ACTIONS = [
        ('entry', 0.15),
        ('search', 0.30),
        ('page', 0.20),
        ('followup', 0.20),
        ('counters', 0.15),
    ]

    def __init__(self, server, database, login, serial, think, phone_block):
        self.client = server.client(database, login)
        self.serial = serial
        self.phone_block = phone_block
        self.think = think
        self.rng = random.Random(serial)
        self.timings = []
        self.errors = []
        self.count = 0
        self.project = self.client.search('lieye.project', [], limit=1)[0]
        self.customers = self.client.search('lieye.customer', [], limit=200)
        (self.how_heard,) = self.client.search(
            'lieye.dictionary',
            [('project', '=', self.project), ('category', '=', 'how_heard')],
            limit=1,
        )

    def request(self, kind, method, *args):
        start = time.perf_counter()
        try:
            return self.client.model(*args[:1], method, *args[1:])
        except Exception as exception:
            self.errors.append(f'{kind}: {exception}')
            raise
        finally:
            self.timings.append((kind, time.perf_counter() - start))

    def run_one(self):
        kind = self.rng.choices(
            [k for k, _ in self.ACTIONS], [w for _, w in self.ACTIONS]
        )[0]
        try:
            getattr(self, kind)()
        except Exception:
            pass

    def entry(self):
        self.count += 1
        phone = free_phone(self.phone_block, self.count)
        (customer,) = self.request(
            'entry',
            'create',
            'lieye.customer',
            [
                {
                    'project': self.project,
                    'persons': [
                        [
                            'create',
                            [{'relation': 'self', 'name': '来电客户', 'phone': phone}],
                        ]
                    ],
                }
            ],
        )
        (registration,) = self.request(
            'entry',
            'create',
            'lieye.registration',
            [
                {
                    'project': self.project,
                    'customer': customer,
                    'stage': 'call',
                    'how_heard': self.how_heard,
                    'answers': {'call_topic': '咨询户型与价格'},
                }
            ],
        )
        self.request('entry', 'submit', 'lieye.registration', [registration])
        self.customers.append(customer)

    def search(self):
        surname = self.rng.choice(generate.SURNAMES)
        self.request(
            'search',
            'search_read',
            'lieye.customer',
            [('rec_name', 'ilike', f'%{surname}%')],
            0,
            PAGE_SIZE,
            None,
            PAGE_FIELDS,
        )

    def page(self):
        self.request(
            'page',
            'search_read',
            'lieye.customer',
            [],
            0,
            PAGE_SIZE,
            None,
            PAGE_FIELDS,
        )

    def followup(self):
        today = dt.date.today()
        self.request(
            'followup',
            'create',
            'lieye.followup',
            [
                {
                    'customer': self.rng.choice(self.customers),
                    'date': rpc_date(today),
                    'method': 'phone',
                    'content': '电话回访，客户关注开盘时间。',
                    'next_date': rpc_date(today + dt.timedelta(days=7)),
                }
            ],
        )

    def counters(self):
        today = dt.date.today()
        week = today - dt.timedelta(days=today.weekday())
        for model, domain in [
            ('lieye.customer', [('first_contact_date', '>=', rpc_date(week))]),
            (
                'lieye.customer',
                [('first_contact_date', '>=', rpc_date(today.replace(day=1)))],
            ),
            ('lieye.followup', [('next_date', '<=', rpc_date(today))]),
            ('lieye.registration', [('state', '=', 'draft')]),
        ]:
            self.request('counters', 'search_count', model, domain)

    def run_for(self, seconds, stop):
        deadline = time.time() + seconds
        while time.time() < deadline and not stop.is_set():
            self.run_one()
            time.sleep(self.rng.uniform(*self.think))


def consultant_logins(uri, database, count):
    conn = connect(uri, database)
    rows = conn.execute(
        "SELECT login FROM res_user WHERE login ~ '^p[0-9]+c[0-9]+$' ORDER BY login"
    ).fetchall()
    conn.close()
    logins = [login for (login,) in rows]
    return [logins[i % len(logins)] for i in range(count)]


def bench_concurrency(server, uri, database, clients, seconds, think):
    "P7: many consultants at once vs one alone"
    logins = consultant_logins(uri, database, clients + 1)
    blocks = free_phone_blocks(uri, database, clients + 1)
    alone = Workload(server, database, logins[-1], clients, (0, 0), blocks[-1])
    for _ in range(20):  # warm-up
        alone.run_one()
    alone.timings, alone.errors = [], []
    for _ in range(200):
        alone.run_one()
    single = [t for _, t in alone.timings]

    workloads = [
        Workload(server, database, login, serial, think, blocks[serial])
        for serial, login in enumerate(logins[:clients])
    ]
    stop = threading.Event()
    threads = [
        threading.Thread(target=w.run_for, args=(seconds, stop)) for w in workloads
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    timings = [t for w in workloads for _, t in w.timings]
    errors = [e for w in workloads for e in w.errors]
    by_kind = {}
    for w in workloads:
        for kind, t in w.timings:
            by_kind.setdefault(kind, []).append(t)
    return result(
        f'P7 {clients} clients vs 1, p95',
        len(timings),
        percentile(timings, 0.95),
        percentile(single, 0.95),
        p50_ms=percentile(timings, 0.5) * 1000,
        single_p50_ms=percentile(single, 0.5) * 1000,
        errors=len(errors),
        single_errors=len(alone.errors),
        error_samples=errors[:5] + alone.errors[:5],
        requests_per_second=len(timings) / elapsed,
        p95_by_kind_ms={k: percentile(v, 0.95) * 1000 for k, v in by_kind.items()},
    )


def print_table(results):
    print()
    print(f'{"benchmark":<48} {"rows":>8} {"ours ms":>9} {"base ms":>9} {"ratio":>7}')
    for r in results:
        print(
            f'{r["name"]:<48} {r["rows"]:>8} {r["ours_ms"]:>9.2f} '
            f'{r["baseline_ms"]:>9.2f} {r["ratio"]:>6.1f}x'
        )
    for r in results:
        extra = {
            k: v
            for k, v in r.items()
            if k not in {'name', 'rows', 'ours_ms', 'baseline_ms', 'ratio'}
        }
        if extra:
            print(
                f'  {r["name"]}: {json.dumps(extra, ensure_ascii=False, default=str)}'
            )


def main():
    size = os.environ.get('SIZE', 'small')
    count = int(os.environ.get('BENCH_N', 200))
    clients = int(os.environ.get('P7_CLIENTS', 50))
    seconds = float(os.environ.get('P7_SECONDS', 60))
    think = tuple(float(t) for t in os.environ.get('P7_THINK', '1,3').split(','))
    workers = int(os.environ.get('P7_WORKERS', 4))
    uri = generate.bench_uri()
    sizes = ['medium', 'large'] if size == 'large' else [size]
    databases = [generate.ensure(s, uri)[0] for s in sizes]
    database = databases[-1]
    os.environ['TRYTOND_DATABASE__URI'] = uri
    os.environ.pop('TRYTOND_DATABASE__PATH', None)
    machine = {
        'cpus': os.cpu_count(),
        'python': sys.version.split()[0],
        'size': size,
        'date': dt.date.today().isoformat(),
    }
    results = []
    server = Server(uri, databases, workers)
    try:
        results.append(bench_room_list(database))
        results.append(
            bench_register_visitors(
                database, count, free_phone_blocks(uri, database, 1)[0]
            )
        )
        first_pages = [bench_first_page(server, uri, db) for db in databases]
        results.extend(first_pages)
        if len(first_pages) > 1:
            growth = first_pages[-1]['ours_ms'] / first_pages[0]['ours_ms']
            first_pages[-1]['growth'] = growth
        results.append(bench_phone_lookup(server, uri, database))
        results.extend(bench_review_queue(server, uri, database))
        results.extend(bench_duplicate_queue(server, uri, database))
        results.append(
            bench_concurrency(server, uri, database, clients, seconds, think)
        )
    finally:
        server.stop()
    print_table(results)
    out = ROOT / 'var' / 'bench-results.json'
    out.write_text(
        json.dumps({'machine': machine, 'results': results}, indent=2, default=str)
    )
    print(f'\nresults: {out.relative_to(ROOT)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
