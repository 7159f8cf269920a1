"""Review of registrations over JSON-RPC: who reads the queue and the review
rounds, who approves and returns, and two reviewers acting at once (S9)."""

import threading

import pytest
from test_entry_rpc import complete, new_customer, new_walk_in, project_id

from rpc import RPCError

INTENTS = ['high', 'medium', 'low', None]
NOT_SUBMITTED = '已不在待审核状态'


def submitted_walk_in(server, login='consultant1', project='DEMO1'):
    "A complete walk-in registration submitted by login"
    client = server.client(login)
    project = project_id(server, project)
    customer = new_customer(client, project)
    registration = new_walk_in(
        client,
        project,
        customer,
        family=project == project_id(server, 'DEMO1'),
        **complete(client, project),
    )
    client.button('lieye.registration', 'submit', [registration])
    return registration


def return_(client, registrations, reason):
    "Return registrations through the wizard, as the web client does"
    return client.run_wizard(
        'lieye.registration.return',
        'lieye.registration',
        registrations,
        {'start': {'reason': reason}},
        'return_',
    )


def state(server, registration):
    admin = server.client('admin')
    return admin.read('lieye.registration', [registration], ['state'])[0]['state']


def rounds(client, registration):
    reviews = client.search_read(
        'lieye.registration.review',
        [('registration', '=', registration)],
        ['round', 'action', 'user', 'reason'],
    )
    return [(r['round'], r['action'], r['user'], r['reason']) for r in reviews]


def test_demo_queue(server):
    "The demo queue has entries waiting, returned ones and totals per intent"
    # R: S9, DESIGN §4 demo data
    secretary = server.client('secretary1')
    waiting = [('state', '=', 'submitted')]
    total = secretary.search_count('lieye.registration', waiting)
    per_intent = [
        secretary.search_count('lieye.registration', [*waiting, ('intent', '=', i)])
        for i in INTENTS
    ]
    assert total > 0 and sum(per_intent) == total
    returned = secretary.search_read(
        'lieye.registration', [('state', '=', 'returned')], ['return_reason']
    )
    assert returned and all(r['return_reason'] for r in returned)
    assert secretary.search_count('lieye.registration', [('state', '=', 'approved')])

    # The queue's tabs count per intent.
    tabs = secretary.search_read(
        'ir.action.act_window.domain',
        [('act_window.res_model', '=', 'lieye.registration'), ('count', '=', True)],
        ['name'],
    )
    assert {'全部', '高意向', '中意向', '低意向', '意向未填'} <= {
        t['name'] for t in tabs
    }

    # A resubmitted entry shows its second round.
    admin = server.client('admin')
    demo = [('create_uid', '=', admin.user_id)]
    (second,) = admin.search_read(
        'lieye.registration.review',
        [('round', '=', 2), ('registration', 'where', demo)],
        ['registration', 'action'],
    )
    assert second['action'] == 'submitted'
    assert [a for _, a, _, _ in rounds(admin, second['registration'])] == [
        'submitted',
        'returned',
        'submitted',
    ]

    # Each demo customer's stage comes from its approved entries only.
    ranks = ['call', 'walk_in', 'qualified', 'card_holder', 'subscribed', 'signed']
    registrations = admin.search_read(
        'lieye.registration', [('state', '=', 'approved')], ['customer', 'stage']
    )
    top = {}
    for registration in registrations:
        rank = ranks.index(registration['stage'])
        top[registration['customer']] = max(top.get(registration['customer'], 0), rank)
    for customer in admin.search_read('lieye.customer', demo, ['stage']):
        assert ranks.index(customer['stage']) == top.get(customer['id'], 0)


def test_queue_menu_per_role(server):
    "Secretaries and sales managers see the queue; other roles do not"
    # R: S9
    for login, visible in [
        ('secretary1', True),
        ('manager1', True),
        ('consultant1', False),
        ('pm1', False),
        ('gm1', False),
    ]:
        client = server.client(login)
        menus = client.search_read('ir.ui.menu', [('name', '=', '待审核')], ['name'])
        assert bool(menus) == visible, login


