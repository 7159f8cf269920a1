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
bulk tables (parties, customer groups, persons, registrations with their
review rounds, rooms, follow-ups, moves to the pool) are loaded with COPY and
foreign-key triggers off; codes are drawn from the real sequences; the
registrations' history versions are written by SQL from the loaded rows.
Each customer's history is written in order: entries reviewed the same day
(the newest of the last two weeks may still wait), follow-ups in time to keep
the customer until they stop, then the move to the pool; every protection
and deadline is the policy's own rule applied to what was known then.

Then the check step proves the result is one the application could have
written: every foreign key resolves (whole tables, in SQL), phones and ID
numbers are unique per project, and a random sample of every loaded model
passes Tryton's own validation (required fields, domains, selections, our
validate_fields) plus the rules our code keeps: normalised phones, valid ID
numbers, complete submitted registrations, the customer's stage, card class,
dates and last entry date derived from them, the last follow-up date, the
pool deadline and derived values as the module itself computes them, the
moves to the pool, review rounds consistent with the state, each
submission's protection, the history versions. It fails loudly otherwise.

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
# version are built again (the large one takes about 12 minutes).
DATASET_VERSION = 3
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
    load_customers(pool, name, sites, per_project)
    log(f'{name}: analyse')
    analyse(uri, name)
    log(f'{name}: check')
    counts = check(pool, name, sample=check_sample)
    counts['flags'] = flag_counts(pool, name)
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
                    # The secretary reviews most entries, the sales manager
                    # the rest.
                    'reviewers': [
                        u.id
                        for (role, _), u in zip(staff, users)
                        if role in {'secretary', 'sales_manager'}
                    ],
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
    'how_heard', 'first_contact_date', 'last_entry_date', 'last_followup_date',
    'subscription_date', 'contract_date', 'assigned_date', 'pool_deadline',
    'in_pool', 'previous_owner', 'pool_warned', 'create_date', 'create_uid',
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
    'create_uid', 'write_date', 'write_uid',
]  # fmt: skip
REVIEW_COLUMNS = [
    'id', 'registration', 'round', 'action', 'user', 'date', 'reason',
    'protection_deadline', 'protection_days', 'create_date', 'create_uid',
]  # fmt: skip
FOLLOWUP_COLUMNS = [
    'id', 'customer', 'project', 'consultant', 'date', 'method', 'content',
    'next_date', 'result', 'create_date', 'create_uid',
]  # fmt: skip
ASSIGNMENT_COLUMNS = [
    'id', 'customer', 'project', 'date', 'kind', 'from_owner', 'to_owner',
    'user', 'reason', 'create_date', 'create_uid',
]  # fmt: skip
# The tables loaded in bulk, in the order of their foreign keys.
BULK_TABLES = [
    ('party_party', PARTY_COLUMNS),
    ('lieye_customer', CUSTOMER_COLUMNS),
    ('lieye_customer_person', PERSON_COLUMNS),
    ('lieye_registration', REGISTRATION_COLUMNS),
    ('lieye_registration_review', REVIEW_COLUMNS),
    ('lieye_followup', FOLLOWUP_COLUMNS),
    ('lieye_customer_assignment', ASSIGNMENT_COLUMNS),
]
# Follow-ups are entered first thing in the morning, entries from half past
# nine: a follow-up of the day counts for the entries of the day.
FOLLOWUP_TIME = dt.time(9, 10)
ENTRY_START = dt.time(9, 30)


