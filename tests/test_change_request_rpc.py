"""Change requests over JSON-RPC: who requests, approves and applies them,
per role and per project, and that a client cannot open the locks of
submitted records itself (S2.7, S6, S15, B3)."""

import json
import threading

import pytest
from test_entry_rpc import new_phone
from test_review_rpc import submitted_walk_in

from rpc import RPCError

REQUEST = 'lieye.change.request'
HANDLED = '不能再执行此操作'


def field_id(client, model, name):
    (found,) = client.search(
        'ir.model.field', [('model', '=', model), ('name', '=', name)]
    )
    return found


def request_change(client, model, record, reason='客户要求更正', **changes):
    """Start a request from the record's form, fill it in and send it, as
    the web client does; return its id"""
    action = client.button(model, 'request_change', [record])
    (request,) = action['res_id']
    lines = [
        {'field': field_id(client, model, name), 'new_value': value}
        for name, value in changes.items()
    ]
    client.write(REQUEST, [request], {'reason': reason, 'lines': [('create', lines)]})
    client.button(REQUEST, 'submit', [request])
    return request


def person_of(client, registration):
    (values,) = client.read('lieye.registration', [registration], ['customer'])
    (person,) = client.search(
        'lieye.customer.person', [('customer', '=', values['customer'])]
    )
    return person


def reject(client, requests, reason):
    "Reject requests through the wizard, as the web client does"
    return client.run_wizard(
        'lieye.change.request.reject',
        REQUEST,
        requests,
        {'start': {'reason': reason}},
        'reject',
    )


def state(server, request):
    admin = server.client('admin')
    return admin.read(REQUEST, [request], ['state'])[0]['state']


def refused(action):
    "Return the error of action, which the server must refuse"
    with pytest.raises(RPCError) as info:
        action()
    assert info.value.kind == 'UserError', info.value.error
    return info.value


def test_demo_change_requests(server):
    "The list's tabs count the demo requests; each role sees its own share"
    # R: S6, S15, DESIGN §4 demo data
    secretary = server.client('secretary1')
    tabs = {
        t['name']: json.loads(t['domain'])
        for t in secretary.search_read(
            'ir.action.act_window.domain',
            [('act_window.res_model', '=', REQUEST), ('count', '=', True)],
            ['name', 'domain'],
        )
    }
    assert {'待处理', '待审批', '已应用', '已驳回', '草稿', '全部'} <= set(tabs)
    for name in ['待处理', '待审批', '已应用', '已驳回']:
        assert secretary.search_count(REQUEST, tabs[name]) > 0, name
    rejected = secretary.search_read(
        REQUEST, tabs['已驳回'], ['rejection_reason', 'rejected_by']
    )
    assert all(r['rejection_reason'] and r['rejected_by'] for r in rejected)
    # The demo price: approved by the manager, applied by the secretary.
    (applied,) = secretary.search_read(
        REQUEST,
        [*tabs['已应用'], ('sensitive', '=', True)],
        ['lines', 'approved_by', 'applied_by'],
    )
    assert applied['approved_by'] == server.client('manager1').user_id
    assert applied['applied_by'] == secretary.user_id
    (line,) = secretary.read(
        'lieye.change.request.line',
        applied['lines'],
        ['field.string', 'old_value', 'new_value'],
    )
    assert line['field.']['string'] == '成交单价（元/㎡）'
    assert float(line['old_value']) - float(line['new_value']) == 200

    every = set(secretary.search(REQUEST, []))
    for login in ['consultant1', 'consultant2']:
        client = server.client(login)
        mine = client.search_read(REQUEST, [], ['requester'])
        assert {r['requester'] for r in mine} <= {client.user_id}
        assert {r['id'] for r in mine} <= every
    assert every <= set(server.client('manager1').search(REQUEST, []))
    assert (
        server.client('consultant3').search(REQUEST, [('id', 'in', list(every))]) == []
    )
    menus = server.client('consultant1').search_read(
        'ir.ui.menu', [('name', '=', '变更申请')], ['name']
    )
    assert menus