def test_consultant_cannot_review(server):
    "A consultant neither approves nor returns, even own entries"
    # R: S9, S2.8
    registration = submitted_walk_in(server)
    consultant = server.client('consultant1')
    with pytest.raises(RPCError) as info:
        consultant.button('lieye.registration', 'approve', [registration])
    assert info.value.kind == 'UserError', info.value.error
    with pytest.raises(RPCError):
        consultant.button('lieye.registration', 'return_', [registration])
    with pytest.raises(RPCError):
        return_(consultant, [registration], '自己退回')
    with pytest.raises(RPCError):
        consultant.create(
            'lieye.registration.review',
            [{'registration': registration, 'round': 1, 'action': 'approved'}],
        )
    assert state(server, registration) == 'submitted'

    # Own review rounds are readable, those of others are not.
    assert [a for _, a, _, _ in rounds(consultant, registration)] == ['submitted']
    theirs = submitted_walk_in(server, 'consultant2')
    assert rounds(consultant, theirs) == []
    (review,) = server.client('consultant2').search(
        'lieye.registration.review', [('registration', '=', theirs)]
    )
    with pytest.raises(RPCError):
        consultant.read('lieye.registration.review', [review], ['reason'])
    with pytest.raises(RPCError):
        server.client('consultant2').write(
            'lieye.registration.review', [review], {'reason': '改'}
        )


@pytest.mark.parametrize('login', ['secretary1', 'manager1'])
def test_reviewers_of_their_project(server, login):
    "Secretaries and managers of DEMO1 review DEMO1 entries, never DEMO2's"
    # R: S9, S2.8
    reviewer = server.client(login)
    approved, returned = submitted_walk_in(server), submitted_walk_in(server)
    reviewer.button('lieye.registration', 'approve', [approved])
    return_(reviewer, [returned], '居住区域填写有误。')
    assert state(server, approved) == 'approved'
    assert state(server, returned) == 'returned'

    other_site = submitted_walk_in(server, 'consultant3', 'DEMO2')
    with pytest.raises(RPCError):
        reviewer.button('lieye.registration', 'approve', [other_site])
    with pytest.raises(RPCError):
        return_(reviewer, [other_site], '不是本案场的')
    (review,) = server.client('consultant3').search(
        'lieye.registration.review', [('registration', '=', other_site)]
    )
    with pytest.raises(RPCError):
        reviewer.read('lieye.registration.review', [review], ['reason'])
    assert rounds(reviewer, other_site) == []
    assert state(server, other_site) == 'submitted'


def test_managers_read_only(server):
    "Project managers and the general manager read the rounds, never review"
    # R: S9
    registration = submitted_walk_in(server)
    other_site = submitted_walk_in(server, 'consultant3', 'DEMO2')
    for login in ['pm1', 'gm1']:
        client = server.client(login)
        for record in [registration, other_site]:
            assert [a for _, a, _, _ in rounds(client, record)] == ['submitted']
            with pytest.raises(RPCError):
                client.button('lieye.registration', 'approve', [record])
            with pytest.raises(RPCError):
                return_(client, [record], '项目经理退回')
        # Their view of the register leaves the phone out, as the persons do.
        with pytest.raises(RPCError):
            client.read('lieye.registration', [registration], ['person_phone'])
    assert state(server, registration) == 'submitted'
    assert state(server, other_site) == 'submitted'


def test_return_correct_resubmit(server):
    "A returned entry goes back to its consultant, who corrects and resubmits"
    # R: S9, S2.7, S2.9
    consultant = server.client('consultant1')
    secretary = server.client('secretary1')
    manager = server.client('manager1')
    registration = submitted_walk_in(server)
    (values,) = consultant.read('lieye.registration', [registration], ['customer'])
    customer = values['customer']

    return_(secretary, [registration], '请补充工作区域。')
    (values,) = consultant.read(
        'lieye.registration', [registration], ['state', 'return_reason']
    )
    assert values == {
        'id': registration,
        'state': 'returned',
        'return_reason': '请补充工作区域。',
    }
    notifications = consultant.model('res.notification', 'get')
    assert any(n['description'] == '请补充工作区域。' for n in notifications)

    # The reviewer does not correct it herself.
    with pytest.raises(RPCError) as info:
        secretary.write('lieye.registration', [registration], {'remarks': '秘书改'})
    assert '只能由该置业顾问修改' in info.value.message
    with pytest.raises(RPCError) as info:
        secretary.button('lieye.registration', 'submit', [registration])
    assert '只能由该置业顾问修改' in info.value.message

    work = complete(consultant, project_id(server, 'DEMO1'))['residence_district']
    consultant.write('lieye.registration', [registration], {'work_district': work})
    consultant.button('lieye.registration', 'submit', [registration])
    (stage,) = consultant.read('lieye.customer', [customer], ['stage'])
    assert stage['stage'] == 'call'
    manager.button('lieye.registration', 'approve', [registration])
    (stage,) = consultant.read('lieye.customer', [customer], ['stage'])
    assert stage['stage'] == 'walk_in'
    assert rounds(consultant, registration) == [
        (1, 'submitted', consultant.user_id, None),
        (1, 'returned', secretary.user_id, '请补充工作区域。'),
        (2, 'submitted', consultant.user_id, None),
        (2, 'approved', manager.user_id, None),
    ]
    with pytest.raises(RPCError) as info:
        consultant.write('lieye.registration', [registration], {'remarks': '改'})
    assert '已提交' in info.value.message


