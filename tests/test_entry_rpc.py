"""Customer entry over JSON-RPC: owner-only visibility, submission rules,
bad input and the log (S2.3–S2.9, B6)."""

import pytest

from rpc import RPCError

_phone = iter(range(10_000_000))


def new_phone():
    "A valid mobile number no demo customer uses"
    return f'1360{next(_phone):07d}'


def project_id(server, code):
    admin = server.client('admin')
    return admin.search('lieye.project', [('code', '=', code)])[0]


def dictionary_id(client, project, category, code):
    return client.search(
        'lieye.dictionary',
        [
            ('project', '=', project),
            ('category', '=', category),
            ('code', '=', code),
        ],
    )[0]


def new_customer(client, project, phone=None, **person):
    values = {'relation': 'self', 'name': '测试客户', 'phone': phone or new_phone()}
    values.update(person)
    return client.create(
        'lieye.customer',
        [{'project': project, 'persons': [('create', [values])]}],
    )[0]


def new_walk_in(client, project, customer, **values):
    base = {
        'project': project,
        'customer': customer,
        'stage': 'walk_in',
        'consultant': client.user_id,
        'answers': {'family_members': 3} if values.pop('family', True) else {},
    }
    base.update(values)
    return client.create('lieye.registration', [base])[0]


def complete(client, project):
    return {
        'how_heard': dictionary_id(client, project, 'how_heard', 'internet'),
        'residence_district': dictionary_id(client, project, 'district', 'local_core'),
        'purpose': dictionary_id(client, project, 'purpose', 'own_use'),
    }


def test_owner_only_visibility(server):
    "Consultants read only their own customers, persons and registrations"
    # R: S2.8
    demo1 = project_id(server, 'DEMO1')
    consultant1 = server.client('consultant1')
    consultant2 = server.client('consultant2')
    mine = consultant1.search('lieye.customer', [])
    theirs = consultant2.search('lieye.customer', [])
    assert mine and theirs and not set(mine) & set(theirs)

    for model, owner_field in [
        ('lieye.customer', 'owner'),
        ('lieye.registration', 'consultant'),
    ]:
        records = consultant2.search_read(model, [], [owner_field])
        assert {r[owner_field] for r in records} == {consultant2.user_id}
        assert (
            consultant2.search_count(model, [(owner_field, '=', consultant1.user_id)])
            == 0
        )
    persons = consultant2.search_read('lieye.customer.person', [], ['customer.owner'])
    assert {p['customer.']['owner'] for p in persons} == {consultant2.user_id}

    # Reading by id, exporting and following a relation are refused too.
    with pytest.raises(RPCError):
        consultant2.read('lieye.customer', mine[:1], ['name'])
    with pytest.raises(RPCError):
        consultant2.model('lieye.customer', 'export_data', mine[:1], ['name'])
    person_ids = consultant1.search('lieye.customer.person', [], 1)
    with pytest.raises(RPCError):
        consultant2.read('lieye.customer.person', person_ids, ['phone'])
    registration_ids = consultant1.search('lieye.registration', [], 1)
    with pytest.raises(RPCError):
        consultant2.read('lieye.registration', registration_ids, ['customer'])
    phone = consultant1.read('lieye.customer.person', person_ids, ['phone'])[0]['phone']
    assert consultant2.search('lieye.customer', [('persons.phone', '=', phone)]) == []
    assert consultant2.search('lieye.customer', [('rec_name', 'ilike', phone)]) == []

    # Secretaries read their project's customers, and nothing of DEMO2.
    secretary = server.client('secretary1')
    assert set(mine) | set(theirs) <= set(secretary.search('lieye.customer', []))
    projects = {
        c['project'] for c in secretary.search_read('lieye.customer', [], ['project'])
    }
    assert projects == {demo1}
    assert (
        secretary.search_count(
            'lieye.registration', [('project', '=', project_id(server, 'DEMO2'))]
        )
        == 0
    )
    consultant3_customers = server.client('consultant3').search('lieye.customer', [])
    with pytest.raises(RPCError):
        secretary.read('lieye.customer', consultant3_customers[:1], ['name'])


def test_other_roles_cannot_read_customers(server):
    "Research and channel never read customers through the customer models"
    # R: S18.4, B10
    for login in ['research1', 'channel1']:
        client = server.client(login)
        for model in ['lieye.customer', 'lieye.customer.person', 'lieye.registration']:
            with pytest.raises(RPCError):
                client.search(model, [])


