"""Assignment and the public pool over JSON-RPC: who assigns, who approves
the pool policy, who sees the pool and two consultants claiming the same
customer at once (S4, S8, B4, B5)."""

import threading

import pytest
from test_entry_rpc import new_phone, project_id

from rpc import RPCError

TAKEN = '已不在公客池中'


def assign(client, customers, **start):
    "Run the assignment wizard on customers, as the web client does"
    return client.run_wizard(
        'lieye.customer.assign', 'lieye.customer', customers, {'start': start}, 'assign'
    )


def pool_read(client, domain=(), fields=('owner', 'project', 'in_pool')):
    "What client reads in the public pool list"
    context = dict(client.context, lieye_pool=True)
    return client.call(
        'model.lieye.customer.search_read',
        list(domain),
        0,
        None,
        None,
        list(fields),
        context,
    )


def claim(client, customer):
    return client.call(
        'model.lieye.customer.claim', [customer], dict(client.context, lieye_pool=True)
    )


def owned(server, login, code='DEMO1'):
    "A customer of project code owned by login, as the administrator finds it"
    admin = server.client('admin')
    owner = server.client(login).user_id
    return admin.search(
        'lieye.customer',
        [('owner', '=', owner), ('project.code', '=', code)],
        1,
    )[0]


def new_lead(server, code='DEMO1'):
    "A phone lead the front desk takes: no consultant yet"
    secretary = server.client('secretary1')
    return secretary.create(
        'lieye.customer',
        [
            {
                'project': project_id(server, code),
                'owner': None,
                'persons': [
                    (
                        'create',
                        [
                            {
                                'relation': 'self',
                                'name': '来电客户',
                                'phone': new_phone(),
                            }
                        ],
                    )
                ],
            }
        ],
    )[0]


def read(server, customer, fields):
    admin = server.client('admin')
    return admin.read('lieye.customer', [customer], fields)[0]


def test_demo_pool(server):
    "Each demo project has its approved policy, pool customers and deadlines"
    # R: S8, DESIGN §4 demo data
    admin = server.client('admin')
    policies = admin.search_read(
        'lieye.project.policy', [('state', '=', 'approved')], ['project', 'decided_by']
    )
    assert sorted(p['project'] for p in policies) == sorted(
        project_id(server, code) for code in ['DEMO1', 'DEMO2']
    )
    assert {p['decided_by'] for p in policies} == {server.client('pm1').user_id}
    for code in ['DEMO1', 'DEMO2']:
        pool = admin.search_count(
            'lieye.customer', [('project.code', '=', code), ('in_pool', '=', True)]
        )
        assert pool >= 1, code
        missing = admin.search_count(
            'lieye.customer',
            [
                ('project.code', '=', code),
                ('owner', '!=', None),
                ('stage', 'not in', ['subscribed', 'signed']),
                ('pool_deadline', '=', None),
            ],
        )
        assert missing == 0, code
    unassigned = admin.search_count(
        'lieye.customer',
        [('project.code', '=', 'DEMO1'), ('owner', '=', None), ('in_pool', '=', False)],
    )
    assert unassigned >= 2


def test_pool_visibility(server):
    """Consultants read the pool of their project in the pool list, never
    another project's, and change pool customers only by claiming them"""
    # R: S8, S2.8
    demo1, demo2 = project_id(server, 'DEMO1'), project_id(server, 'DEMO2')
    consultant1 = server.client('consultant1')
    owners = {
        c['owner'] for c in consultant1.search_read('lieye.customer', [], ['owner'])
    }
    assert owners == {consultant1.user_id}
    pool = pool_read(consultant1)
    in_pool = [c for c in pool if c['in_pool']]
    assert in_pool and {c['project'] for c in in_pool} == {demo1}
    assert {c['owner'] for c in in_pool} == {None}
    with pytest.raises(RPCError):
        consultant1.write('lieye.customer', [in_pool[0]['id']], {'intent': 'high'})
    consultant3 = server.client('consultant3')
    assert {c['project'] for c in pool_read(consultant3) if c['in_pool']} == {demo2}
    with pytest.raises(RPCError):
        consultant3.read('lieye.customer', [in_pool[0]['id']], ['name'])