def load_customers(pool, database, sites, per_project):
    from trytond.i18n import gettext
    from trytond.transaction import Transaction

    from trytond.modules.lieye_sales_site.customer import STAGES

    rng = random.Random(SEED)
    today = dt.date.today()
    counts = dict.fromkeys(
        ['customers', 'persons', 'registrations', 'reviews', 'followups', 'parties'],
        0,
    )
    tables = [table for table, _ in BULK_TABLES]
    with Transaction().start(database, 0, context={'language': 'zh_CN'}) as transaction:
        Project = pool.get('lieye.project')
        Policy = pool.get('lieye.project.policy')
        Configuration = pool.get('party.configuration')
        party_sequence = Configuration(1).get_multivalue('party_sequence')
        # What the daily update of the pool writes on the customers it moves.
        pool_reason = gettext('lieye_sales_site.msg_pool_reason_overdue')
        policies = Policy.in_force([s['project'] for s in sites])
        cursor = transaction.connection.cursor()
        # Foreign keys are checked afterwards, whole tables at once (check).
        cursor.execute('SET session_replication_role = replica')
        ids = Ids(cursor, tables)
        person_serial = 0
        previous_phones, previous_held = [], []
        block_start = ids.next['lieye_registration'] + 1
        saves = {}
        for index, site in enumerate(sites):
            policy = policies[site['project']]
            # The module's own days, by stage and whether followed up.
            site['pool_days'] = {
                (stage, followed): policy.pool_days(stage, followed)
                for stage, _ in STAGES
                for followed in [False, True]
            }
            site['warning_days'] = policy.warning_days
            site['pool_reason'] = pool_reason
            project = Project(site['project'])
            codes = project.get_customer_sequence().get_many(per_project)
            rows = {table: [] for table in tables}
            phones, held = [], []
            weights = [rng.lognormvariate(0, 0.5) for _ in site['consultants']]
            rooms = list(site['rooms'])
            rng.shuffle(rooms)
            specials = special_entries(rng, site, today)
            copied = None
            # The last customers of the project are the special entries.
            first_special = per_project - len(specials)
            for local in range(per_project):
                special = (
                    specials[local - first_special] if local >= first_special else None
                )
                owner = (
                    special['owner']
                    if special
                    else rng.choices(site['consultants'], weights)[0]
                )
                customer = new_customer(
                    rng, ids, site, owner, next(codes), today, rooms, special
                )
                if special and special['kind'] == 'copy':
                    # The same answers as the group's first entry.
                    copied = copy_answers(customer, copied)
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
                    elif seq == 0 and special and special['kind'] == 'shared':
                        # A customer of a consultant of the last site.
                        phone = next(
                            (p for p in previous_held if p not in phones), None
                        )
                    person, party = new_person(
                        rng, ids, site, customer, seq, person_serial, phone, today
                    )
                    rows['lieye_customer_person'].append(person)
                    rows['party_party'].append(party)
                    if seq == 0:
                        phones.append(person[11])
                        if customer['row'][3] and person[11]:
                            held.append(person[11])
                rows['lieye_registration'].extend(customer['registrations'])
                rows['lieye_registration_review'].extend(customer['reviews'])
                rows['lieye_followup'].extend(customer['followups'])
                rows['lieye_customer_assignment'].extend(customer['assignments'])
                saves.update(customer['saves'])
            previous_phones = [p for p in phones if p]
            previous_held = rng.sample(held, len(held))
            party_codes = party_sequence.get_many(len(rows['party_party']))
            rows['party_party'] = [
                party_row(row, next(party_codes)) for row in rows['party_party']
            ]
            for table, columns in BULK_TABLES:
                copy(cursor, table, columns, rows[table])
            counts['customers'] += len(rows['lieye_customer'])
            counts['persons'] += len(rows['lieye_customer_person'])
            counts['parties'] += len(rows['party_party'])
            counts['registrations'] += len(rows['lieye_registration'])
            counts['reviews'] += len(rows['lieye_registration_review'])
            counts['followups'] += len(rows['lieye_followup'])
            if (index + 1) % 10 == 0 or index + 1 == len(sites):
                block_end = ids.next['lieye_registration']
                load_registration_history(pool, cursor, block_start, block_end, saves)
                block_start, saves = block_end + 1, {}
                log(f'  {index + 1}/{len(sites)} projects: {counts}')
                # Bound the transaction: a crash loses only the last block.
                transaction.commit()
        ids.save()
        cursor.execute('SET session_replication_role = DEFAULT')
        transaction.commit()


