"""Demo data of DESIGN.md §4, loaded through proteus as the administrator.

Idempotent: every record is looked up by its natural key (login, code) and
created only when missing, so `make run` can load it again and again.
"""

import datetime as dt
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