def test_consultant_requests_secretary_applies(server):
    "A consultant asks, cannot handle; the secretary applies, all is logged"
    # R: S2.7, S6, S15, B3
    consultant = server.client('consultant1')
    secretary = server.client('secretary1')
    registration = submitted_walk_in(server)
    refused(
        lambda: consultant.write(
            'lieye.registration', [registration], {'residence_place': '星光公寓'}
        )
    )
    request = request_change(
        consultant,
        'lieye.registration',
        registration,
        residence_place='星光公寓',
        intent='高',
    )
    (values,) = consultant.read(REQUEST, [request], ['state', 'sensitive', 'lines'])
    assert (values['state'], values['sensitive']) == ('requested', False)
    lines = consultant.read(
        'lieye.change.request.line', values['lines'], ['old_value', 'new_value']
    )
    assert [(v['old_value'], v['new_value']) for v in lines] == [
        (None, '星光公寓'),
        (None, '高'),
    ]

    refused(lambda: consultant.button(REQUEST, 'apply', [request]))
    refused(lambda: consultant.button(REQUEST, 'approve', [request]))
    refused(lambda: reject(consultant, [request], '自己驳回'))
    refused(lambda: consultant.write(REQUEST, [request], {'state': 'applied'}))
    refused(lambda: consultant.write(REQUEST, [request], {'reason': '改原因'}))
    assert state(server, request) == 'requested'
    assert server.client('consultant2').search(REQUEST, [('id', '=', request)]) == []

    secretary.button(REQUEST, 'apply', [request])
    (values,) = consultant.read(
        'lieye.registration', [registration], ['residence_place', 'intent', 'state']
    )
    assert values == {
        'id': registration,
        'residence_place': '星光公寓',
        'intent': 'high',
        'state': 'submitted',
    }
    (values,) = consultant.read(REQUEST, [request], ['state', 'applied_by'])
    assert (values['state'], values['applied_by']) == ('applied', secretary.user_id)
    error = refused(lambda: secretary.button(REQUEST, 'apply', [request]))
    assert HANDLED in error.message and '已应用' in error.message
    # The log of the registration names who wrote which fields (S2.9).
    logs = server.client('admin').search_read(
        'ir.model.log',
        [
            ('resource', '=', f'lieye.registration,{registration}'),
            ('event', '=', 'write'),
        ],
        ['user', 'target'],
    )
    assert {(log['user'], log['target']) for log in logs} == {
        (secretary.user_id, 'intent,residence_place')
    }
    refused(
        lambda: consultant.write(
            'lieye.registration', [registration], {'remarks': '再改'}
        )
    )


def test_secretary_cannot_approve_sensitive(server):
    "A phone waits for the sales manager; the secretary applies it after"
    # R: S15, S2.7
    consultant = server.client('consultant1')
    secretary = server.client('secretary1')
    manager = server.client('manager1')
    registration = submitted_walk_in(server)
    person = person_of(consultant, registration)
    phone = new_phone()
    refused(
        lambda: consultant.write('lieye.customer.person', [person], {'phone': phone})
    )
    request = request_change(
        consultant, 'lieye.customer.person', person, reason='客户换号', phone=phone
    )
    (values,) = secretary.read(REQUEST, [request], ['sensitive', 'state'])
    assert values == {'id': request, 'sensitive': True, 'state': 'requested'}

    refused(lambda: secretary.button(REQUEST, 'approve', [request]))
    error = refused(lambda: secretary.button(REQUEST, 'apply', [request]))
    assert '须经销售经理审批' in error.message and '电话' in error.message
    refused(lambda: consultant.button(REQUEST, 'approve', [request]))
    assert state(server, request) == 'requested'

    manager.button(REQUEST, 'approve', [request])
    assert state(server, request) == 'approved'
    secretary.button(REQUEST, 'apply', [request])
    (values,) = consultant.read('lieye.customer.person', [person], ['phone'])
    assert values['phone'] == '+86' + phone
    (values,) = consultant.read(
        REQUEST, [request], ['state', 'approved_by', 'applied_by']
    )
    assert values == {
        'id': request,
        'state': 'applied',
        'approved_by': manager.user_id,
        'applied_by': secretary.user_id,
    }