def load_registration_history(pool, cursor, first, last, saves):
    """Write the versions the ORM keeps of the registrations first to last
    (_history): the created draft, the draft saved again (saves, by id),
    and one version by review round action, which is the state it led to"""
    from trytond.model import fields

    Registration = pool.get('lieye.registration')
    overridden = ['state', 'submitted_by', 'submitted_at', 'write_date', 'write_uid']
    kept = sorted(
        name
        for name, field in Registration._fields.items()
        if field.sql_type()
        and not isinstance(field, fields.Function)
        and name not in overridden
    )
    columns = ', '.join(f'"{c}"' for c in kept + overridden)
    values = ', '.join(f'r."{c}"' for c in kept)
    cursor.execute(
        f"""INSERT INTO lieye_registration__history ({columns})
        SELECT {values}, 'draft', NULL::integer, NULL::timestamp,
            NULL::timestamp, NULL::integer
        FROM lieye_registration r WHERE r.id BETWEEN %(first)s AND %(last)s
        UNION ALL
        SELECT {values}, 'draft', NULL::integer, NULL::timestamp,
            r.create_date + s.i * INTERVAL '10 seconds', r.consultant
        FROM unnest(%(ids)s::integer[], %(saves)s::integer[]) AS b(id, saves)
        JOIN lieye_registration r ON r.id = b.id
        CROSS JOIN generate_series(1, b.saves) AS s(i)
        UNION ALL
        SELECT {values}, v.action, r.submitted_by, v.submitted_at, v.date,
            v."user"
        FROM (SELECT registration, action, date, "user",
                MAX(date) FILTER (WHERE action = 'submitted')
                OVER (PARTITION BY registration ORDER BY date, id)
                    AS submitted_at
            FROM lieye_registration_review
            WHERE registration BETWEEN %(first)s AND %(last)s) v
        JOIN lieye_registration r ON r.id = v.registration""",
        {
            'first': first,
            'last': last,
            'ids': list(saves),
            'saves': list(saves.values()),
        },
    )


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


def special_entries(rng, site, today):
    """The entries of a project that trip the review's warnings (B7) besides
    the ones that happen by chance, all waiting for review: a consultant's
    burst of phone inquiries, another's walk-ins with copied answers, entries
    saved over and over, walk-ins of persons another consultant has in
    another project, and second calls just before the customer would go to
    the pool"""
    from trytond.modules.lieye_sales_site.registration import (
        BURST_ENTRIES,
        EDIT_LIMIT,
    )

    burst, copier, editor, sharer, keeper = (
        rng.sample(site['consultants'], 5)
        if len(site['consultants']) >= 5
        else [rng.choice(site['consultants']) for _ in range(5)]
    )

    def recent_day():
        return today - dt.timedelta(days=rng.randint(1, 7))

    def entry(kind, owner, created, path=('walk_in',), saves=0):
        "A customer whose last entry, created at created, waits for review"
        return {
            'kind': kind,
            'owner': owner,
            'path': list(path),
            'created': created,
            'saves': saves,
        }

    day = recent_day()
    specials = [
        entry('burst', burst, dt.datetime.combine(day, dt.time(14, 2 * i)), ['call'])
        for i in range(BURST_ENTRIES + 2)
    ]
    day = recent_day()
    specials += [
        entry('copy', copier, dt.datetime.combine(day, dt.time(hour)))
        for hour in [10, 12, 15, 17]
    ]
    specials += [
        entry(
            'edits',
            editor,
            dt.datetime.combine(recent_day(), dt.time(11)),
            saves=rng.randint(EDIT_LIMIT, EDIT_LIMIT + 3),
        )
        for _ in range(2)
    ]
    specials += [
        entry('shared', sharer, dt.datetime.combine(recent_day(), dt.time(16)))
        for _ in range(2)
    ]
    # A call, then nothing until the last days of its protection.
    days = site['pool_days']['call', False]
    for _ in range(2):
        created = dt.datetime.combine(recent_day(), dt.time(18))
        first = created.date() - dt.timedelta(days=days - rng.randint(0, 3))
        specials.append(entry('protection', keeper, created, ['call', 'call']))
        specials[-1]['dates'] = [first, created.date()]
    for special in specials:
        special.setdefault('dates', [special['created'].date()])
    return specials


def copy_answers(customer, template):
    """Give the customer's entry the answers of template, the first entry of
    its group, and return the template"""
    from trytond.modules.lieye_sales_site.registration import COPIED_ITEMS

    (row,) = customer['registrations']
    if template is None:
        return row
    columns = {c: i for i, c in enumerate(REGISTRATION_COLUMNS)}
    row = list(row)
    for name in ['answer_data', *COPIED_ITEMS]:
        row[columns[name]] = template[columns[name]]
    customer['registrations'] = [tuple(row)]
    return template


