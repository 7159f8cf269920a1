"""Build a realistic dataset on PostgreSQL for the benchmarks.

    bench/generate [tiny|small|medium|large]

Sizes (customer groups; persons ≈ 1.5×, registrations ≈ 3×, follow-ups ≈ 5×):
tiny 300 over 2 projects (the test), small 10k over 10 projects (`make bench`),
medium 100k over 20 projects and large 1M over 200 projects (P2 at 100k and
1M). Every project has the same shape (5,000 customers of 10 consultants from
medium up), so the first page of a consultant's customers is the same work at
every size and only the table sizes grow.

Master data (company, users, projects with their dictionaries, unit types,
buildings, questionnaire) is created through the ORM, as a site would. The
bulk tables (parties, customer groups, persons, registrations, rooms,
follow-ups) are loaded with COPY and foreign-key triggers off; codes are drawn
from the real sequences. Then the check step proves the result is one the
application could have written: every foreign key resolves (whole tables, in
SQL), phones and ID numbers are unique per project, and a random sample of
every loaded model passes Tryton's own validation (required fields, domains,
selections, our validate_fields) plus the rules our code keeps: normalised
phones, valid ID numbers, complete approved registrations, the customer's
stage, card class and dates derived from them, and the last follow-up date.
It fails loudly otherwise.

The database is lieye_bench_<size> on the benchmarks' cluster
(scripts/pg.sh bench, or LIEYE_BENCH_PG_URI). It is built again only when
DATASET_VERSION changes (a stamp under var/bench/); module changes are
applied to it as to any database.

    bench/generate --check SIZE [SAMPLE]   only the check step, on SAMPLE
                                           records of each model (default 200)
"""

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

SIZES = {
    # projects, customers per project, consultants per project
    'tiny': (2, 150, 3),
    'small': (10, 1_000, 10),
    'medium': (20, 5_000, 10),
    'large': (200, 5_000, 10),
}
PASSWORD = 'lieye-bench'
# Raise it whenever a change here changes the data: datasets of another
# version are built again (the large one takes about 20 minutes).
DATASET_VERSION = 2
SEED = 20261203
# Share of customer groups whose highest stage is each stage (the funnel).
FUNNEL = [
    ('call', 0.30),
    ('walk_in', 0.33),
    ('qualified', 0.15),
    ('card_holder', 0.08),
    ('subscribed', 0.07),
    ('signed', 0.07),
]
# Mean follow-ups per customer by stage (≈ 5 over the funnel).
FOLLOWUPS = {
    'call': 2,
    'walk_in': 4,
    'qualified': 6,
    'card_holder': 8,
    'subscribed': 9,
    'signed': 10,
}
SURNAMES = (
    '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘'
    '于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹'
)
GIVEN = (
    '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉萍红娥玲芬燕彬鹏辉俊浩宇轩'
    '子涵欣怡梓晨雨思嘉博文佳琪一诺宁瑞雪婷晓东海波建国志红梅兰春凤云飞鑫'
)
MOBILE_PREFIXES = [
    '130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151',
    '152', '153', '155', '156', '157', '158', '159', '166', '176', '177', '178',
    '180', '181', '182', '183', '185', '186', '187', '188', '189', '198', '199',
]  # fmt: skip
# Birth places of the ID numbers (county codes known to stdnum).
AREAS = [
    '110101', '310101', '320102', '320506', '330102', '330106', '440103',
    '440304', '510104', '420102', '610102', '370102', '350102', '430102',
    '500103', '210102', '120101', '340102', '360102', '410102',
]  # fmt: skip
CALL_TOPICS = [
    '咨询户型与价格',
    '询问开盘时间',
    '了解周边学校',
    '咨询首付比例',
    '询问车位',
]
FOLLOWUP_TEXTS = [
    '电话沟通，客户仍在比较周边楼盘。',
    '客户对户型满意，约周末带家人来看房。',
    '已发送最新价格表，客户关注首付。',
    '客户暂未接听，稍后再联系。',
    '客户已到访样板间，意向较强。',
    '提醒客户签约所需材料。',
    '客户询问贷款审批进度。',
]
PLACES = ['江南花园', '滨江小区', '城西人家', '金色家园', '阳光新城', '翠苑一区']


def log(message):
    print(f'[{time.strftime("%H:%M:%S")}] {message}', flush=True)


