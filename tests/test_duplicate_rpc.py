"""Duplicate customers over JSON-RPC: who reads the queue, who proposes,
approves and undoes merges and transfers, and only in their own project
(S6, B6)."""

import datetime as dt
import threading

import pytest
from test_entry_rpc import complete, new_customer, new_phone, new_walk_in, project_id

from rpc import RPCError

QUEUE = 'lieye.customer.duplicate'
MERGE = 'lieye.customer.merge'
# What every read of the records compared before and after an undo leaves out.
STAMPS = {'write_date', 'write_uid', 'last_modified_at'}


def entered_twice(server, customer, phone):
    """Give the person of customer the phone another group of the project
    has, as two desks saving the same caller at once or an import of the old
    system do: the entry itself refuses it"""
    server.sql(
        'UPDATE lieye_customer_person SET phone = %s WHERE customer = %s',
        (f'+86{phone}', customer),
    )


def duplicate_pair(server, code='DEMO1', owners=('consultant1', 'consultant2')):
    "Two customer groups of project code sharing a phone, and the phone"
    phone = new_phone()
    project = project_id(server, code)
    first = new_customer(server.client(owners[0]), project, phone)
    second = new_customer(server.client(owners[1]), project)
    entered_twice(server, second, phone)
    return first, second, phone


def queue_rows(client, phone):
    return client.search_read(
        QUEUE,
        [('value', '=', f'+86{phone}'), ('scope', '=', 'project')],
        ['project', 'match', 'customers', 'customer_count'],
    )


def run_wizard(client, model, ids, **start):
    return client.run_wizard(
        'lieye.customer.merge.create', model, ids, {'start': start}, 'create_'
    )


def batch_of(client, customer):
    (merge,) = client.search(MERGE, [('lines.customer', '=', customer)])
    return merge


def proposed_merge(server, first, second, secretary='secretary1'):
    "The batch merging two groups, proposed by secretary from the customer list"
    client = server.client(secretary)
    run_wizard(client, 'lieye.customer', [first, second], kind='merge', reason='重复')
    merge = batch_of(client, second)
    client.button(MERGE, 'propose', [merge])
    return merge


def state(server, merge):
    return server.client('admin').read(MERGE, [merge], ['state'])[0]['state']


def full_read(server, customers):
    """Every value of the customer groups and of their persons, entries,
    follow-ups and consultant history, as the administrator reads them"""
    admin = server.client('admin')
    result = {}
    for model, field in [
        ('lieye.customer', 'id'),
        ('lieye.customer.person', 'customer'),
        ('lieye.registration', 'customer'),
        ('lieye.followup', 'customer'),
        ('lieye.customer.assignment', 'customer'),
    ]:
        names = sorted(set(admin.model(model, 'fields_get', [])) - STAMPS)
        context = dict(admin.context, active_test=False)
        ids = admin.call(
            f'model.{model}.search',
            [(field, 'in', customers)],
            0,
            None,
            [('id', 'ASC')],
            context,
        )
        records = admin.call(f'model.{model}.read', ids, names, context)
        result[model] = sorted(records, key=lambda r: r['id'])
    return result


def test_demo_queue(server):
    "The demo queue shows duplicates by phone and ID number to the site team"
    # R: S6, B6, DESIGN §4 demo data
    demo1, demo2 = project_id(server, 'DEMO1'), project_id(server, 'DEMO2')
    for login in ['secretary1', 'manager1']:
        client = server.client(login)
        rows = client.search_read(
            QUEUE, [], ['project', 'scope', 'match', 'customer_count', 'customers']
        )
        assert {r['project'] for r in rows} == {demo1}
        same = [r for r in rows if r['scope'] == 'project']
        assert {r['match'] for r in same} >= {'phone', 'id_number'}
        assert all(r['customer_count'] == len(r['customers']) >= 2 for r in same)
        across = [r for r in rows if r['scope'] == 'other_projects']
        assert across
    secretary2 = server.client('secretary2')
    across = secretary2.search_read(
        QUEUE, [('scope', '=', 'other_projects')], ['project', 'other_projects']
    )
    assert across and {r['project'] for r in across} == {demo2}
    assert any('DEMO1' in r['other_projects'] for r in across)
    # Consultants and the roles above the site do not work the queue.
    for login in ['consultant1', 'pm1', 'research1']:
        with pytest.raises(RPCError) as info:
            server.client(login).search(QUEUE, [])
        assert info.value.kind == 'UserError', info.value.error


