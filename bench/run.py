"""Benchmarks: each prints our figure, a baseline measured in the same run,
and their ratio. Results also go to var/bench-results.json.

B1  a member's room list through the ORM with record rules and field access,
    against hand-written SQL returning the same rows.
P1  a consultant registers and submits N visitors (customer, person, a
    walk-in registration with about 40 answers, submit), with record rules
    and access checks on, against bare Tryton creating N parties with a
    phone (party.party + contact mechanism) as the administrator.

Runs on the database of `make setup` (LIEYE_DB_NAME, default lieye) inside
transactions that are rolled back, so the database is left as it was.
BENCH_N sets N for P1 (default 200). Later issues add the data generator and
the other benchmarks of the performance goals.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOM_FIELDS = ['code', 'floor', 'unit_number', 'building_area', 'list_total', 'state']


def timed(function, repeat):
    "Return the median seconds of repeat calls of function, after a warm-up"
    function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_room_list(database, repeat=30):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        User = pool.get('res.user')
        (user,) = User.search([('login', '=', 'secretary1')])
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
    return {
        'name': 'B1 room list with record rules vs raw SQL',
        'rows': rows,
        'ours_ms': ours * 1000,
        'baseline_ms': baseline * 1000,
        'ratio': ours / baseline,
    }


def bench_register_visitors(database, count):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        User = pool.get('res.user')
        (consultant,) = User.search([('login', '=', 'consultant1')])
        (admin,) = User.search([('login', '=', 'admin')])

    phases = dict.fromkeys(['customer', 'registration', 'submit'], 0.0)
    with Transaction().start(database, 0) as transaction:
        Question = pool.get('lieye.question')
        Project = pool.get('lieye.project')
        Dictionary = pool.get('lieye.dictionary')
        (project,) = Project.search([('code', '=', 'DEMO1')])
        # Bring the questionnaire to about 40 items, as a real site's.
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
            'family_members': 3,
            'children_school': True,
            'with_elderly': False,
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
                                            'phone': f'135{i:08d}',
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
                            ('create', [{'type': 'mobile', 'value': f'+86135{i:08d}'}])
                        ],
                    }
                ]
            )
        baseline = time.perf_counter() - start
        transaction.rollback()
    return {
        'name': f'P1 register+submit {count} visitors vs parties',
        'rows': count,
        'ours_ms': ours * 1000 / count,
        'baseline_ms': baseline * 1000 / count,
        'ratio': ours / baseline,
        'phases_ms': {k: v * 1000 / count for k, v in phases.items()},
    }


def main():
    database = os.environ.get('LIEYE_DB_NAME', 'lieye')
    count = int(os.environ.get('BENCH_N', 200))
    results = [
        bench_room_list(database),
        bench_register_visitors(database, count),
    ]
    print(f'{"benchmark":<45} {"rows":>6} {"ours ms":>9} {"base ms":>9} {"ratio":>7}')
    for r in results:
        print(
            f'{r["name"]:<45} {r["rows"]:>6} {r["ours_ms"]:>9.2f} '
            f'{r["baseline_ms"]:>9.2f} {r["ratio"]:>6.1f}x'
        )
    for r in results:
        if 'phases_ms' in r:
            phases = ', '.join(f'{k} {v:.1f} ms' for k, v in r['phases_ms'].items())
            print(f'  {r["name"]}: per entry {phases}')
    out = ROOT / 'var' / 'bench-results.json'
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