def test_demo1_managers_cannot_touch_demo2(server):
    "DEMO1's secretary and manager neither see nor handle DEMO2's requests"
    # R: S15, S2.8
    consultant3 = server.client('consultant3')
    registration = submitted_walk_in(server, 'consultant3', 'DEMO2')
    request = request_change(
        consultant3, 'lieye.registration', registration, residence_place='湖畔花园'
    )
    for login in ['secretary1', 'manager1']:
        client = server.client(login)
        assert client.search(REQUEST, [('id', '=', request)]) == []
        refused(lambda: client.read(REQUEST, [request], ['state']))
        for button in ['approve', 'apply', 'cancel']:
            refused(lambda: client.button(REQUEST, button, [request]))
        refused(lambda: reject(client, [request], '不是本案场的'))
        refused(lambda: client.write(REQUEST, [request], {'reason': '改'}))
        refused(
            lambda: client.button(
                'lieye.registration', 'request_change', [registration]
            )
        )
        refused(
            lambda: client.create(
                REQUEST,
                [{'record': f'lieye.registration,{registration}', 'reason': '改'}],
            )
        )
    for login in ['pm1', 'gm1']:
        client = server.client(login)
        (values,) = client.read(REQUEST, [request], ['state', 'changed_fields'])
        assert values['changed_fields'] == '居住地名'
        # The values before and after stay with the site team.
        refused(
            lambda: client.search_read(
                'lieye.change.request.line', [('request', '=', request)], ['new_value']
            )
        )
        refused(lambda: client.button(REQUEST, 'apply', [request]))
    assert state(server, request) == 'requested'

    server.client('secretary2').button(REQUEST, 'apply', [request])
    (values,) = consultant3.read(
        'lieye.registration', [registration], ['residence_place']
    )
    assert values['residence_place'] == '湖畔花园'


def test_context_flag_not_forgeable(server):
    "A client sending the server's flag in its context still meets the locks"
    # R: S2.7, S15
    consultant = server.client('consultant1')
    registration = submitted_walk_in(server)
    person = person_of(consultant, registration)
    applied = server.client('secretary1').search(REQUEST, [('state', '=', 'applied')])
    for flag in [1, applied[0]]:
        context = dict(consultant.context, _change_request=flag)
        error = refused(
            lambda: consultant.call(
                'model.lieye.registration.write',
                [registration],
                {'remarks': '绕过锁定'},
                context,
            )
        )
        assert '已提交' in error.message
        refused(
            lambda: consultant.call(
                'model.lieye.customer.person.write',
                [person],
                {'phone': new_phone()},
                context,
            )
        )
    (values,) = consultant.read('lieye.registration', [registration], ['remarks'])
    assert values['remarks'] is None


@pytest.mark.parametrize(
    'name, value, texts',
    [
        ('date', '2025/03/08', ['日期', 'YYYY-MM-DD']),
        ('intent', '超高', ['意向', '以下之一：高、中、低']),
        ('residence_district', '火星', ['居住区域', '编码或名称']),
        ('from_call', '也许', ['“是”或“否”']),
    ],
)
def test_bad_value_refused_in_chinese(server, name, value, texts):
    "A value that does not convert is refused in Chinese; the draft stays"
    # R: S15, DESIGN §6 bad input
    consultant = server.client('consultant1')
    registration = submitted_walk_in(server)
    action = consultant.button('lieye.registration', 'request_change', [registration])
    (request,) = action['res_id']
    consultant.write(
        REQUEST,
        [request],
        {
            'reason': '更正',
            'lines': [
                (
                    'create',
                    [
                        {
                            'field': field_id(consultant, 'lieye.registration', name),
                            'new_value': value,
                        }
                    ],
                )
            ],
        },
    )
    error = refused(lambda: consultant.button(REQUEST, 'submit', [request]))
    assert value in error.message
    for text in texts:
        assert text in error.message
    assert state(server, request) == 'draft'


def test_concurrent_apply(server):
    "The secretary and the manager apply one request at once: it applies once"
    # R: S15
    if server.backend != 'postgresql':
        pytest.skip('row locks: PostgreSQL only (SQLite runs one writer at a time)')
    consultant = server.client('consultant1')
    clients = [server.client('secretary1'), server.client('manager1')]
    for attempt in range(3):
        registration = submitted_walk_in(server)
        request = request_change(
            consultant,
            'lieye.registration',
            registration,
            residence_place=f'并发小区{attempt}',
        )
        barrier = threading.Barrier(len(clients))
        outcomes = {}

        def act(client):
            barrier.wait()
            try:
                client.button(REQUEST, 'apply', [request])
            except RPCError as error:
                outcomes[client.login_name] = error
            else:
                outcomes[client.login_name] = 'done'

        threads = [threading.Thread(target=act, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(outcomes) == 2
        done = [login for login, outcome in outcomes.items() if outcome == 'done']
        assert len(done) == 1, outcomes
        (error,) = [o for o in outcomes.values() if o != 'done']
        assert error.kind == 'UserError', error.error
        assert HANDLED in error.message
        admin = server.client('admin')
        (values,) = admin.read(REQUEST, [request], ['state', 'applied_by'])
        assert values['state'] == 'applied'
        logs = admin.search_count(
            'ir.model.log',
            [
                ('resource', '=', f'{REQUEST},{request}'),
                ('target', '=', 'state:applied'),
            ],
        )
        assert logs == 1