def bench_uri():
    uri = os.environ.get('LIEYE_BENCH_PG_URI')
    if not uri:
        uri = subprocess.run(
            [str(ROOT / 'scripts' / 'pg.sh'), 'bench'],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    return uri


def source_digest():
    "What the stamp of a dataset must match for it to be used again"
    return f'dataset-{DATASET_VERSION}'


def stamp_path(size):
    return ROOT / 'var' / 'bench' / f'{size}.json'


def database_name(size):
    return f'lieye_bench_{size}'


def ensure(size, uri=None):
    """Return (database name, URI) of the dataset of size, building it
    first when missing or made by another generator; module changes are
    applied to an existing dataset as to any database"""
    uri = uri or bench_uri()
    name = database_name(size)
    stamp = stamp_path(size)
    if stamp.exists():
        info = json.loads(stamp.read_text())
        if info.get('digest') == source_digest() and info.get('uri') == uri:
            update_modules(name, uri)
            return name, uri
    generate(size, uri)
    return name, uri


def update_modules(name, uri):
    env = dict(
        os.environ,
        LIEYE_DB_NAME=name,
        LIEYE_NO_DEMO='1',
        TRYTOND_DATABASE__URI=uri,
    )
    env.pop('TRYTOND_DATABASE__PATH', None)
    subprocess.run(
        [sys.executable, str(ROOT / 'scripts' / 'database.py')], check=True, env=env
    )


def generate(size, uri, check_sample=200):
    projects, per_project, consultants = SIZES[size]
    name = database_name(size)
    started = time.perf_counter()
    stamp = stamp_path(size)
    stamp.unlink(missing_ok=True)
    recreate_database(name, uri)
    os.environ['TRYTOND_DATABASE__URI'] = uri
    os.environ.pop('TRYTOND_DATABASE__PATH', None)
    log(f'{name}: modules')
    update_modules(name, uri)
    from trytond.pool import Pool

    pool = Pool(name)
    pool.init()
    log(f'{name}: master data of {projects} projects')
    sites = load_master_data(pool, name, projects, consultants, per_project)
    log(f'{name}: customers')
    counts = load_customers(pool, name, sites, per_project)
    log(f'{name}: analyse')
    analyse(uri, name)
    log(f'{name}: check')
    check(pool, name, sample=check_sample)
    elapsed = time.perf_counter() - started
    write_stamp(size, uri, counts, elapsed)
    log(f'{name}: done in {elapsed:.0f} s: {counts}')


def write_stamp(size, uri, counts, seconds=None):
    "Mark the dataset of size checked and ready"
    stamp = stamp_path(size)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(
        json.dumps(
            {
                'size': size,
                'uri': uri,
                'digest': source_digest(),
                'counts': counts,
                'seconds': seconds and round(seconds),
            },
            indent=2,
        )
    )


def recreate_database(name, uri):
    import psycopg

    admin_uri = urlparse(uri)._replace(path='/postgres').geturl()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_master_data(pool, database, projects, consultants, per_project):
    """Create company, users, projects (with members, unit types, their copy
    of the dictionaries, buildings and rooms) and the questionnaire; return
    one dict per project with what the bulk loader needs"""
    import demo_data
    from proteus import config
    from trytond.transaction import Transaction

    config.set_trytond(database=database)
    demo_data.set_default_language(database, 'zh_CN')
    company = demo_data.load_company()
    demo_data.finish_config_wizard()

    group_xml_ids = {
        'consultant': 'lieye_sales_site.group_consultant',
        'secretary': 'lieye_sales_site.group_secretary',
        'sales_manager': 'lieye_sales_site.group_sales_manager',
        'project_manager': 'lieye_sales_site.group_project_manager',
    }
    groups = demo_data.db_ids(database, group_xml_ids.values())
    template = demo_data.PROJECTS['DEMO1']
    sites = []
    with Transaction().start(database, 0) as transaction:
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        Party = pool.get('party.party')
        Project = pool.get('lieye.project')
        Building = pool.get('lieye.building')
        (zh_cn,) = Lang.search([('code', '=', 'zh_CN')])
        load_questions(pool)
        for index in range(projects):
            code = f'P{index + 1:03d}'
            staff = [
                ('consultant', f'{code.lower()}c{k + 1:02d}')
                for k in range(consultants)
            ]
            staff += [
                ('secretary', f'{code.lower()}sec'),
                ('sales_manager', f'{code.lower()}sm'),
                ('project_manager', f'{code.lower()}pm'),
            ]
            users = User.create(
                [
                    {
                        'login': login,
                        'name': f'{code} {role_name(role)}{login[-2:]}',
                        'language': zh_cn.id,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        'groups': [('add', [groups[group_xml_ids[role]]])],
                    }
                    for role, login in staff
                ]
            )
            (developer,) = Party.create([{'name': f'立业置地（{code}）有限公司'}])
            (project,) = Project.create(
                [
                    {
                        'code': code,
                        'name': f'立业·{code}',
                        'developer': developer.id,
                        'address': f'杭州市滨江区江南大道 {index + 1} 号',
                        'decoration_standard': 'fine',
                        'sales_start': dt.date.today() - dt.timedelta(days=760),
                        'members': [
                            (
                                'create',
                                [
                                    {'user': user.id, 'role': role}
                                    for (role, _), user in zip(staff, users)
                                ],
                            )
                        ],
                        'unit_types': [
                            (
                                'create',
                                [
                                    {
                                        'name': n,
                                        'layout': layout,
                                        'area_min': low,
                                        'area_max': high,
                                    }
                                    for n, layout, low, high in template['unit_types']
                                ],
                            )
                        ],
                    }
                ]
            )
            unit_types = {u.name: u.id for u in project.unit_types}
            _, _, floors, pattern = template['buildings'][0]
            # Enough rooms for every deal of the project, and some to spare.
            rooms = per_project * 0.14 * 1.3
            units = [
                {
                    'unit_number': number,
                    'unit_type': unit_types[unit_type],
                    'building_area': Decimal(area),
                    'inner_area': Decimal(inner),
                    'orientation': orientation,
                    'base_unit_price': Decimal(price),
                }
                for number, unit_type, area, inner, orientation, price in pattern
            ]
            buildings = Building.create(
                [
                    {
                        'project': project.id,
                        'code': str(b + 1),
                        'name': f'{b + 1}号楼',
                        'floors': floors,
                        'units_per_floor': len(pattern),
                        'units': [('create', units)],
                    }
                    for b in range(max(1, round(rooms / (floors * len(pattern)))))
                ]
            )
            Project.start_selling([project])
            sites.append(
                {
                    'project': project,
                    'consultants': [
                        u.id
                        for (role, _), u in zip(staff, users)
                        if role == 'consultant'
                    ],
                    'buildings': buildings,
                }
            )
        load_rooms(pool, sites)
        # One hash for every generated user: hashing is slow on purpose.
        user = User.__table__()
        transaction.connection.cursor().execute(
            *user.update(
                [user.password_hash],
                [User.hash_password(PASSWORD)],
                where=user.login.like('p%'),
            )
        )
        for site in sites:
            site['dictionary'] = dictionary_values(pool, site['project'])
            site['project'] = site['project'].id
            site['code'] = Project(site['project']).code
            site['buildings'] = [b.id for b in site['buildings']]
        transaction.commit()
    return sites


def role_name(role):
    return {
        'consultant': '顾问',
        'secretary': '秘书',
        'sales_manager': '销售经理',
        'project_manager': '项目经理',
    }[role]


def load_questions(pool):
    "The demo questionnaire without its DEMO1-only block"
    import demo_data

    Question = pool.get('lieye.question')
    Question.create(
        [
            dict(
                name=key,
                string=label,
                type_=type_,
                section=section,
                dimension=dimension,
                stages=stages,
                required=required,
                sequence=sequence * 10,
                **(
                    {'dictionary_category': options.split(':', 1)[1]}
                    if options and options.startswith('dictionary:')
                    else {'selection': options}
                ),
            )
            for sequence, (
                key,
                label,
                type_,
                section,
                dimension,
                stages,
                required,
                options,
                projects,
            ) in enumerate(demo_data.QUESTIONS, 1)
            if not projects
        ]
    )


def load_rooms(pool, sites):
    "Rooms of every building, as the Generate Rooms wizard makes them"
    from trytond.transaction import Transaction

    from trytond.modules.lieye_sales_site.inventory import room_code

    Building = pool.get('lieye.building')
    rows = []
    now = dt.datetime.now()
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT COALESCE(MAX(id), 0) FROM lieye_room')
    (next_id,) = cursor.fetchone()
    for site in sites:
        for building in Building.browse(site['buildings']):
            for floor in range(1, building.floors + 1):
                for unit in building.units:
                    price = unit.base_unit_price + (floor - 1) * 100
                    next_id += 1
                    rows.append(
                        (
                            next_id,
                            building.id,
                            site['project'].id,
                            room_code(building.code, floor, unit.unit_number),
                            floor,
                            unit.unit_number,
                            unit.unit_type.id,
                            unit.building_area,
                            unit.inner_area,
                            unit.orientation,
                            price,
                            (price * unit.building_area).quantize(Decimal('0.01')),
                            'available',
                            now,
                            0,
                        )
                    )
    copy(
        cursor,
        'lieye_room',
        [
            'id',
            'building',
            'project',
            'code',
            'floor',
            'unit_number',
            'unit_type',
            'building_area',
            'inner_area',
            'orientation',
            'list_unit_price',
            'list_total',
            'state',
            'create_date',
            'create_uid',
        ],
        rows,
    )
    cursor.execute("SELECT setval('lieye_room_id_seq', %s)", (next_id,))
    Room = pool.get('lieye.room')
    for site in sites:
        site['rooms'] = [
            (r.id, r.building_area, r.list_unit_price)
            for r in Room.search([('project', '=', site['project'].id)], order=[])
        ]


def dictionary_values(pool, project):
    "Return {category: [(id, code)]} of the project's own dictionary"
    Dictionary = pool.get('lieye.dictionary')
    values = {}
    for value in Dictionary.search(
        [('project', '=', project.id)], order=[('id', 'ASC')]
    ):
        values.setdefault(value.category, []).append((value.id, value.code))
    return values


def copy(cursor, table, columns, rows):
    names = ', '.join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy_:
        for row in rows:
            copy_.write_row(row)


class Ids:
    "Consecutive ids of the bulk tables, given to their sequences at the end"

    def __init__(self, cursor, tables):
        self.cursor = cursor
        self.next = {}
        for table in tables:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            self.next[table] = cursor.fetchone()[0]

    def __call__(self, table):
        self.next[table] += 1
        return self.next[table]

    def save(self):
        for table, value in self.next.items():
            if value:
                self.cursor.execute(f"SELECT setval('{table}_id_seq', %s)", (value,))


CUSTOMER_COLUMNS = [
    'id', 'project', 'code', 'owner', 'stage', 'card_class', 'grade', 'intent',
    'how_heard', 'first_contact_date', 'last_followup_date', 'subscription_date',
    'contract_date', 'create_date', 'create_uid',
]  # fmt: skip
PARTY_COLUMNS = [
    'id', 'name', 'code', 'code_alnum', 'code_digit', 'active', 'create_date',
    'create_uid',
]  # fmt: skip
PERSON_COLUMNS = [
    'id', 'customer', 'project', 'party', 'sequence', 'relation', 'name',
    'name_declined', 'gender', 'birth_date', 'age_band', 'phone',
    'phone_declined', 'id_number', 'create_date', 'create_uid',
]  # fmt: skip
REGISTRATION_COLUMNS = [
    'id', 'project', 'customer', 'stage', 'card_class', 'grade', 'intent',
    'consultant', 'date', 'state', 'submitted_by', 'submitted_at',
    'residence_district', 'residence_place', 'work_district', 'industry',
    'position', 'purchase_count', 'purpose', 'area_need', 'payment_method',
    'concern_1', 'concern_2', 'main_concern', 'how_heard', 'from_call',
    'card_number', 'subscription_date', 'contract_date', 'room', 'area',
    'unit_price', 'household_income', 'family_structure', 'buy_reason_1',
    'main_reason', 'consultant_suggestion', 'answer_data', 'create_date',
    'create_uid',
]  # fmt: skip
FOLLOWUP_COLUMNS = [
    'id', 'customer', 'project', 'consultant', 'date', 'method', 'content',
    'next_date', 'result', 'create_date', 'create_uid',
]  # fmt: skip


def load_customers(pool, database, sites, per_project):
    from trytond.transaction import Transaction

    rng = random.Random(SEED)
    today = dt.date.today()
    counts = dict.fromkeys(
        ['customers', 'persons', 'registrations', 'followups', 'parties'], 0
    )
    tables = [
        'party_party',
        'lieye_customer',
        'lieye_customer_person',
        'lieye_registration',
        'lieye_followup',
    ]
    with Transaction().start(database, 0) as transaction:
        Project = pool.get('lieye.project')
        Configuration = pool.get('party.configuration')
        party_sequence = Configuration(1).get_multivalue('party_sequence')
        cursor = transaction.connection.cursor()
        # Foreign keys are checked afterwards, whole tables at once (check).
        cursor.execute('SET session_replication_role = replica')
        ids = Ids(cursor, tables)
        person_serial = 0
        previous_phones = []
        for index, site in enumerate(sites):
            project = Project(site['project'])
            codes = project.get_customer_sequence().get_many(per_project)
            rows = {table: [] for table in tables}
            phones = []
            weights = [rng.lognormvariate(0, 0.5) for _ in site['consultants']]
            rooms = list(site['rooms'])
            rng.shuffle(rooms)
            for local in range(per_project):
                owner = rng.choices(site['consultants'], weights)[0]
                customer = new_customer(
                    rng, ids, site, owner, next(codes), today, rooms
                )
                rows['lieye_customer'].append(customer['row'])
                persons = 1 + (rng.random() < (0.8 if customer['deal'] else 0.45))
                for seq in range(persons):
                    person_serial += 1
                    phone = None
                    if (
                        seq == 0
                        and local < len(previous_phones)
                        and rng.random() < 0.03
                    ):
                        # The same person asked at another site too.
                        phone = previous_phones[local]
                    person, party = new_person(
                        rng, ids, site, customer, seq, person_serial, phone, today
                    )
                    rows['lieye_customer_person'].append(person)
                    rows['party_party'].append(party)
                    if seq == 0:
                        phones.append(person[11])
                rows['lieye_registration'].extend(customer['registrations'])
                rows['lieye_followup'].extend(customer['followups'])
            previous_phones = [p for p in phones if p]
            party_codes = party_sequence.get_many(len(rows['party_party']))
            rows['party_party'] = [
                party_row(row, next(party_codes)) for row in rows['party_party']
            ]
            for table, columns in [
                ('party_party', PARTY_COLUMNS),
                ('lieye_customer', CUSTOMER_COLUMNS),
                ('lieye_customer_person', PERSON_COLUMNS),
                ('lieye_registration', REGISTRATION_COLUMNS),
                ('lieye_followup', FOLLOWUP_COLUMNS),
            ]:
                copy(cursor, table, columns, rows[table])
            counts['customers'] += len(rows['lieye_customer'])
            counts['persons'] += len(rows['lieye_customer_person'])
            counts['parties'] += len(rows['party_party'])
            counts['registrations'] += len(rows['lieye_registration'])
            counts['followups'] += len(rows['lieye_followup'])
            if (index + 1) % 10 == 0 or index + 1 == len(sites):
                log(f'  {index + 1}/{len(sites)} projects: {counts}')
                # Bound the transaction: a crash loses only the last block.
                transaction.commit()
        ids.save()
        cursor.execute('SET session_replication_role = DEFAULT')
        transaction.commit()
    return counts


def party_row(row, code):
    import re

    digits = re.sub(r'\D', '', code)[-18:]
    return (
        row[0],
        row[1],
        code,
        re.sub(r'[\W_]', '', code),
        int(digits) if digits else None,
        True,
        row[2],
        0,
    )


def pick(rng, site, category):
    return rng.choice(site['dictionary'][category])[0]


def pick_code(rng, site, category):
    return rng.choice(site['dictionary'][category])[1]


def new_customer(rng, ids, site, owner, code, today, rooms):
    """Return the customer row, its registrations and follow-ups; persons
    are added by the caller"""
    stage = rng.choices([s for s, _ in FUNNEL], [w for _, w in FUNNEL])[0]
    deal = stage in {'subscribed', 'signed'}
    if deal and not rooms:
        stage, deal = 'card_holder', False
    room = rooms.pop() if deal else None
    customer_id = ids('lieye_customer')
    first = today - dt.timedelta(days=rng.randint(30, 730))
    grade = pick(rng, site, 'grade')
    intent = rng.choice(['high', 'medium', 'medium', 'low', None])
    how_heard = pick(rng, site, 'how_heard')
    path = stage_path(rng, stage)
    # Steps spread from the first contact towards today.
    dates, date = [], first
    for _ in path:
        dates.append(date)
        date = min(today, date + dt.timedelta(days=rng.randint(1, 21)))
    draft_last = rng.random() < 0.06
    registrations = []
    approved = []
    for step, (step_stage, date) in enumerate(zip(path, dates)):
        state = 'draft' if draft_last and step == len(path) - 1 else 'approved'
        registrations.append(
            registration_row(
                rng,
                ids,
                site,
                customer_id,
                owner,
                step_stage,
                date,
                state,
                grade,
                intent,
                how_heard,
                room,
                step,
            )
        )
        if state == 'approved':
            approved.append((step_stage, date, registrations[-1]))
    values = derived_values(approved)
    followups = []
    for _ in range(poisson(rng, FOLLOWUPS[stage] - 1) + 1):
        date = first + dt.timedelta(days=rng.randint(0, (today - first).days))
        next_date = (
            date + dt.timedelta(days=rng.randint(1, 14)) if rng.random() < 0.6 else None
        )
        followups.append(
            (
                ids('lieye_followup'),
                customer_id,
                site['project'],
                owner,
                date,
                rng.choice(['phone', 'phone', 'phone', 'wechat', 'visit', 'sms']),
                rng.choice(FOLLOWUP_TEXTS),
                next_date,
                rng.choice(['reached', 'reached', 'not_reached', 'visit_booked', None]),
                dt.datetime.combine(date, dt.time(10)),
                owner,
            )
        )
    row = (
        customer_id,
        site['project'],
        code,
        owner,
        values['stage'],
        values['card_class'],
        grade,
        intent,
        how_heard,
        values['first_contact_date'],
        max(f[4] for f in followups),
        values['subscription_date'],
        values['contract_date'],
        dt.datetime.combine(first, dt.time(9)),
        owner,
    )
    return {
        'id': customer_id,
        'row': row,
        'stage': stage,
        'deal': deal,
        'registrations': registrations,
        'followups': followups,
    }


def stage_path(rng, stage):
    "The stages of a customer's registrations, in order"
    if stage == 'call':
        return ['call'] * (1 + (rng.random() < 0.5))
    path = ['call'] if rng.random() < 0.45 else []
    path.append('walk_in')
    path += ['walk_in'] * poisson(rng, 1.2)
    if stage in {'qualified', 'card_holder'} or (
        stage in {'subscribed', 'signed'} and rng.random() < 0.5
    ):
        path.append('qualified')
    if stage == 'card_holder' or (
        stage in {'subscribed', 'signed'} and rng.random() < 0.4
    ):
        path.append('card_holder')
    if stage in {'subscribed', 'signed'}:
        path.append('subscribed')
    if stage == 'signed':
        path.append('signed')
    return path


def poisson(rng, mean):
    "A Poisson draw (Knuth), enough for small means"
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def derived_values(approved):
    "What Customer.update_stage derives from the approved registrations"
    from trytond.modules.lieye_sales_site.customer import STAGE_RANK

    values = dict.fromkeys(
        ['card_class', 'first_contact_date', 'subscription_date', 'contract_date']
    )
    values['stage'] = 'call'
    if not approved:
        return values
    values['stage'] = max((s for s, _, _ in approved), key=STAGE_RANK.get)
    columns = {c: i for i, c in enumerate(REGISTRATION_COLUMNS)}
    cards = [
        r[columns['card_class']] for _, _, r in approved if r[columns['card_class']]
    ]
    values['card_class'] = max(cards) if cards else None
    for field in ['subscription_date', 'contract_date']:
        dates = [r[columns[field]] for _, _, r in approved if r[columns[field]]]
        values[field] = min(dates) if dates else None
    values['first_contact_date'] = min(d for _, d, _ in approved)
    return values


def registration_row(
    rng, ids, site, customer, owner, stage, date, state, grade, intent, how_heard,
    room, step,
):  # fmt: skip
    visit = stage != 'call'
    deal = stage in {'subscribed', 'signed'}

    def visit_value(category):
        return pick(rng, site, category) if visit else None

    answers = {}
    if stage == 'call':
        answers['call_topic'] = rng.choice(CALL_TOPICS)
    else:
        answers['budget_total'] = rng.randrange(150, 800, 10)
        answers['household_income'] = pick_code(rng, site, 'household_income')
        answers['current_housing'] = rng.choice(['own', 'rent', 'parents'])
        answers['visit_count'] = step + 1
    if stage in {'qualified', 'card_holder'}:
        answers['decision_cycle'] = rng.choice(['1m', '3m', '6m', 'later'])
    card = stage == 'card_holder'
    concern = visit_value('concern_factor')
    room_id, area, price = room if deal else (None, None, None)
    submitted_at = dt.datetime.combine(
        date, dt.time(rng.randint(9, 19), rng.randint(0, 59))
    )
    return (
        ids('lieye_registration'),
        site['project'],
        customer,
        stage,
        rng.choice(['2', '3']) if card else None,
        grade,
        intent,
        owner,
        date,
        state,
        owner if state != 'draft' else None,
        submitted_at if state != 'draft' else None,
        visit_value('district'),
        rng.choice(PLACES) if visit else None,
        visit_value('district'),
        visit_value('industry'),
        visit_value('position'),
        visit_value('purchase_count'),
        visit_value('purpose'),
        visit_value('area_need'),
        visit_value('payment_method'),
        concern,
        visit_value('concern_factor'),
        concern,
        how_heard,
        visit and step > 0,
        f'VIP{site["code"]}{customer:07d}' if card else None,
        date if stage == 'subscribed' else None,
        date if stage == 'signed' else None,
        room_id,
        area,
        (price - rng.randrange(0, 1000, 100)) if deal else None,
        pick(rng, site, 'household_income') if deal else None,
        pick(rng, site, 'family_structure') if deal else None,
        pick(rng, site, 'concern_factor') if deal else None,
        pick(rng, site, 'concern_factor') if deal else None,
        '客户意向明确，建议三日内回访。' if visit else None,
        json.dumps(answers, ensure_ascii=False, sort_keys=True),
        submitted_at,
        owner,
    )


def new_person(rng, ids, site, customer, seq, serial, phone, today):
    "Return the person row and its party row (without its code)"
    person_id = ids('lieye_customer_person')
    party_id = ids('party_party')
    gender = rng.choice(['male', 'female'])
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else '')
    name = rng.choice(SURNAMES) + given
    declined_name = seq == 0 and customer['stage'] == 'call' and rng.random() < 0.03
    if phone:
        declined_phone = False
    elif seq == 0:
        declined_phone = customer['stage'] == 'call' and rng.random() < 0.02
        phone = None if declined_phone else mobile(serial)
    else:
        # A companion's number is often not given: marked as declined.
        declined_phone = rng.random() < 0.3
        phone = None if declined_phone else mobile(serial)
    id_number = birth_date = None
    age = rng.randint(23, 68)
    if rng.random() < (0.95 if customer['deal'] else 0.35):
        birth_date = today.replace(year=today.year - age) - dt.timedelta(
            days=rng.randint(0, 364)
        )
        id_number, birth_date = unique_id_number(serial, birth_date)
    age_band = site['dictionary']['age_band'][
        min(len(site['dictionary']['age_band']) - 1, max(0, (age - 20) // 10))
    ][0]
    now = dt.datetime.combine(today, dt.time(9))
    person = (
        person_id,
        customer['id'],
        site['project'],
        party_id,
        seq + 1,
        'self' if seq == 0 else rng.choice(['spouse', 'spouse', 'parent', 'child']),
        None if declined_name else name,
        declined_name,
        gender,
        birth_date,
        age_band,
        phone,
        declined_phone,
        id_number,
        now,
        customer['row'][3],
    )
    party = (party_id, name if not declined_name else customer['row'][2], now)
    return person, party


def mobile(serial):
    "A valid mobile number, distinct for every serial below 10^8"
    # 7654321 is prime to 10^8, so the suffixes are a permutation.
    suffix = (serial * 7_654_321 + 12_345) % 10**8
    return f'+86{MOBILE_PREFIXES[serial % len(MOBILE_PREFIXES)]}{suffix:08d}'


def unique_id_number(serial, birth_date):
    """A valid 18-digit ID number, distinct for every serial below 2,560,000,
    and its birth date near birth_date: birth place and sequence digits
    carry the serial modulo 20,000, the birth date's day number modulo 128
    the rest"""
    from stdnum.cn import ric

    block, rest = divmod(serial, len(AREAS) * 1000)
    ordinal = birth_date.toordinal()
    birth = dt.date.fromordinal(ordinal - ordinal % 128 + block % 128)
    area, sequence = divmod(rest, 1000)
    body = f'{AREAS[area]}{birth:%Y%m%d}{sequence:03d}'
    return body + ric.calc_check_digit(body + '0'), birth


def analyse(uri, name):
    import psycopg

    db_uri = urlparse(uri)._replace(path=f'/{name}').geturl()
    with psycopg.connect(db_uri, autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE')


def check(pool, database, sample=200):
    """Fail loudly unless the loaded data is data the application could have
    written (see the module docstring)"""
    failures = []
    from trytond.transaction import Transaction

    with Transaction().start(database, 0, readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        failures += check_foreign_keys(cursor)
        failures += check_unique(cursor)
        rng = random.Random(SEED + 1)
        for model in [
            'party.party',
            'lieye.room',
            'lieye.customer',
            'lieye.customer.person',
            'lieye.registration',
            'lieye.followup',
        ]:
            Model = pool.get(model)
            table = Model._table
            cursor.execute(f'SELECT id FROM "{table}"')
            all_ids = [i for (i,) in cursor]
            records = Model.browse(rng.sample(all_ids, min(sample, len(all_ids))))
            for record in records:
                try:
                    Model._validate([record])
                    check_record(pool, record)
                except Exception as exception:
                    failures.append(f'{model},{record.id}: {exception}')
        counts = {}
        for key, table in [
            ('customers', 'lieye_customer'),
            ('persons', 'lieye_customer_person'),
            ('registrations', 'lieye_registration'),
            ('followups', 'lieye_followup'),
            ('parties', 'party_party'),
        ]:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            (counts[key],) = cursor.fetchone()
    if failures:
        for failure in failures[:50]:
            print('CHECK FAILED', failure, file=sys.stderr)
        raise SystemExit(f'{len(failures)} checks failed')
    return counts


def check_foreign_keys(cursor):
    "Every foreign key of the loaded tables resolves"
    failures = []
    cursor.execute(
        """SELECT c.conrelid::regclass::text, a.attname,
            c.confrelid::regclass::text
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.conrelid::regclass::text IN (
            'party_party', 'lieye_customer', 'lieye_customer_person',
            'lieye_registration', 'lieye_followup', 'lieye_room')"""
    )
    for table, column, target in cursor.fetchall():
        cursor.execute(
            f'SELECT COUNT(*) FROM {table} t LEFT JOIN {target} r '
            f'ON t."{column}" = r.id '
            f'WHERE t."{column}" IS NOT NULL AND r.id IS NULL'
        )
        (dangling,) = cursor.fetchone()
        if dangling:
            failures.append(f'{table}.{column}: {dangling} rows point nowhere')
    return failures


def check_unique(cursor):
    "Phones and ID numbers once per project, codes once"
    failures = []
    for table, columns in [
        ('lieye_customer_person', ['project', 'phone']),
        ('lieye_customer_person', ['project', 'id_number']),
        ('lieye_customer', ['code']),
        ('party_party', ['code']),
        ('lieye_room', ['project', 'code']),
    ]:
        names = ', '.join(f'"{c}"' for c in columns)
        cursor.execute(
            f'SELECT COUNT(*) FROM (SELECT {names} FROM "{table}" '
            f'WHERE "{columns[-1]}" IS NOT NULL '
            f'GROUP BY {names} HAVING COUNT(*) > 1) d'
        )
        (duplicates,) = cursor.fetchone()
        if duplicates:
            failures.append(f'{table} {columns}: {duplicates} duplicates')
    return failures


class CheckError(Exception):
    pass


def expect(condition, detail=''):
    "Like assert, but also under python -O"
    if not condition:
        raise CheckError(detail or 'unexpected value')


def check_record(pool, record):
    "The rules our code keeps that Tryton's validation does not see"
    from trytond.modules.lieye_sales_site.customer import (
        STAGE_RANK,
        normalize_id_number,
        normalize_phone,
    )

    name = record.__name__
    if name == 'lieye.customer.person':
        if record.phone:
            expect(normalize_phone(record.phone) == record.phone, record.phone)
        if record.id_number:
            expect(
                normalize_id_number(record.id_number) == record.id_number,
                record.id_number,
            )
        expect(record.project == record.customer.project, 'project')
        expect(record.party and record.party.name, 'party')
    elif name == 'lieye.registration':
        # Customer, owner and answers are checked by validate_fields.
        if record.state != 'draft':
            missing = record.missing_items()
            expect(not missing, '、'.join(missing))
    elif name == 'lieye.customer':
        approved = [r for r in record.registrations if r.state == 'approved']
        stage = (
            max((r.stage for r in approved), key=STAGE_RANK.get) if approved else 'call'
        )
        expect(record.stage == stage, (record.stage, stage))
        expect(record.code and record.code.startswith(record.project.code), 'code')
        dates = [r.date for r in approved]
        expect(
            record.first_contact_date == (min(dates) if dates else None),
            'first contact date',
        )
        for field in ['subscription_date', 'contract_date']:
            dates = [getattr(r, field) for r in approved if getattr(r, field)]
            expect(getattr(record, field) == (min(dates) if dates else None), field)
        Followup = pool.get('lieye.followup')
        followups = Followup.search([('customer', '=', record.id)])
        expect(
            record.last_followup_date == max((f.date for f in followups), default=None),
            'last follow-up date',
        )
        rooms = {r.room for r in record.registrations if r.room}
        expect(len(rooms) <= 1, rooms)
    elif name == 'lieye.followup':
        expect(record.project == record.customer.project, 'project')
        expect(record.consultant == record.customer.owner, 'consultant')
        expect(record.date <= dt.date.today(), 'date in the future')
        expect(not record.next_date or record.next_date >= record.date, 'next date')


def main():
    args = sys.argv[1:]
    only_check = args[:1] == ['--check']
    if only_check:
        args = args[1:]
    size = args[0] if args else 'small'
    if size not in SIZES:
        sys.exit(f'size must be one of {", ".join(SIZES)}')
    uri = bench_uri()
    if only_check:
        os.environ['TRYTOND_DATABASE__URI'] = uri
        os.environ.pop('TRYTOND_DATABASE__PATH', None)
        from trytond.pool import Pool

        name = database_name(size)
        pool = Pool(name)
        pool.init()
        counts = check(pool, name, sample=int(args[1]) if len(args) > 1 else 200)
        write_stamp(size, uri, counts)
        log(f'{name}: check passed: {counts}')
    else:
        generate(size, uri)


if __name__ == '__main__':
    main()
