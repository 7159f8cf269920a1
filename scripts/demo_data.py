"""Demo data of DESIGN.md §4, loaded through proteus as the administrator.

Idempotent: every record is looked up by its natural key (login, code) and
created only when missing, so `make run` can load it again and again.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

DEMO_PASSWORD = 'lieye-demo'
COMPANY = '立业集团'

# login: (name, group xml ids, {project code: member role})
USERS = {
    'consultant1': (
        '置业顾问 张伟',
        ['lieye_sales_site.group_consultant'],
        {'DEMO1': 'consultant'},
    ),
    'consultant2': (
        '置业顾问 李娜',
        ['lieye_sales_site.group_consultant'],
        {'DEMO1': 'consultant'},
    ),
    'consultant3': (
        '置业顾问 王芳',
        ['lieye_sales_site.group_consultant'],
        {'DEMO2': 'consultant'},
    ),
    'secretary1': (
        '销售秘书 刘洋',
        ['lieye_sales_site.group_secretary'],
        {'DEMO1': 'secretary'},
    ),
    'manager1': (
        '销售经理 陈静',
        ['lieye_sales_site.group_sales_manager'],
        {'DEMO1': 'sales_manager'},
    ),
    # DEMO2's entries need a reviewer of their own site too.
    'secretary2': (
        '销售秘书 郭佳',
        ['lieye_sales_site.group_secretary'],
        {'DEMO2': 'secretary'},
    ),
    'pm1': (
        '项目经理 杨帆',
        ['lieye_sales_site.group_project_manager'],
        {'DEMO1': 'project_manager', 'DEMO2': 'project_manager'},
    ),
    'gm1': ('总经理 赵强', ['lieye_sales_site.group_general_manager'], {}),
    'research1': ('研究院 黄磊', ['lieye_research.group_research'], {}),
    'channel1': (
        '渠道专员 周敏',
        ['lieye_channel_crm.group_channel_staff'],
        {'DEMO1': 'channel', 'DEMO2': 'channel'},
    ),
    'loyalty1': ('立业惠专员 吴婷', ['lieye_channel_crm.group_loyalty'], {}),
    'channelmgr1': (
        '渠道经理 徐刚',
        ['lieye_channel_crm.group_channel_manager'],
        {'DEMO1': 'channel', 'DEMO2': 'channel'},
    ),
    'kam1': (
        '大客户经理 孙丽',
        ['lieye_channel_crm.group_key_account'],
        {'DEMO1': 'channel', 'DEMO2': 'channel'},
    ),
}

PROJECTS = {
    'DEMO1': {
        'name': '立业·江悦府',
        'developer': '立业置地（杭州）有限公司',
        'address': '杭州市滨江区江南大道 1888 号',
        'decoration_standard': 'fine',
        'decoration_note': '精装交付：厨卫品牌橱柜、地暖、新风系统。',
        'unit_types': [
            ('A 户型', '3室2厅2卫', Decimal('98'), Decimal('105')),
            ('B 户型', '4室2厅2卫', Decimal('128'), Decimal('135')),
            ('C 户型', '2室2厅1卫', Decimal('78'), Decimal('85')),
        ],
        # code, name, floors, [(unit, unit type, area, inner, orient, price)]
        'buildings': [
            (
                '1',
                '1号楼',
                18,
                [
                    (1, 'A 户型', '101.50', '82.30', 'S', '32000'),
                    (2, 'B 户型', '131.20', '106.80', 'NS', '33500'),
                    (3, 'B 户型', '131.20', '106.80', 'NS', '33500'),
                    (4, 'A 户型', '101.50', '82.30', 'S', '32000'),
                ],
            ),
            (
                '3',
                '3号楼',
                26,
                [
                    (1, 'C 户型', '80.60', '64.20', 'SE', '30500'),
                    (2, 'A 户型', '99.80', '80.90', 'S', '31800'),
                ],
            ),
        ],
    },
    'DEMO2': {
        'name': '立业·云栖苑',
        'developer': '立业置地（苏州）有限公司',
        'address': '苏州市工业园区星湖街 66 号',
        'decoration_standard': 'shell',
        'decoration_note': '毛坯交付。',
        'unit_types': [
            ('洋房 A', '3室2厅2卫', Decimal('115'), Decimal('120')),
            ('洋房 B', '4室2厅3卫', Decimal('143'), Decimal('150')),
        ],
        'buildings': [
            (
                '5',
                '5号楼',
                11,
                [
                    (1, '洋房 A', '118.00', '96.10', 'S', '26000'),
                    (2, '洋房 B', '146.50', '119.40', 'NS', '27500'),
                ],
            ),
        ],
    },
}


# (key, label, type, section, dimension, stages, required, options,
#  projects): options are "dictionary:<category>" or inline "code:label" lines.
QUESTIONS = [
    ('call_topic', '来电咨询内容', 'char', 'needs', None, ['call'], True, None, None),
    (
        'budget_total',
        '购房总预算（万元）',
        'integer',
        'needs',
        'budget',
        ['walk_in', 'qualified', 'card_holder'],
        False,
        None,
        None,
    ),
    (
        'household_income',
        '家庭月收入',
        'selection',
        'needs',
        'income',
        ['walk_in', 'qualified', 'card_holder', 'subscribed', 'signed'],
        False,
        'dictionary:household_income',
        None,
    ),
    (
        'decision_cycle',
        '预计购房时间',
        'selection',
        'needs',
        None,
        ['qualified', 'card_holder'],
        True,
        '1m:一个月内\n3m:三个月内\n6m:半年内\nlater:半年以上',
        None,
    ),
    (
        'current_housing',
        '现居住房屋',
        'selection',
        'residence_work',
        None,
        ['walk_in', 'qualified', 'card_holder'],
        False,
        'own:自有住房\nrent:租房\nparents:与父母同住',
        None,
    ),
    (
        'visit_count',
        '来访次数',
        'integer',
        'channel',
        None,
        ['walk_in', 'qualified', 'card_holder'],
        False,
        None,
        None,
    ),
    (
        'family_members',
        '家庭成员人数',
        'integer',
        'family',
        'family_structure',
        ['walk_in', 'qualified'],
        True,
        None,
        ['DEMO1'],
    ),
    (
        'children_school',
        '子女就学需求',
        'boolean',
        'family',
        None,
        ['walk_in', 'qualified'],
        False,
        None,
        ['DEMO1'],
    ),
    (
        'with_elderly',
        '是否与老人同住',
        'boolean',
        'family',
        None,
        ['walk_in', 'qualified'],
        False,
        None,
        ['DEMO1'],
    ),
]

# project: consultants; each gets customers in every stage and state
CUSTOMERS = {
    'DEMO1': ['consultant1', 'consultant2'],
    'DEMO2': ['consultant3'],
}
SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高'
GIVEN = [
    '伟',
    '芳',
    '娜',
    '敏',
    '静',
    '磊',
    '洋',
    '勇',
    '艳',
    '杰',
    '娟',
    '涛',
    '明',
    '超',
    '秀英',
    '华',
    '丹',
    '平',
    '刚',
    '桂英',
]
# stage, submitted?
PIPELINE = [
    ('call', True),
    ('call', False),
    ('walk_in', True),
    ('walk_in', True),
    ('walk_in', False),
    ('qualified', True),
    ('qualified', False),
    ('card_holder', True),
    ('subscribed', True),
    ('signed', True),
]


# Who reviews each project's entries, in turn (S9).
REVIEWERS = {
    'DEMO1': ['secretary1', 'manager1'],
    'DEMO2': ['secretary2'],
}
RETURN_REASONS = [
    '工作区域与居住区域填反了，请核对后重新提交。',
    '置业顾问建议过于简单，请补充客户的具体顾虑。',
]


# Public pool policy of each project (S8): days without contact by category
POLICIES = {
    'DEMO1': {
        'call_days': 15,
        'walk_in_days': 7,
        'followed_days': 30,
        'qualified_days': 45,
        'card_holder_days': 60,
        'warning_days': 3,
        'note': '来电 15 天、泛客户 7 天未回访即转入公客池；已回访客户 30 天。',
    },
    'DEMO2': {
        'call_days': 20,
        'walk_in_days': 10,
        'followed_days': 30,
        'qualified_days': 60,
        'card_holder_days': 90,
        'warning_days': 5,
        'note': '远郊项目，客户决策周期长，保护期相应延长。',
    },
}
# Who submits the policy and releases lost prospects to the pool: the
# site's sales manager, or the administrator where the site has none.
POOL_MANAGERS = {'DEMO1': 'manager1', 'DEMO2': 'admin'}
# Phone leads taken by the front desk, waiting for the manager to assign them
LEADS = {'DEMO1': [('赵先生', '13588000001'), ('孙女士', '13588000002')]}
# Customers registered twice (S6, B6), for the duplicate queue: in DEMO1 a
# couple giving their home's fixed line to two consultants, and a buyer
# known by the ID number under an old and a new mobile; in DEMO2 a buyer
# who first visited DEMO1 (customer 139…03).
# project: [(owner, [(relation, name, gender, phone, ID number)])]
DUPLICATES = {
    'DEMO1': [
        ('consultant1', [('self', '钱进', 'male', '057188886666', None)]),
        ('consultant2', [('self', '沈梅', 'female', '057188886666', None)]),
        (
            'consultant1',
            [('self', '许晴', 'female', '13500000011', '330106198503151238')],
        ),
        (
            'consultant2',
            [('self', '许晴', 'female', '13500000012', '330106198503151238')],
        ),
    ],
    'DEMO2': [('consultant3', [('self', '孔亮', 'male', '13900000003', None)])],
}


# method, result, content: cycled through each customer's follow-ups
FOLLOWUPS = [
    ('phone', 'reached', '电话回访，客户对户型感兴趣，约周末再联系。'),
    ('wechat', 'reached', '微信发送了样板间视频和最新价格表。'),
    ('phone', 'not_reached', '电话未接通，已发短信提醒回电。'),
    ('visit', 'visit_booked', '客户到访复看样板间，约定下周带家人再来。'),
    ('sms', None, '短信告知周末暖场活动时间。'),
    ('other', 'reached', '暖场活动中与客户交流了付款方式。'),
]


# Change requests of DEMO1's consultants (S15), one in each tab of the list:
# (record, field, new value, reason, how far it went); the record is an
# approved walk-in entry, its main person, or an approved deal whose unit
# price changes by the amount given.
CHANGE_REQUESTS = {
    'DEMO1': [
        (
            'walk_in',
            'residence_place',
            '星光公寓',
            '客户复访时更正了居住小区。',
            'requested',
        ),
        ('person', 'phone', '13512345678', '客户更换了手机号码。', 'requested'),
        (
            'deal',
            'unit_price',
            Decimal(-200),
            '认购时的特价优惠已获项目批准，单价按优惠后更正。',
            'applied',
        ),
        ('walk_in', 'purpose_quote', '给孩子上学用', '补充客户的原话。', 'rejected'),
    ],
}
CHANGE_REJECTION = '购房目的以客户在登记表上填写的为准，不作修改。'


def load(database):
    from proteus import Model, config

    config.set_trytond(database=database)
    config.get_config().set_context({'language': 'zh_CN'})

    Lang = Model.get('ir.lang')

    set_default_language(database, 'zh_CN')
    (zh_cn,) = Lang.find([('code', '=', 'zh_CN')])

    Company = Model.get('company.company')
    company = load_company()
    admin = Model.get('res.user')(config.get_config().user)
    if admin.company != company:
        if company not in admin.companies:
            admin.companies.append(Company(company.id))
        admin.company = Company(company.id)
    admin.language = zh_cn
    admin.save()
    finish_config_wizard()

    group_ids = db_ids(database, {g for _, groups, _ in USERS.values() for g in groups})

    def group(xml_id):
        return Model.get('res.group')(group_ids[xml_id])

    users = {}
    User = Model.get('res.user')
    for login, (name, groups, _) in USERS.items():
        found = User.find([('login', '=', login)])
        if found:
            (users[login],) = found
            continue
        user = User(login=login, name=name, language=zh_cn)
        user.password = DEMO_PASSWORD
        user.companies.append(Company(company.id))
        user.company = Company(company.id)
        for xml_id in groups:
            user.groups.append(group(xml_id))
        user.save()
        users[login] = user

    for code, values in PROJECTS.items():
        load_project(code, values, users)
    load_questions()
    for code, consultants in CUSTOMERS.items():
        if load_customers(code, [users[login] for login in consultants]):
            logins = {user.id: login for login, user in users.items()}
            review_registrations(database, code, logins)
            load_duplicates(database, code, users)
        load_followups(code)
        load_change_requests(database, code, users)
        load_pool(database, code)

    print('demo data loaded')


def db_ids(database, xml_ids):
    "Return the database ids of the records named by module.fs_id"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0, readonly=True):
        ModelData = Pool(database).get('ir.model.data')
        return {x: ModelData.get_id(*x.split('.')) for x in xml_ids}


def set_default_language(database, code):
    "Make code the language of new users and of the login page"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0) as transaction:
        Configuration = Pool(database).get('ir.configuration')
        configuration = Configuration(1)
        if configuration.language != code:
            configuration.language = code
            configuration.save()
            transaction.commit()


def load_company():
    from proteus import Model

    Company = Model.get('company.company')
    companies = Company.find([])
    if companies:
        return companies[0]
    Currency = Model.get('currency.currency')
    currencies = Currency.find([('code', '=', 'CNY')])
    if currencies:
        (cny,) = currencies
    else:
        cny = Currency(name='人民币', code='CNY', symbol='¥', rounding=Decimal('0.01'))
        cny.save()
    Party = Model.get('party.party')
    party = Party(name=COMPANY)
    party.save()
    company = Company(party=party, currency=cny, timezone='Asia/Shanghai')
    company.save()
    return company


def finish_config_wizard():
    "Mark the module configuration wizard done so users land on the menu"
    from proteus import Model

    Item = Model.get('ir.module.config_wizard.item')
    for item in Item.find([('state', '!=', 'done')]):
        item.state = 'done'
        item.save()


def load_project(code, values, users):
    from proteus import Model, Wizard

    Project = Model.get('lieye.project')
    if Project.find([('code', '=', code)]):
        return
    Party = Model.get('party.party')
    developer = Party(name=values['developer'])
    developer.save()
    project = Project(
        code=code,
        name=values['name'],
        developer=developer,
        address=values['address'],
        decoration_standard=values['decoration_standard'],
        decoration_note=values['decoration_note'],
        sales_start=dt.date.today() - dt.timedelta(days=90),
    )
    for login, (_, _, memberships) in USERS.items():
        if code in memberships:
            project.members.new(user=users[login], role=memberships[code])
    for name, layout, area_min, area_max in values['unit_types']:
        project.unit_types.new(
            name=name, layout=layout, area_min=area_min, area_max=area_max
        )
    today = dt.date.today().replace(day=1)
    for month in range(6):
        start = (today + dt.timedelta(days=32 * month)).replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        project.targets.new(
            period_start=start,
            period_end=end,
            amount=Decimal(30_000_000 + 5_000_000 * month),
        )
    project.save()
    unit_types = {u.name: u for u in project.unit_types}

    Building = Model.get('lieye.building')
    for b_code, b_name, floors, pattern in values['buildings']:
        building = Building(
            project=project,
            code=b_code,
            name=b_name,
            floors=floors,
            units_per_floor=len(pattern),
        )
        for number, unit_type, area, inner, orientation, price in pattern:
            building.units.new(
                unit_number=number,
                unit_type=unit_types[unit_type],
                building_area=Decimal(area),
                inner_area=Decimal(inner),
                orientation=orientation,
                base_unit_price=Decimal(price),
            )
        building.save()
        generate = Wizard('lieye.building.generate_rooms', [building])
        generate.form.floor_price_step = Decimal(100)
        generate.execute('generate')

    copy = Wizard('lieye.project.copy_dictionaries', [project])
    assert copy.state == 'end'
    project.click('start_selling')


def load_questions():
    from proteus import Model

    Question = Model.get('lieye.question')
    Project = Model.get('lieye.project')
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
    ) in enumerate(QUESTIONS, 1):
        if Question.find([('name', '=', key)]):
            continue
        question = Question(
            name=key,
            string=label,
            type_=type_,
            section=section,
            dimension=dimension,
            stages=stages,
            required=required,
            sequence=sequence * 10,
        )
        if options and options.startswith('dictionary:'):
            question.dictionary_category = options.split(':', 1)[1]
        elif options:
            question.selection = options
        for code in projects or []:
            (project,) = Project.find([('code', '=', code)])
            question.projects.append(Project(project.id))
        question.save()


def load_customers(code, consultants):
    from proteus import Model

    Project = Model.get('lieye.project')
    Customer = Model.get('lieye.customer')
    (project,) = Project.find([('code', '=', code)])
    if Customer.find([('project', '=', project.id)]):
        return False
    Dictionary = Model.get('lieye.dictionary')
    Room = Model.get('lieye.room')
    rooms = Room.find([('project', '=', project.id)])

    def value(category, index=0):
        values = Dictionary.find(
            [('project', '=', project.id), ('category', '=', category)]
        )
        return values[index % len(values)]

    today = dt.date.today()
    serial = {'DEMO1': 0, 'DEMO2': 500}[code]
    for consultant in consultants:
        for index, (stage, submit) in enumerate(PIPELINE):
            serial += 1
            name = SURNAMES[serial % len(SURNAMES)] + GIVEN[(serial * 7) % len(GIVEN)]
            customer = Customer(
                project=project,
                owner=consultant,
                intent=['high', 'medium', 'low'][index % 3],
            )
            customer.grade = value('grade', index)
            customer.how_heard = value('how_heard', serial)
            customer.persons.new(
                relation='self',
                name=name,
                gender='male' if serial % 2 else 'female',
                phone=f'139{serial:08d}',
            )
            if stage in {'subscribed', 'signed'}:
                customer.persons.new(
                    relation='spouse',
                    name=SURNAMES[(serial + 3) % len(SURNAMES)] + '丽',
                    gender='female',
                    phone=f'137{serial:08d}',
                )
            customer.save()
            date = today - dt.timedelta(days=(serial * 3) % 60)
            stages = [
                'call',
                'walk_in',
                'qualified',
                'card_holder',
                'subscribed',
                'signed',
            ]
            # A customer reaches its stage through the earlier ones.
            path = [
                s
                for s in stages
                if stages.index(s) <= stages.index(stage)
                and s in {'call', 'walk_in', stage}
                or (stage == 'signed' and s == 'subscribed')
            ]
            for step, step_stage in enumerate(path):
                registration = new_registration(
                    customer,
                    step_stage,
                    date - dt.timedelta(days=2 * (len(path) - step)),
                    value,
                    rooms,
                    serial,
                    code,
                )
                if submit or step < len(path) - 1:
                    registration.click('submit')
    return True


def review_registrations(database, code, logins):
    """Review the submitted entries as the project's secretary and manager:
    most are approved, some wait in the queue, a few are returned and one of
    those is corrected and submitted again"""
    from proteus import Model, Wizard, config

    admin_context = config.get_config().context
    approvals, returns, resubmissions = defaultdict(list), defaultdict(list), []
    for index, (consultant, registrations) in enumerate(submitted_by_customer(code)):
        reviewer = REVIEWERS[code][index % len(REVIEWERS[code])]
        *earlier, last = registrations
        approvals[reviewer].extend(earlier)
        if index % 5 == 4:
            continue
        if index % 9 == 2:
            reason = RETURN_REASONS[index % len(RETURN_REASONS)]
            returns[reviewer].append((last, reason))
            if index > 9:
                resubmissions.append((logins[consultant], last))
        else:
            approvals[reviewer].append(last)
    for reviewer in REVIEWERS[code]:
        set_user(database, reviewer)
        Registration = Model.get('lieye.registration')
        Registration.click([Registration(i) for i in approvals[reviewer]], 'approve')
        for registration, reason in returns[reviewer]:
            returning = Wizard(
                'lieye.registration.return', [Registration(registration)]
            )
            returning.form.reason = reason
            returning.execute('return_')
    for consultant, registration in resubmissions:
        set_user(database, consultant)
        registration = Model.get('lieye.registration')(registration)
        registration.consultant_suggestion = (
            '客户在滨江区工作、居住在西湖区；主要顾虑是学区，建议周末带家人复看。'
        )
        registration.save()
        registration.click('submit')
    config.set_trytond(database=database)
    config.get_config().set_context(admin_context)


def submitted_by_customer(code):
    """Return, for each customer of project code in code order, its owner
    and the ids of its submitted registrations in date order"""
    from proteus import Model

    Registration = Model.get('lieye.registration')
    registrations = Registration.find(
        [('project.code', '=', code), ('state', '=', 'submitted')]
    )
    registrations.sort(key=lambda r: (r.customer.code, r.date, r.id))
    customers = {}
    for registration in registrations:
        customers.setdefault(
            registration.customer.code, (registration.consultant.id, [])
        )[1].append(registration.id)
    return list(customers.values())


def set_user(database, login):
    "Go on as login, in Chinese"
    from proteus import config

    config.set_trytond(database=database, user=login)
    config.get_config().set_context({'language': 'zh_CN'})


def load_pool(database, code):
    """Approve the project's pool policy (the site manager submits it, the
    project director approves it), release the lost prospects to the public
    pool and leave the front desk's phone leads waiting for a consultant"""
    from proteus import Model, Wizard, config

    Policy = Model.get('lieye.project.policy')
    if Policy.find([('project.code', '=', code)]):
        return
    admin_context = config.get_config().context
    manager = POOL_MANAGERS[code]
    set_user(database, manager)
    Project = Model.get('lieye.project')
    (project,) = Project.find([('code', '=', code)])
    policy = Model.get('lieye.project.policy')(project=project, **POLICIES[code])
    policy.save()
    policy.click('submit')
    set_user(database, 'pm1')
    Model.get('lieye.project.policy')(policy.id).click('approve')

    set_user(database, manager)
    Followup = Model.get('lieye.followup')
    lost = Followup.find([('project.code', '=', code), ('result', '=', 'lost')])
    if lost:
        Customer = Model.get('lieye.customer')
        release = Wizard(
            'lieye.customer.assign',
            [Customer(i) for i in sorted({f.customer.id for f in lost})],
        )
        release.form.method = 'pool'
        release.form.reason = '客户已在其他楼盘购房，释放到公客池。'
        release.execute('assign')

    if code in LEADS:
        set_user(database, 'secretary1')
        project = Model.get('lieye.project')(project.id)
        for name, phone in LEADS[code]:
            lead = Model.get('lieye.customer')(project=project, owner=None)
            lead.persons.new(relation='self', name=name, phone=phone)
            lead.save()
    config.set_trytond(database=database)
    config.get_config().set_context(admin_context)