class Timeline:
    """What a customer's pool deadline is computed from, as its history is
    written day after day (Customer.update_pool_deadline)"""

    def __init__(self, pool_days, assigned):
        self.pool_days = pool_days
        self.stage = 'call'
        self.assigned = assigned
        self.last_entry = None
        self.last_followup = None

    def contact(self):
        return max(d for d in [self.assigned, self.last_entry, self.last_followup] if d)

    def window(self):
        return self.pool_days[self.stage, self.last_followup is not None]

    def deadline(self):
        days = self.window()
        if days is not None:
            return self.contact() + dt.timedelta(days=days)

    def follow(self, date):
        self.last_followup = max(self.last_followup or date, date)

    def enter(self, stage, date):
        from trytond.modules.lieye_sales_site.customer import STAGE_RANK

        self.stage = max(self.stage, stage, key=STAGE_RANK.get)
        self.last_entry = max(self.last_entry or date, date)


# Entries of the last days may still wait for their review, or have been
# returned for correction; older ones were reviewed.
RECENT_DAYS = 14
RECENT_STATES = [('submitted', 0.8), ('returned', 0.05), ('approved', 0.15)]
# Approved entries returned once before, and entries saved again as drafts.
RETURNED_BEFORE = 0.04
SAVED_AGAIN = 0.1
RETURN_REASONS = [
    '来访渠道填写有误，请核对。',
    '客户电话与登记不符，请确认。',
    '缺少置业意向说明。',
]