def test_consultant_cannot_merge(server):
    "A consultant neither reads the queue and the batches nor merges"
    # R: S6, B6
    consultant = server.client('consultant1')
    first, second, _ = duplicate_pair(server)
    with pytest.raises(RPCError):
        consultant.create(
            MERGE,
            [
                {
                    'project': project_id(server, 'DEMO1'),
                    'reason': '同一客户。',
                    'lines': [('create', [{'customer': second, 'target': first}])],
                }
            ],
        )
    with pytest.raises(RPCError):
        run_wizard(consultant, 'lieye.customer', [first], kind='merge', reason='x')
    secretary = server.client('secretary1')
    run_wizard(
        secretary, 'lieye.customer', [first, second], kind='merge', reason='同一客户。'
    )
    merge = batch_of(secretary, second)
    for button in ['propose', 'approve']:
        with pytest.raises(RPCError):
            consultant.button(MERGE, button, [merge])
    with pytest.raises(RPCError):
        consultant.read(MERGE, [merge], ['state'])
    assert state(server, merge) == 'draft'


def test_secretary_proposes_manager_approves(server):
    """secretary1 proposes a merge from the queue, manager1 approves it, and
    its undo gives back every record, owner and history exactly"""
    # R: S6, B6
    secretary = server.client('secretary1')
    manager = server.client('manager1')
    consultant2 = server.client('consultant2')
    first, second, phone = duplicate_pair(server)
    demo1 = project_id(server, 'DEMO1')
    entry = new_walk_in(consultant2, demo1, second, **complete(consultant2, demo1))
    consultant2.button('lieye.registration', 'submit', [entry])
    followup = consultant2.create(
        'lieye.followup',
        [
            {
                'customer': second,
                'date': (dt.date.today() - dt.timedelta(days=2)).isoformat(),
                'method': 'phone',
                'content': '客户说已在张伟处登记过。',
            }
        ],
    )[0]
    (row,) = queue_rows(secretary, phone)
    assert (row['match'], sorted(row['customers'])) == ('phone', [first, second])
    before = full_read(server, [first, second])

    run_wizard(secretary, QUEUE, [row['id']], kind='merge', reason='同一客户两次登记。')
    merge = batch_of(secretary, second)
    secretary.button(MERGE, 'propose', [merge])
    with pytest.raises(RPCError) as info:
        secretary.button(MERGE, 'approve', [merge])
    assert info.value.kind == 'UserError'
    assert state(server, merge) == 'proposed'

    manager.button(MERGE, 'approve', [merge])
    (batch,) = manager.read(MERGE, [merge], ['state', 'proposed_by', 'decided_by'])
    assert (batch['state'], batch['proposed_by'], batch['decided_by']) == (
        'done',
        secretary.user_id,
        manager.user_id,
    )
    admin = server.client('admin')
    (merged,) = admin.read('lieye.customer', [second], ['active', 'merged_into'])
    assert (merged['active'], merged['merged_into']) == (False, first)
    (moved,) = admin.read('lieye.registration', [entry], ['customer', 'consultant'])
    assert moved == {
        'id': entry,
        'customer': first,
        'consultant': server.client('consultant1').user_id,
    }
    assert admin.read('lieye.followup', [followup], ['customer'])[0]['customer'] == (
        first
    )
    assert queue_rows(secretary, phone) == []
    # The consultant who lost the group no longer reads its entry.
    with pytest.raises(RPCError):
        consultant2.read('lieye.registration', [entry], ['stage'])

    with pytest.raises(RPCError):
        secretary.button(MERGE, 'undo', [merge])
    manager.button(MERGE, 'undo', [merge])
    assert state(server, merge) == 'undone'
    assert full_read(server, [first, second]) == before
    assert len(queue_rows(secretary, phone)) == 1


def test_undo_refused_after_change(server):
    "A merge whose records changed since is not undone, in Chinese"
    # R: B6
    manager = server.client('manager1')
    first, second, _ = duplicate_pair(server)
    merge = proposed_merge(server, first, second)
    manager.button(MERGE, 'approve', [merge])
    server.client('consultant1').write('lieye.customer', [first], {'intent': 'high'})
    with pytest.raises(RPCError) as info:
        manager.button(MERGE, 'undo', [merge])
    assert info.value.kind == 'UserError'
    assert '不能撤销' in info.value.message
    assert state(server, merge) == 'done'