def load_duplicates(database, code, users):
    """Register the project's customers known twice: the entry refuses a
    phone or ID number already in the project, the old system's import that
    brought these did not"""
    from unittest.mock import patch

    from proteus import Model
    from trytond.pool import Pool

    Customer = Model.get('lieye.customer')
    (project,) = Model.get('lieye.project').find([('code', '=', code)])
    Person = Pool(database).get('lieye.customer.person')
    with patch.object(Person, 'check_duplicates'):
        for login, persons in DUPLICATES.get(code, []):
            customer = Customer(project=project, owner=users[login], intent='medium')
            for relation, name, gender, phone, id_number in persons:
                customer.persons.new(
                    relation=relation,
                    name=name,
                    gender=gender,
                    phone=phone,
                    id_number=id_number,
                )
            customer.save()


def load_followups(code):
    "Give each customer two to four follow-ups since its first contact"
    from proteus import Model

    Project = Model.get('lieye.project')
    Customer = Model.get('lieye.customer')
    Followup = Model.get('lieye.followup')
    (project,) = Project.find([('code', '=', code)])
    if Followup.find([('project', '=', project.id)], limit=1):
        return
    today = dt.date.today()
    customers = Customer.find([('project', '=', project.id)], order=[('code', 'ASC')])
    for index, customer in enumerate(customers):
        start = customer.first_contact_date or today - dt.timedelta(days=20)
        span = (today - start).days
        count = 2 + index % 3
        # Some low-intent prospects end up lost.
        lost = customer.intent == 'low' and customer.stage in {'call', 'walk_in'}
        dates = [
            start + dt.timedelta(days=span * number // (count + 1))
            for number in range(1, count + 1)
        ]
        for number, date in enumerate(dates):
            method, result, content = FOLLOWUPS[(index + number) % len(FOLLOWUPS)]
            last = number == count - 1
            if last and lost:
                result, content = 'lost', '客户已在其他楼盘购房，不再跟进。'
            followup = Followup(
                customer=customer,
                consultant=customer.owner,
                date=date,
                method=method,
                result=result,
                content=content,
            )
            if not last:
                followup.next_date = dates[number + 1]
            elif result != 'lost':
                followup.next_date = today + dt.timedelta(days=1 + index % 7)
            followup.save()


def load_change_requests(database, code, users):
    """Have the consultants request changes of their approved records, the
    sales manager approve a price and the secretary apply or reject"""
    from proteus import Model, Wizard, config

    Request = Model.get('lieye.change.request')
    if not CHANGE_REQUESTS.get(code) or Request.find(
        [('project.code', '=', code)], limit=1
    ):
        return
    admin_context = config.get_config().context
    logins = {user.id: login for login, user in users.items()}
    Registration = Model.get('lieye.registration')
    approved = [
        r
        for r in Registration.find(
            [('project.code', '=', code), ('state', '=', 'approved')],
            order=[('id', 'ASC')],
        )
        if r.customer.owner == r.consultant
    ]
    candidates = {
        'walk_in': [r for r in approved if r.stage == 'walk_in'],
        'deal': [r for r in approved if r.stage in {'subscribed', 'signed'}],
    }
    requests = []
    for what, name, value, reason, outcome in CHANGE_REQUESTS[code]:
        registration = candidates['deal' if what == 'deal' else 'walk_in'].pop(0)
        if what == 'person':
            model = 'lieye.customer.person'
            record_id = registration.customer.persons[0].id
        else:
            model = 'lieye.registration'
            record_id = registration.id
        if what == 'deal':
            value = str(registration.unit_price + value)
        set_user(database, logins[registration.consultant.id])
        (field,) = Model.get('ir.model.field').find(
            [('model', '=', model), ('name', '=', name)]
        )
        request = Model.get('lieye.change.request')(
            record=Model.get(model)(record_id), reason=reason
        )
        request.lines.new(field=field, new_value=value)
        request.save()
        request.click('submit')
        requests.append((request.id, outcome))
    for request_id, outcome in requests:
        if outcome == 'applied':
            set_user(database, 'manager1')
            Model.get('lieye.change.request')(request_id).click('approve')
            set_user(database, 'secretary1')
            Model.get('lieye.change.request')(request_id).click('apply')
        elif outcome == 'rejected':
            set_user(database, 'secretary1')
            rejecting = Wizard(
                'lieye.change.request.reject',
                [Model.get('lieye.change.request')(request_id)],
            )
            rejecting.form.reason = CHANGE_REJECTION
            rejecting.execute('reject')
    config.set_trytond(database=database)
    config.get_config().set_context(admin_context)


def new_registration(customer, stage, date, value, rooms, serial, code):
    from proteus import Model

    Registration = Model.get('lieye.registration')
    registration = Registration(
        project=customer.project,
        customer=customer,
        stage=stage,
        date=date,
        consultant=customer.owner,
        grade=customer.grade,
        intent=customer.intent,
        how_heard=customer.how_heard,
    )
    answers = {}
    if stage == 'call':
        answers['call_topic'] = '咨询户型与价格'
        registration.from_call = False
    else:
        registration.residence_district = value('district', serial)
        registration.residence_place = '江南花园'
        registration.work_district = value('district', serial + 1)
        registration.industry = value('industry', serial)
        registration.position = value('position', serial)
        registration.purchase_count = value('purchase_count', serial)
        registration.purpose = value('purpose', serial)
        registration.area_need = value('area_need', serial)
        registration.payment_method = value('payment_method', serial)
        registration.concern_1 = value('concern_factor', serial)
        registration.concern_2 = value('concern_factor', serial + 1)
        registration.main_concern = value('concern_factor', serial)
        registration.from_call = True
        answers.update(
            {
                'budget_total': 200 + (serial % 10) * 30,
                'household_income': ['10_20k', '20_30k', '30_50k'][serial % 3],
                'current_housing': 'rent' if serial % 2 else 'own',
                'visit_count': 1 + serial % 3,
            }
        )
        if code == 'DEMO1':
            answers['family_members'] = 2 + serial % 4
            answers['children_school'] = bool(serial % 2)
    if stage in {'qualified', 'card_holder'}:
        answers['decision_cycle'] = ['1m', '3m', '6m'][serial % 3]
    if stage == 'card_holder':
        registration.card_class = '2' if serial % 2 else '3'
        registration.card_number = f'VIP{serial:05d}'
    if stage in {'subscribed', 'signed'}:
        room = rooms[serial % len(rooms)]
        registration.room = room
        registration.area = room.building_area
        registration.unit_price = room.list_unit_price
        registration.family_structure = value('family_structure', serial)
        registration.household_income = value('household_income', serial)
        registration.buy_reason_1 = value('concern_factor', serial)
        registration.main_reason = value('concern_factor', serial)
        if stage == 'subscribed':
            registration.subscription_date = date
        else:
            registration.contract_date = date
    registration.answers = answers
    registration.consultant_suggestion = '客户意向明确，建议三日内回访。'
    registration.save()
    return registration