def new_customer(rng, ids, site, owner, code, today, rooms, special=None):
    """Return the customer row, its registrations with their review rounds,
    its follow-ups and its move to the pool if it lapsed; persons are added
    by the caller

    The history is written in order, as the module would have kept it: no
    contact comes after the customer went to the pool (the consultant
    followed up in time when an entry was to come), and every deadline is
    the module's rule applied to the contacts known at the time."""
    from trytond.modules.lieye_sales_site.customer import STAGE_RANK

    last_day = today - dt.timedelta(days=1)
    if special:
        path, dates = special['path'], special['dates']
        stage = max(path, key=STAGE_RANK.get)
        first = dates[0]
    else:
        stage = rng.choices([s for s, _ in FUNNEL], [w for _, w in FUNNEL])[0]
        first = today - dt.timedelta(days=rng.randint(1, 730))
    deal = stage in {'subscribed', 'signed'}
    if deal and not rooms:
        stage, deal = 'card_holder', False
    room = rooms.pop() if deal else None
    if not special:
        path = stage_path(rng, stage)
        # Steps spread from the first contact towards yesterday, a day each
        # at least: an entry is reviewed before the next one comes.
        first = min(first, last_day - dt.timedelta(days=len(path) - 1))
        dates, date = [], first
        for step in range(len(path)):
            dates.append(date)
            latest = last_day - dt.timedelta(days=len(path) - step - 2)
            date = min(latest, date + dt.timedelta(days=rng.randint(1, 21)))
    customer_id = ids('lieye_customer')
    grade = pick(rng, site, 'grade')
    intent = rng.choice(['high', 'medium', 'medium', 'low', None])
    how_heard = pick(rng, site, 'how_heard')
    followup_count = poisson(rng, FOLLOWUPS[stage] - 1) + 1
    # Half the follow-ups come between the entries, the others after them
    # (all after them for the special entries).
    planned = sorted(
        first + dt.timedelta(days=rng.randint(0, (dates[-1] - first).days))
        for _ in range(0 if special else followup_count // 2)
    )
    timeline = Timeline(site['pool_days'], first)
    followup_dates = []

    def follow(date):
        followup_dates.append(date)
        timeline.follow(date)

    def keep_until(date):
        "Follow up in time for the customer to stay until date"
        deadline = timeline.deadline()
        while deadline is not None and deadline < date:
            start = timeline.contact() + dt.timedelta(days=1)
            follow(start + dt.timedelta(days=rng.randint(0, (deadline - start).days)))
            deadline = timeline.deadline()

    draft_last = not special and rng.random() < 0.06
    registrations, reviews, approved, saves = [], [], [], {}
    for step, (step_stage, date) in enumerate(zip(path, dates)):
        while planned and planned[0] <= date:
            keep_until(planned[0])
            follow(planned.pop(0))
        keep_until(date)
        last = step == len(path) - 1
        if last and special:
            state = 'submitted'
        elif last and draft_last:
            state = 'draft'
        elif last and (today - date).days <= RECENT_DAYS:
            state = rng.choices(*zip(*RECENT_STATES))[0]
        else:
            state = 'approved'
        if last and special:
            created = special['created']
        else:
            created = dt.datetime.combine(date, ENTRY_START) + dt.timedelta(
                minutes=rng.randint(0, 600)
            )
        registration_id = ids('lieye_registration')
        saved = (
            special['saves'] if last and special else int(rng.random() < SAVED_AGAIN)
        )
        if saved:
            saves[registration_id] = saved
        rounds = review_rounds(
            rng, ids, site, registration_id, owner, state, created, timeline
        )
        reviews.extend(rounds)
        submitted = [r for r in rounds if r[3] == 'submitted']
        if rounds:
            write = (rounds[-1][5], rounds[-1][4])
        elif saved:
            write = (created + dt.timedelta(seconds=10 * saved), owner)
        else:
            write = (None, None)
        row = registration_row(
            rng, registration_id, site, customer_id, owner, step_stage, date,
            state, grade, intent, how_heard, room, step,
            stamps=(
                owner if submitted else None,
                submitted[-1][5] if submitted else None,
                created,
                owner,
                *write,
            ),
        )  # fmt: skip
        registrations.append(row)
        if state == 'approved':
            approved.append((step_stage, date, row))
            timeline.enter(step_stage, date)
    # The follow-ups after the entries, each within the days the customer
    # stays, until it goes quiet.
    start = max(timeline.contact(), dates[-1])
    for _ in range(followup_count - len(followup_dates)):
        date = start + dt.timedelta(days=rng.randint(1, timeline.window() or 60))
        deadline = timeline.deadline()
        if date > last_day or (deadline is not None and date > deadline):
            break
        follow(date)
        start = date
    values = derived_values(approved)
    deadline = timeline.deadline()
    # The daily update of this morning moved the customers past their
    # deadline to the pool and warned the owners of those close to it.
    lapsed = deadline is not None and deadline < today
    assignments = []
    if lapsed:
        moved = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(1))
        assignments.append(
            (
                ids('lieye_customer_assignment'),
                customer_id,
                site['project'],
                moved,
                'pool',
                owner,
                None,
                None,
                site['pool_reason'],
                moved,
                0,
            )
        )
    warned = (
        not lapsed
        and deadline is not None
        and (deadline - today).days <= site['warning_days']
    )
    followups = []
    for date in sorted(followup_dates):
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
                dt.datetime.combine(date, FOLLOWUP_TIME),
                owner,
            )
        )
    row = (
        customer_id,
        site['project'],
        code,
        None if lapsed else owner,
        values['stage'],
        values['card_class'],
        grade,
        intent,
        how_heard,
        values['first_contact_date'],
        values['last_entry_date'],
        max(followup_dates, default=None),
        values['subscription_date'],
        values['contract_date'],
        None if lapsed else first,
        None if lapsed else deadline,
        lapsed,
        owner if lapsed else None,
        warned,
        dt.datetime.combine(first, dt.time(9)),
        owner,
    )
    return {
        'id': customer_id,
        'row': row,
        'creator': owner,
        'stage': stage,
        'deal': deal,
        'registrations': registrations,
        'reviews': reviews,
        'saves': saves,
        'followups': followups,
        'assignments': assignments,
    }