def test_consultant_cannot_assign(server):
    "A consultant neither runs the assignment nor writes an owner"
    # R: S4, B4
    consultant1 = server.client('consultant1')
    consultant2 = server.client('consultant2')
    mine = owned(server, 'consultant1')
    lead = new_lead(server)
    for customers in [[mine], [lead]]:
        with pytest.raises(RPCError):
            assign(
                consultant1,
                customers,
                method='consultant',
                consultant=consultant1.user_id,
            )
    for values in [
        {'owner': consultant2.user_id},
        {'pool_deadline': '2099-12-31'},
        {'in_pool': True},
    ]:
        with pytest.raises(RPCError):
            consultant1.write('lieye.customer', [mine], values)
    # Secretaries may create with an owner but not change it.
    secretary = server.client('secretary1')
    with pytest.raises(RPCError) as info:
        secretary.write('lieye.customer', [mine], {'owner': consultant2.user_id})
    assert info.value.kind == 'UserError'
    assert '分配、认领' in info.value.message
    assert read(server, mine, ['owner'])['owner'] == consultant1.user_id
    assert read(server, lead, ['owner'])['owner'] is None


def test_manager_assigns_own_project_only(server):
    "manager1 assigns DEMO1 customers to DEMO1 consultants, nothing of DEMO2"
    # R: S4, B4
    manager = server.client('manager1')
    consultant2 = server.client('consultant2')
    consultant3 = server.client('consultant3')
    lead = new_lead(server)
    count = consultant2.call('model.res.notification.get_count', consultant2.context)
    assign(manager, [lead], method='consultant', consultant=consultant2.user_id)
    values = read(server, lead, ['owner', 'pool_deadline', 'assignments'])
    assert values['owner'] == consultant2.user_id
    assert values['pool_deadline']
    (log,) = manager.read(
        'lieye.customer.assignment', values['assignments'], ['kind', 'user']
    )
    assert (log['kind'], log['user']) == ('assign', manager.user_id)
    assert (
        consultant2.call('model.res.notification.get_count', consultant2.context)
        == count + 1
    )
    (notice,) = consultant2.call('model.res.notification.get', 1, consultant2.context)
    assert notice['records'] == [lead]
    assert '位客户已归属于您' in notice['description']

    # A consultant of another project is refused, in Chinese.
    other = new_lead(server)
    with pytest.raises(RPCError) as info:
        assign(manager, [other], method='consultant', consultant=consultant3.user_id)
    assert info.value.kind == 'UserError'
    assert '请选择案场' in info.value.message
    # DEMO2's customers are out of reach.
    demo2 = owned(server, 'consultant3', 'DEMO2')
    with pytest.raises(RPCError):
        assign(manager, [demo2], method='consultant', consultant=consultant2.user_id)
    assert read(server, demo2, ['owner'])['owner'] == consultant3.user_id


DAYS = [
    'call_days',
    'walk_in_days',
    'followed_days',
    'qualified_days',
    'card_holder_days',
    'warning_days',
]


def in_force(server, code):
    "The approved policy of project code and its days"
    admin = server.client('admin')
    (policy,) = admin.search_read(
        'lieye.project.policy',
        [('project.code', '=', code), ('state', '=', 'approved')],
        DAYS,
    )
    return policy.pop('id'), policy