def test_submit_then_locked(server):
    "After submission the consultant can neither write nor delete"
    # R: S2.7, S2.9
    demo1 = project_id(server, 'DEMO1')
    consultant = server.client('consultant1')
    customer = new_customer(consultant, demo1)
    registration = new_walk_in(
        consultant, demo1, customer, **complete(consultant, demo1)
    )
    consultant.button('lieye.registration', 'submit', [registration])
    (state,) = consultant.read('lieye.registration', [registration], ['state'])
    assert state['state'] == 'submitted'
    # S9: the stage moves once the entry is approved.
    (stage,) = consultant.read('lieye.customer', [customer], ['stage'])
    assert stage['stage'] == 'call'
    secretary = server.client('secretary1')
    secretary.button('lieye.registration', 'approve', [registration])
    (stage,) = consultant.read('lieye.customer', [customer], ['stage'])
    assert stage['stage'] == 'walk_in'

    with pytest.raises(RPCError) as info:
        consultant.write('lieye.registration', [registration], {'remarks': '改'})
    assert '已提交' in info.value.message
    with pytest.raises(RPCError):
        consultant.delete('lieye.registration', [registration])
    (person,) = consultant.search(
        'lieye.customer.person', [('customer', '=', customer)]
    )
    with pytest.raises(RPCError) as info:
        consultant.write('lieye.customer.person', [person], {'name': '改名'})
    assert '变更申请' in info.value.message
    # Intent may still be upgraded without confirmation (S2.5).
    consultant.write('lieye.customer', [customer], {'intent': 'high'})

    admin = server.client('admin')
    logs = admin.search_read(
        'ir.model.log',
        [('resource', '=', f'lieye.registration,{registration}')],
        ['event', 'target', 'user', 'create_date'],
    )
    events = {(log['event'], log['target']) for log in logs}
    assert ('button', 'submit') in events
    assert ('transition', 'state:submitted') in events
    assert ('transition', 'state:approved') in events
    assert {
        (log['target'], log['user']) for log in logs if log['event'] == 'button'
    } == {('submit', consultant.user_id), ('approve', secretary.user_id)}


def test_stage_upgrade_keeps_history(server):
    "A higher-stage registration needs no confirmation; earlier ones stay"
    # R: S2.5, S2.12, S9
    demo1 = project_id(server, 'DEMO1')
    consultant = server.client('consultant1')
    customer = new_customer(consultant, demo1)
    call = consultant.create(
        'lieye.registration',
        [
            {
                'project': demo1,
                'customer': customer,
                'stage': 'call',
                'consultant': consultant.user_id,
                'how_heard': complete(consultant, demo1)['how_heard'],
                'answers': {'call_topic': '咨询价格'},
            }
        ],
    )[0]
    consultant.button('lieye.registration', 'submit', [call])
    walk_in = new_walk_in(consultant, demo1, customer, **complete(consultant, demo1))
    consultant.button('lieye.registration', 'submit', [walk_in])
    registrations = consultant.search_read(
        'lieye.registration',
        [('customer', '=', customer)],
        ['stage', 'state', 'answers'],
    )
    assert {(r['stage'], r['state']) for r in registrations} == {
        ('call', 'submitted'),
        ('walk_in', 'submitted'),
    }
    assert {r['stage']: r['answers'] for r in registrations}['call'] == {
        'call_topic': '咨询价格'
    }
    (stage,) = consultant.read('lieye.customer', [customer], ['stage'])
    assert stage['stage'] == 'call'
    server.client('manager1').button('lieye.registration', 'approve', [call, walk_in])
    (stage,) = consultant.read('lieye.customer', [customer], ['stage'])
    assert stage['stage'] == 'walk_in'


def test_missing_items_listed_in_chinese(server):
    "Submission names every empty required item in Chinese; nothing changes"
    # R: S2.6
    demo1 = project_id(server, 'DEMO1')
    consultant = server.client('consultant1')
    customer = new_customer(consultant, demo1)
    registration = new_walk_in(consultant, demo1, customer, family=False)
    with pytest.raises(RPCError) as info:
        consultant.button('lieye.registration', 'submit', [registration])
    message = info.value.message
    for label in ['知晓途径', '居住区域', '购买目的', '家庭成员人数']:
        assert label in message
    assert '无法提交' in message
    (state,) = consultant.read('lieye.registration', [registration], ['state'])
    assert state['state'] == 'draft'