def review_rounds(rng, ids, site, registration, consultant, state, created, timeline):
    """Return the review rows of a registration created at created that
    ends in state: submitted by its consultant a few minutes later with the
    customer's protection of the moment, returned once now and then,
    reviewed the same day by the secretary or the sales manager"""
    if state == 'draft':
        return []
    rows = []
    deadline = timeline.deadline()
    when = created + dt.timedelta(minutes=rng.randint(3, 40))
    returned = state == 'returned' or rng.random() < RETURNED_BEFORE
    reviewer = site['reviewers'][rng.random() < 0.2]

    def add(round_, action, user, reason=None):
        protection = (None, None)
        if action == 'submitted' and deadline is not None:
            protection = (deadline, (deadline - when.date()).days)
        rows.append(
            (
                ids('lieye_registration_review'),
                registration,
                round_,
                action,
                user,
                when,
                reason,
                *protection,
                when,
                user,
            )
        )

    add(1, 'submitted', consultant)
    if returned:
        when += dt.timedelta(minutes=rng.randint(10, 90))
        add(1, 'returned', reviewer, rng.choice(RETURN_REASONS))
        if state == 'returned':
            return rows
        when += dt.timedelta(minutes=rng.randint(10, 60))
        add(2, 'submitted', consultant)
    if state == 'approved':
        when += dt.timedelta(minutes=rng.randint(10, 90))
        add(rows[-1][2], 'approved', reviewer)
    return rows


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
        [
            'card_class',
            'first_contact_date',
            'last_entry_date',
            'subscription_date',
            'contract_date',
        ]
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
    values['last_entry_date'] = max(d for _, d, _ in approved)
    return values


def registration_row(
    rng, registration_id, site, customer, owner, stage, date, state, grade,
    intent, how_heard, room, step, stamps,
):  # fmt: skip
    """Return the registration's row; stamps are who submitted it and when,
    and who created and last wrote it and when"""
    submitted_by, submitted_at, created, creator, written, writer = stamps
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
    return (
        registration_id,
        site['project'],
        customer,
        stage,
        rng.choice(['2', '3']) if card else None,
        grade,
        intent,
        owner,
        date,
        state,
        submitted_by,
        submitted_at,
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
        created,
        creator,
        written,
        writer,
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
        customer['creator'],
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
        sampled = {}
        for model in [
            'party.party',
            'lieye.room',
            'lieye.customer',
            'lieye.customer.person',
            'lieye.registration',
            'lieye.registration.review',
            'lieye.followup',
            'lieye.customer.assignment',
        ]:
            Model = pool.get(model)
            table = Model._table
            cursor.execute(f'SELECT id FROM "{table}"')
            all_ids = [i for (i,) in cursor]
            records = Model.browse(rng.sample(all_ids, min(sample, len(all_ids))))
            sampled[model] = [r.id for r in records]
            for record in records:
                try:
                    Model._validate([record], validated_fields(record))
                    check_record(pool, record)
                except Exception as exception:
                    failures.append(f'{model},{record.id}: {exception}')
        counts = {}
        for key, table, where in [
            ('customers', 'lieye_customer', ''),
            ('in_pool', 'lieye_customer', 'WHERE in_pool'),
            ('persons', 'lieye_customer_person', ''),
            ('registrations', 'lieye_registration', ''),
            ('waiting', 'lieye_registration', "WHERE state = 'submitted'"),
            ('reviews', 'lieye_registration_review', ''),
            ('followups', 'lieye_followup', ''),
            ('parties', 'party_party', ''),
        ]:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}" {where}')
            (counts[key],) = cursor.fetchone()
    failures += check_with_module(pool, database, sampled['lieye.customer'])
    if failures:
        for failure in failures[:50]:
            print('CHECK FAILED', failure, file=sys.stderr)
        raise SystemExit(f'{len(failures)} checks failed')
    return counts


def validated_fields(record):
    """The fields to validate record on: all, but an entry keeps the
    customer of its consultant once the customer went to the pool (it is
    checked against the previous owner by check_record)"""
    if record.__name__ != 'lieye.registration':
        return None
    if record.consultant == record.customer.owner:
        return None
    return set(record._fields) - {'customer', 'consultant', 'project'}