def test_manager_cannot_touch_demo2(server):
    "DEMO1's secretary and manager neither see nor decide DEMO2's batches"
    # R: S6, DESIGN §6 member rule
    secretary1 = server.client('secretary1')
    manager1 = server.client('manager1')
    secretary2 = server.client('secretary2')
    demo1, demo2 = project_id(server, 'DEMO1'), project_id(server, 'DEMO2')
    first, second, phone = duplicate_pair(
        server, 'DEMO2', ('consultant3', 'consultant3')
    )
    assert queue_rows(manager1, phone) == []
    assert len(queue_rows(secretary2, phone)) == 1
    merge = proposed_merge(server, first, second, 'secretary2')

    assert merge not in manager1.search(MERGE, [])
    for call in [
        lambda: manager1.read(MERGE, [merge], ['state']),
        lambda: manager1.button(MERGE, 'approve', [merge]),
        lambda: manager1.button(MERGE, 'reject', [merge]),
        lambda: manager1.write(MERGE, [merge], {'decision_note': '同意'}),
    ]:
        with pytest.raises(RPCError):
            call()
    assert state(server, merge) == 'proposed'

    with pytest.raises(RPCError):
        secretary1.create(MERGE, [{'project': demo2, 'reason': '重复'}])
    with pytest.raises(RPCError) as info:
        secretary1.create(
            MERGE,
            [
                {
                    'project': demo1,
                    'reason': '重复',
                    'lines': [('create', [{'customer': second, 'target': first}])],
                }
            ],
        )
    assert info.value.kind == 'UserError'
    assert '不属于案场' in info.value.message
    server.client('admin').button(MERGE, 'reject', [merge])


def test_transfer_in_batch(server):
    "The secretary proposes a transfer to one consultant; the manager approves"
    # R: S6, S4
    secretary = server.client('secretary1')
    manager = server.client('manager1')
    consultant1 = server.client('consultant1')
    consultant2 = server.client('consultant2')
    first, second, phone = duplicate_pair(server)
    (row,) = queue_rows(secretary, phone)
    with pytest.raises(RPCError) as info:
        run_wizard(
            secretary,
            QUEUE,
            [row['id']],
            kind='transfer',
            consultant=server.client('consultant3').user_id,
            reason='统一由李娜跟进。',
        )
    assert info.value.kind == 'UserError'
    assert '请选择案场' in info.value.message
    run_wizard(
        secretary,
        QUEUE,
        [row['id']],
        kind='transfer',
        consultant=consultant2.user_id,
        reason='统一由李娜跟进。',
    )
    merge = batch_of(secretary, first)
    secretary.button(MERGE, 'propose', [merge])
    manager.button(MERGE, 'approve', [merge])
    admin = server.client('admin')
    owners = admin.read('lieye.customer', [first, second], ['owner', 'assignments'])
    assert {o['owner'] for o in owners} == {consultant2.user_id}
    (history,) = [
        a
        for a in admin.read(
            'lieye.customer.assignment',
            owners[0]['assignments'] + owners[1]['assignments'],
            ['kind', 'from_owner', 'user'],
        )
        if a['kind'] == 'transfer'
    ]
    assert (history['from_owner'], history['user']) == (
        consultant1.user_id,
        manager.user_id,
    )
    assert first in consultant2.search('lieye.customer', [('id', '=', first)])
    with pytest.raises(RPCError) as info:
        manager.button(MERGE, 'undo', [merge])
    assert '是移交，不能撤销' in info.value.message


def test_concurrent_approval(server):
    "Two approvals of one batch at once execute it once"
    # R: S6, B6
    if server.backend != 'postgresql':
        pytest.skip('row locks are what is tested; SQLite runs one writer at a time')
    first, second, _ = duplicate_pair(server)
    merge = proposed_merge(server, first, second)
    clients = [server.client('manager1'), server.client('admin')]
    barrier = threading.Barrier(len(clients))
    outcomes = {}

    def approve(client):
        barrier.wait()
        try:
            client.button(MERGE, 'approve', [merge])
        except RPCError as error:
            outcomes[client.login_name] = error
        else:
            outcomes[client.login_name] = 'done'

    threads = [threading.Thread(target=approve, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(str(o) for o in outcomes.values()).count('done') == 1, outcomes
    (refused,) = [o for o in outcomes.values() if o != 'done']
    assert refused.kind == 'UserError', refused.error
    assert '状态已变为“已批准执行”' in refused.message
    admin = server.client('admin')
    (values,) = admin.read('lieye.customer', [second], ['assignments'])
    kinds = admin.read('lieye.customer.assignment', values['assignments'], ['kind'])
    assert [k['kind'] for k in kinds].count('merge') == 1