def test_bad_identity_and_duplicates_write_nothing(server):
    "Malformed phone, invalid ID, known phone: refused in Chinese, no trace"
    # R: S2.6, B6
    demo1 = project_id(server, 'DEMO1')
    consultant1 = server.client('consultant1')
    consultant2 = server.client('consultant2')
    admin = server.client('admin')
    before = admin.search_count('lieye.customer', [])
    parties = admin.search_count('party.party', [])

    with pytest.raises(RPCError) as info:
        new_customer(consultant1, demo1, phone='1234')
    assert '不是有效的中国手机或固定电话号码' in info.value.message
    with pytest.raises(RPCError) as info:
        new_customer(consultant1, demo1, id_number='110105194912310021')
    assert '身份证号码' in info.value.message

    phone = new_phone()
    new_customer(consultant1, demo1, phone=phone)
    with pytest.raises(RPCError) as info:
        new_customer(consultant2, demo1, phone=f'+86 {phone[:3]} {phone[3:]}')
    message = info.value.message
    assert '已属于本案场的客户' in message and '置业顾问 张伟' in message
    # The message names the owner only: nothing else of that customer.
    assert '测试客户' not in message

    assert admin.search_count('lieye.customer', []) == before + 1
    assert admin.search_count('party.party', []) == parties + 1
    # The same phone in another project is another customer.
    new_customer(server.client('consultant3'), project_id(server, 'DEMO2'), phone=phone)


@pytest.mark.parametrize(
    'answers',
    [
        {'family_members': 'three'},
        {'family_members': True},
        {'budget_total': 1.5},
        {'decision_cycle': 'tomorrow'},
        {'no_such_question': 1},
    ],
)
def test_wrong_answer_types_refused(server, answers):
    "Answers of the wrong type sent over RPC are refused and not written"
    # R: S2.10
    demo1 = project_id(server, 'DEMO1')
    consultant = server.client('consultant1')
    customer = new_customer(consultant, demo1)
    count = consultant.search_count('lieye.registration', [])
    with pytest.raises(RPCError):
        new_walk_in(consultant, demo1, customer, answers=answers)
    assert consultant.search_count('lieye.registration', []) == count


def test_required_question_for_one_project(server):
    "An admin adds a required question to DEMO1 only, then deactivates it"
    # R: S2.3, S2.4, B8
    demo1 = project_id(server, 'DEMO1')
    demo2 = project_id(server, 'DEMO2')
    admin = server.client('admin')
    (question,) = admin.create(
        'lieye.question',
        [
            {
                'name': 'parking_need',
                'string': '车位需求',
                'type_': 'boolean',
                'required': True,
                'section': 'needs',
                'stages': ['walk_in'],
                'projects': [('add', [demo1])],
            }
        ],
    )
    consultant1 = server.client('consultant1')
    customer = new_customer(consultant1, demo1)
    registration = new_walk_in(
        consultant1, demo1, customer, **complete(consultant1, demo1)
    )
    shown = consultant1.model(
        'lieye.registration',
        'on_change_with',
        {'project': demo1, 'stage': 'walk_in', 'answers': {}},
        ['answers'],
    )
    assert 'parking_need' in shown['answers']
    with pytest.raises(RPCError) as info:
        consultant1.button('lieye.registration', 'submit', [registration])
    assert '车位需求' in info.value.message
    consultant1.write(
        'lieye.registration',
        [registration],
        {'answers': {'family_members': 3, 'parking_need': True}},
    )
    consultant1.button('lieye.registration', 'submit', [registration])

    consultant3 = server.client('consultant3')
    other = new_customer(consultant3, demo2)
    other_registration = new_walk_in(
        consultant3, demo2, other, family=False, **complete(consultant3, demo2)
    )
    consultant3.button('lieye.registration', 'submit', [other_registration])

    admin.write('lieye.question', [question], {'active': False})
    (answers,) = consultant1.read('lieye.registration', [registration], ['answers'])
    assert answers['answers']['parking_need'] is True
    shown = consultant1.model(
        'lieye.registration',
        'on_change_with',
        {'project': demo1, 'stage': 'walk_in', 'answers': {}},
        ['answers'],
    )
    assert 'parking_need' not in shown['answers']