def check_with_module(pool, database, ids):
    """Compare the customers' derived values with what the module computes
    from their records (in a transaction rolled back): stage and dates from
    the approved registrations (update_stage), the pool deadline
    (update_pool_deadline); and for a customer in the pool, the deadline it
    had with its consultant, which had passed when it was moved"""
    from trytond.transaction import Transaction

    failures = []
    names = [
        'stage',
        'card_class',
        'first_contact_date',
        'last_entry_date',
        'subscription_date',
        'contract_date',
        'pool_deadline',
    ]
    with Transaction().start(database, 0) as transaction:
        Customer = pool.get('lieye.customer')
        cursor = transaction.connection.cursor()

        def read(ids):
            cursor.execute(
                f'SELECT id, {", ".join(names)} FROM lieye_customer WHERE id = ANY(%s)',
                (ids,),
            )
            return {id_: values for id_, *values in cursor.fetchall()}

        before = read(ids)
        Customer.update_stage(Customer.browse(ids))
        Customer.update_pool_deadline(Customer.browse(ids))
        for id_, values in read(ids).items():
            for name, stored, computed in zip(names, before[id_], values):
                if stored != computed:
                    failures.append(
                        f'lieye.customer,{id_}: {name} is {stored}, '
                        f'the module computes {computed}'
                    )
        cursor.execute(
            'SELECT a.customer, MAX(a.date) FROM lieye_customer_assignment a '
            'JOIN lieye_customer c ON c.id = a.customer '
            "WHERE c.in_pool AND a.kind = 'pool' AND c.id = ANY(%s) "
            'GROUP BY a.customer',
            (ids,),
        )
        moved = dict(cursor.fetchall())
        cursor.execute(
            'UPDATE lieye_customer SET owner = previous_owner, in_pool = FALSE '
            'WHERE id = ANY(%s)',
            (list(moved),),
        )
        Customer.update_pool_deadline(Customer.browse(list(moved)))
        for id_, values in read(list(moved)).items():
            deadline = values[names.index('pool_deadline')]
            if deadline is None or deadline >= moved[id_].date():
                failures.append(
                    f'lieye.customer,{id_}: moved to the pool on '
                    f'{moved[id_]:%Y-%m-%d}, its deadline was {deadline}'
                )
        transaction.rollback()
    return failures