def test_refusals_in_chinese(server):
    "A return without reason or a review of a draft is refused in Chinese"
    # R: S9, DESIGN §6 bad input
    secretary = server.client('secretary1')
    registration = submitted_walk_in(server)
    for reason in ['', '   ']:
        with pytest.raises(RPCError) as info:
            return_(secretary, [registration], reason)
        assert info.value.kind == 'UserError', info.value.error
        assert '请填写退回原因' in info.value.message
    assert state(server, registration) == 'submitted'

    consultant = server.client('consultant1')
    project = project_id(server, 'DEMO1')
    draft = new_walk_in(consultant, project, new_customer(consultant, project))
    with pytest.raises(RPCError) as info:
        secretary.button('lieye.registration', 'approve', [draft])
    assert NOT_SUBMITTED in info.value.message and '草稿' in info.value.message
    secretary.button('lieye.registration', 'approve', [registration])
    with pytest.raises(RPCError) as info:
        secretary.button('lieye.registration', 'approve', [registration])
    assert NOT_SUBMITTED in info.value.message and '已通过' in info.value.message
    assert len(rounds(secretary, registration)) == 2


def test_concurrent_review(server):
    "Two reviewers act on the same entry at once: exactly one succeeds"
    # R: S9
    if server.backend != 'postgresql':
        pytest.skip('row locks: PostgreSQL only (SQLite runs one writer at a time)')
    secretary = server.client('secretary1')
    manager = server.client('manager1')
    for approve_both in [True, False, True, False]:
        registration = submitted_walk_in(server)
        session_id, _, _ = manager.call(
            'wizard.lieye.registration.return.create', manager.context
        )
        context = dict(
            manager.context,
            active_model='lieye.registration',
            active_id=registration,
            active_ids=[registration],
        )
        actions = {
            'secretary1': lambda: secretary.button(
                'lieye.registration', 'approve', [registration]
            ),
            'manager1': (
                (
                    lambda: manager.button(
                        'lieye.registration', 'approve', [registration]
                    )
                )
                if approve_both
                else (
                    lambda: manager.call(
                        'wizard.lieye.registration.return.execute',
                        session_id,
                        {'start': {'reason': '同时退回'}},
                        'return_',
                        context,
                    )
                )
            ),
        }
        barrier = threading.Barrier(len(actions))
        outcomes = {}

        def act(login):
            barrier.wait()
            try:
                actions[login]()
            except RPCError as error:
                outcomes[login] = error
            else:
                outcomes[login] = 'done'

        threads = [threading.Thread(target=act, args=(login,)) for login in actions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        manager.call('wizard.lieye.registration.return.delete', session_id, context)

        assert set(outcomes) == set(actions)
        done = [login for login, outcome in outcomes.items() if outcome == 'done']
        assert len(done) == 1, outcomes
        (refused,) = [o for o in outcomes.values() if o != 'done']
        assert refused.kind == 'UserError', refused.error
        assert NOT_SUBMITTED in refused.message
        final = state(server, registration)
        winner = done[0]
        assert final == (
            'approved' if winner == 'secretary1' or approve_both else 'returned'
        )
        actions_logged = [a for _, a, _, _ in rounds(secretary, registration)]
        assert actions_logged == ['submitted', final]