def test_entry_wizard_starts_from_phone(server):
    "Type the phone, see whether the customer is known, then register"
    # R: S2.2, B6
    demo1 = project_id(server, 'DEMO1')
    consultant1 = server.client('consultant1')
    consultant2 = server.client('consultant2')
    phone = new_phone()
    start = {
        'project': demo1,
        'stage': 'walk_in',
        'phone': phone,
        'name': '王先生',
        'phone_declined': False,
        'name_declined': False,
    }
    known = consultant1.model(
        'lieye.registration.entry.start', 'on_change_with', start, ['known']
    )
    assert '新客户' in known['known']
    consultant1.run_wizard(
        'lieye.registration.entry',
        'lieye.project',
        [demo1],
        {'start': start},
        'register',
    )
    customers = consultant1.search(
        'lieye.customer', [('persons.phone', '=', f'+86{phone}')]
    )
    assert len(customers) == 1
    drafts = consultant1.search_read(
        'lieye.registration', [('customer', '=', customers[0])], ['stage', 'state']
    )
    assert drafts == [{'id': drafts[0]['id'], 'stage': 'walk_in', 'state': 'draft'}]

    known = consultant1.model(
        'lieye.registration.entry.start', 'on_change_with', start, ['known']
    )
    assert '您的客户' in known['known']
    known = consultant2.model(
        'lieye.registration.entry.start', 'on_change_with', start, ['known']
    )
    assert '张伟' in known['known'] and '王先生' not in known['known']
    with pytest.raises(RPCError):
        consultant2.run_wizard(
            'lieye.registration.entry',
            'lieye.project',
            [demo1],
            {'start': start},
            'register',
        )


def test_sensitive_fields_for_site_team_only(server):
    "Phone, ID number and birth date are unreadable above the site team"
    # R: DESIGN §6 sensitive fields, G4
    secretary = server.client('secretary1')
    person = secretary.search('lieye.customer.person', [], 1)
    assert secretary.read('lieye.customer.person', person, ['phone'])[0]['phone']
    for login in ['pm1', 'gm1']:
        client = server.client(login)
        assert client.read('lieye.customer.person', person, ['name'])[0]['name']
        for field in ['phone', 'id_number', 'birth_date']:
            with pytest.raises(RPCError):
                client.read('lieye.customer.person', person, [field])
        with pytest.raises(RPCError):
            client.search('lieye.customer.person', [('phone', '!=', None)])
        view = client.model('lieye.customer.person', 'fields_view_get', None, 'tree')
        assert 'phone' not in view['fields']


@pytest.mark.parametrize(
    'values',
    [
        {'date': 'not a date'},
        {'stage': 'vip'},
        {'intended_unit_price': 'cheap'},
        {'intended_unit_price': '-5'},
        {'from_call': 'maybe'},
        {'consultant': 'abc'},
        {'answers': 'not a dict'},
    ],
)
def test_wrong_field_types_refused(server, values):
    "Standard items of the wrong type are refused with a message, not a crash"
    # R: S2.6, DESIGN §6 bad input
    demo1 = project_id(server, 'DEMO1')
    consultant = server.client('consultant1')
    customer = new_customer(consultant, demo1)
    count = consultant.search_count('lieye.registration', [])
    with pytest.raises(RPCError) as info:
        new_walk_in(consultant, demo1, customer, **values)
    assert info.value.kind == 'UserError', info.value.error
    assert consultant.search_count('lieye.registration', []) == count


def test_search_box_by_role(server):
    "The search box finds customers by phone for the site team only"
    # R: S2.8, S10
    consultant = server.client('consultant1')
    person = consultant.search_read('lieye.customer.person', [], ['phone', 'customer'])[
        0
    ]
    found = consultant.search(
        'lieye.customer', [('rec_name', 'ilike', person['phone'])]
    )
    assert found == [person['customer']]
    for login in ['pm1', 'gm1']:
        client = server.client(login)
        assert client.search('lieye.customer', [('rec_name', 'ilike', '%张%')])
        assert (
            client.search('lieye.customer', [('rec_name', 'ilike', person['phone'])])
            == []
        )