def test_policy_roles(server):
    """The site manager submits the pool policy, only the project director
    approves it, and a new approved policy supersedes the old"""
    # R: S8
    manager = server.client('manager1')
    admin = server.client('admin')
    # The same days as in force: the other tests keep their deadlines.
    previous, days = in_force(server, 'DEMO1')
    demo1 = dict(days, project=project_id(server, 'DEMO1'))
    for login in ['consultant1', 'secretary1']:
        with pytest.raises(RPCError):
            server.client(login).create('lieye.project.policy', [demo1])
    with pytest.raises(RPCError):
        manager.create(
            'lieye.project.policy', [dict(days, project=project_id(server, 'DEMO2'))]
        )
    (policy,) = manager.create('lieye.project.policy', [demo1])
    manager.button('lieye.project.policy', 'submit', [policy])
    with pytest.raises(RPCError) as info:
        manager.write('lieye.project.policy', [policy], {'call_days': 90})
    assert '不能修改' in info.value.message
    with pytest.raises(RPCError):
        manager.write('lieye.project.policy', [policy], {'state': 'approved'})
    for login in ['consultant1', 'secretary1', 'manager1']:
        with pytest.raises(RPCError):
            server.client(login).button('lieye.project.policy', 'approve', [policy])
    assert admin.read('lieye.project.policy', [policy], ['state'])[0]['state'] == (
        'submitted'
    )

    pm = server.client('pm1')
    pm.button('lieye.project.policy', 'approve', [policy])
    states = {
        p['id']: p['state']
        for p in admin.read('lieye.project.policy', [policy, previous], ['state'])
    }
    assert states == {policy: 'approved', previous: 'superseded'}


def test_claim_refused(server):
    "Only consultants of the project claim, and not the customer they lost"
    # R: S8, B5
    admin = server.client('admin')
    consultant3 = server.client('consultant3')
    (lost,) = admin.search(
        'lieye.customer',
        [
            ('project.code', '=', 'DEMO2'),
            ('in_pool', '=', True),
            ('previous_owner', '=', consultant3.user_id),
        ],
        1,
    )
    with pytest.raises(RPCError) as info:
        claim(consultant3, lost)
    assert '销售经理' in info.value.message
    demo1 = admin.search(
        'lieye.customer', [('project.code', '=', 'DEMO1'), ('in_pool', '=', True)], 1
    )
    for login in ['consultant3', 'secretary1']:
        with pytest.raises(RPCError) as info:
            claim(server.client(login), demo1[0])
        assert info.value.kind == 'UserError'
        assert '只有案场' in info.value.message
    assert read(server, demo1[0], ['in_pool'])['in_pool']


def test_concurrent_claim(server):
    "Two consultants claim the same pool customer at once: exactly one wins"
    # R: S8, B5
    if server.backend != 'postgresql':
        pytest.skip('row locks are what is tested; SQLite runs one writer at a time')
    manager = server.client('manager1')
    clients = [server.client('consultant1'), server.client('consultant2')]
    for _ in range(3):
        customer = new_lead(server)
        assign(manager, [customer], method='pool')
        barrier = threading.Barrier(len(clients))
        outcomes = {}

        def claim_at_once(client):
            barrier.wait()
            try:
                claim(client, customer)
            except RPCError as error:
                outcomes[client.user_id] = error
            else:
                outcomes[client.user_id] = 'won'

        threads = [threading.Thread(target=claim_at_once, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        winners = [user for user, outcome in outcomes.items() if outcome == 'won']
        assert len(winners) == 1, outcomes
        (loser,) = [o for o in outcomes.values() if o != 'won']
        assert loser.kind == 'UserError', loser.error
        assert TAKEN in loser.message
        (winner,) = winners
        name = server.client('admin').read('res.user', [winner], ['rec_name'])
        assert name[0]['rec_name'] in loser.message
        values = read(server, customer, ['owner', 'in_pool', 'assignments'])
        assert (values['owner'], values['in_pool']) == (winner, False)
        kinds = server.client('admin').read(
            'lieye.customer.assignment', values['assignments'], ['kind']
        )
        assert sorted(k['kind'] for k in kinds) == ['claim', 'pool']