def check_foreign_keys(cursor):
    "Every foreign key of the loaded tables resolves"
    failures = []
    cursor.execute(
        """SELECT c.conrelid::regclass::text, a.attname,
            c.confrelid::regclass::text
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)""",
        ([table for table, _ in BULK_TABLES] + ['lieye_room'],),
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
        # Answers are checked by validate_fields, and so are customer and
        # consultant while the customer has its consultant.
        customer = record.customer
        expect(record.project == customer.project, 'project')
        expect(record.consultant == (customer.owner or customer.previous_owner))
        if record.state != 'draft':
            missing = record.missing_items()
            expect(not missing, '、'.join(missing))
        check_rounds(pool, record)
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
        expect(
            record.last_entry_date == (max(dates) if dates else None),
            'last entry date',
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
        check_pool(pool, record)
    elif name == 'lieye.followup':
        customer = record.customer
        expect(record.project == customer.project, 'project')
        expect(record.consultant == (customer.owner or customer.previous_owner))
        expect(record.date <= dt.date.today(), 'date in the future')
        expect(not record.next_date or record.next_date >= record.date, 'next date')


def check_pool(pool, customer):
    """Whether the customer is in the pool or with its consultant since
    when, and its warning, as the moves and the daily update leave them"""
    Policy = pool.get('lieye.project.policy')
    moves = list(customer.assignments)  # latest first
    if customer.in_pool:
        expect(not customer.owner and customer.previous_owner, 'owner in the pool')
        expect(not customer.pool_deadline and not customer.assigned_date, 'pool')
        expect(
            moves
            and moves[0].kind == 'pool'
            and moves[0].from_owner == customer.previous_owner,
            'no move to the pool',
        )
        return
    expect(customer.owner, 'no consultant')
    given = [m for m in moves if m.to_owner == customer.owner]
    expect(
        customer.assigned_date
        == (given[0].date.date() if given else customer.create_date.date()),
        'assigned date',
    )
    policy = Policy.in_force([customer.project.id])[customer.project.id]
    days_left = (
        (customer.pool_deadline - dt.date.today()).days
        if customer.pool_deadline
        else None
    )
    expect(
        customer.pool_warned
        == (days_left is not None and 0 <= days_left <= policy.warning_days),
        'pool warning',
    )


def check_rounds(pool, registration):
    """The review rounds of the registration lead to its state; who
    submitted it and when is its last submission, reviewers review and say
    why they return; each submission stores the customer's protection of
    the moment; the history keeps a version for each step"""
    from trytond.transaction import Transaction

    Member = pool.get('lieye.project.member')
    reviews = sorted(registration.reviews, key=lambda r: (r.date, r.id))
    actions = [r.action for r in reviews]
    if registration.state == 'draft':
        expect(not reviews, 'review rounds of a draft')
    else:
        expect(actions[-1:] == [registration.state], f'last round action {actions}')
    reviewers = {
        m.user
        for m in Member.search(
            [
                ('project', '=', registration.project.id),
                ('role', 'in', ['secretary', 'sales_manager']),
            ]
        )
    }
    round_, open_ = 0, False
    for review in reviews:
        if review.action == 'submitted':
            expect(not open_, 'submitted twice in a round')
            round_, open_ = round_ + 1, True
            deadline = deadline_at(pool, registration.customer, review.date)
            expect(
                deadline is None or deadline >= review.date.date(),
                'entry of a customer past its deadline',
            )
            expect(
                (review.protection_deadline, review.protection_days)
                == (
                    deadline,
                    (deadline - review.date.date()).days if deadline else None,
                ),
                f'protection {review.protection_deadline} instead of {deadline}',
            )
        else:
            expect(open_, f'{review.action} without a submission')
            open_ = False
            expect(review.user in reviewers, 'reviewer')
            expect(review.action != 'returned' or review.reason, 'return reason')
        expect(review.round == round_, 'round')
    submitted = [r for r in reviews if r.action == 'submitted']
    expect(
        (registration.submitted_by, registration.submitted_at)
        == ((submitted[-1].user, submitted[-1].date) if submitted else (None, None)),
        'submitted by or at',
    )
    cursor = Transaction().connection.cursor()
    cursor.execute(
        'SELECT state, COUNT(*) OVER () FROM lieye_registration__history '
        'WHERE id = %s ORDER BY COALESCE(write_date, create_date) DESC, '
        '__id DESC LIMIT 1',
        (registration.id,),
    )
    state, versions = cursor.fetchone() or (None, 0)
    expect(
        state == registration.state and versions >= 1 + len(reviews),
        f'history: {versions} versions, the last {state}',
    )


def deadline_at(pool, customer, moment):
    """Return the customer's pool deadline at moment by the module's rule,
    from what was known then (the policy in force now: the dataset has no
    other)"""
    Policy = pool.get('lieye.project.policy')
    Followup = pool.get('lieye.followup')
    from trytond.modules.lieye_sales_site.customer import STAGE_RANK

    approved = [
        r
        for r in customer.registrations
        if any(v.action == 'approved' and v.date < moment for v in r.reviews)
    ]
    followed = max(
        (
            f.date
            for f in Followup.search([('customer', '=', customer.id)])
            if f.create_date < moment
        ),
        default=None,
    )
    given = [
        m.date.date() for m in customer.assignments if m.to_owner and m.date < moment
    ]
    assigned = given[0] if given else customer.create_date.date()
    stage = max((r.stage for r in approved), key=STAGE_RANK.get, default='call')
    entered = max((r.date for r in approved), default=None)
    policy = Policy.in_force([customer.project.id])[customer.project.id]
    return policy.deadline(
        stage, bool(followed), max(d for d in [followed, entered, assigned] if d)
    )


def flag_counts(pool, database):
    "Return how many entries waiting for review raise each warning"
    from sql import Literal
    from sql.aggregate import Count
    from trytond.transaction import Transaction

    counts = {}
    with Transaction().start(database, 0, readonly=True) as transaction:
        Registration = pool.get('lieye.registration')
        cursor = transaction.connection.cursor()
        for message, query in Registration.flag_queries().items():
            cursor.execute(*query.select(Count(Literal(1))))
            (counts[message.removeprefix('msg_flag_')],) = cursor.fetchone()
    return counts


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
        counts['flags'] = flag_counts(pool, name)
        write_stamp(size, uri, counts)
        log(f'{name}: check passed: {counts}')
    else:
        generate(size, uri)


if __name__ == '__main__':
    main()
