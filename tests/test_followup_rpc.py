"""Follow-ups over JSON-RPC: who reads, records, changes and removes them,
the customer's last follow-up date and bad input (S3.1, S3.3, S2.8)."""

import datetime as dt

import pytest

from rpc import RPCError

DAY = dt.timedelta(days=1)


def day(days_ago):
    "The ISO date days_ago days before today, as a client may send it"
    return (dt.date.today() - days_ago * DAY).isoformat()


def as_date(value):
    "The date of a JSON-RPC date value"
    return dt.date(value['year'], value['month'], value['day'])


def project_id(server, code):
    admin = server.client('admin')
    return admin.search('lieye.project', [('code', '=', code)])[0]


def customer_of(server, login):
    "A customer owned by login, as the administrator finds it"
    admin = server.client('admin')
    owner = server.client(login).user_id
    return admin.search('lieye.customer', [('owner', '=', owner)], 1)[0]


def new_followup(client, customer, **values):
    base = {
        'customer': customer,
        'date': day(3),
        'method': 'phone',
        'content': '电话回访，客户考虑中。',
    }
    base.update(values)
    return client.create('lieye.followup', [base])[0]


def followups_of(server, login):
    "The follow-ups of the customers login owns, as the administrator finds them"
    admin = server.client('admin')
    owner = server.client(login).user_id
    return admin.search('lieye.followup', [('customer.owner', '=', owner)])


def test_demo_followups(server):
    "Every demo customer has two to four past follow-ups and its last date"
    # R: S3.1, DESIGN §4 demo data
    admin = server.client('admin')
    today = dt.date.today()
    # The demo loader works as the administrator; the tests as the roles.
    demo = [('create_uid', '=', admin.user_id)]
    followups = admin.search_read(
        'lieye.followup', [('customer', 'where', demo)], ['customer', 'date']
    )
    dates = {}
    for followup in followups:
        dates.setdefault(followup['customer'], []).append(as_date(followup['date']))
    customers = admin.search_read('lieye.customer', demo, ['last_followup_date'])
    assert customers
    for customer in customers:
        assert 2 <= len(dates[customer['id']]) <= 4
        assert max(dates[customer['id']]) <= today
        assert as_date(customer['last_followup_date']) == max(dates[customer['id']])
    methods = admin.search_read('lieye.followup', [], ['method', 'result'])
    assert {m['method'] for m in methods} >= {'phone', 'visit', 'wechat', 'sms'}
    assert {m['result'] for m in methods} >= {'reached', 'not_reached', 'lost'}


def test_consultant_owner_only(server):
    "A consultant reads, records and changes follow-ups of own customers only"
    # R: S2.8, S3.1
    consultant1 = server.client('consultant1')
    consultant2 = server.client('consultant2')
    theirs = followups_of(server, 'consultant1')
    mine = followups_of(server, 'consultant2')
    assert theirs and mine
    assert sorted(consultant2.search('lieye.followup', [])) == sorted(mine)
    assert (
        consultant2.search_count(
            'lieye.followup', [('consultant', '=', consultant1.user_id)]
        )
        == 0
    )
    with pytest.raises(RPCError):
        consultant2.read('lieye.followup', theirs[:1], ['content'])
    with pytest.raises(RPCError):
        consultant2.write('lieye.followup', theirs[:1], {'content': '改'})

    # Recording a follow-up on another consultant's customer is refused
    # and leaves nothing behind.
    admin = server.client('admin')
    count = admin.search_count('lieye.followup', [])
    with pytest.raises(RPCError):
        new_followup(consultant2, customer_of(server, 'consultant1'))
    assert admin.search_count('lieye.followup', []) == count

    customer = customer_of(server, 'consultant2')
    followup = new_followup(consultant2, customer, date=day(0), result='reached')
    (record,) = consultant2.read(
        'lieye.followup', [followup], ['project', 'consultant', 'rec_name']
    )
    assert record['project'] == project_id(server, 'DEMO1')
    assert record['consultant'] == consultant2.user_id
    (values,) = consultant2.read('lieye.customer', [customer], ['last_followup_date'])
    assert as_date(values['last_followup_date']) == dt.date.today()

    consultant2.write('lieye.followup', [followup], {'next_date': day(-7)})
    with pytest.raises(RPCError):
        consultant2.delete('lieye.followup', [followup])
    assert consultant2.search('lieye.followup', [('id', '=', followup)])


def test_site_team_of_project(server):
    "Secretaries and sales managers work on the follow-ups of their project"
    # R: S3.3
    demo1 = project_id(server, 'DEMO1')
    other_site = followups_of(server, 'consultant3')
    for login in ['secretary1', 'manager1']:
        client = server.client(login)
        found = set(client.search('lieye.followup', []))
        assert set(followups_of(server, 'consultant1')) <= found
        assert set(followups_of(server, 'consultant2')) <= found
        projects = client.search_read('lieye.followup', [], ['project'])
        assert {p['project'] for p in projects} == {demo1}
        with pytest.raises(RPCError):
            client.read('lieye.followup', other_site[:1], ['content'])
        with pytest.raises(RPCError):
            new_followup(client, customer_of(server, 'consultant3'))

        customer = customer_of(server, 'consultant1')
        followup = new_followup(
            client, customer, consultant=server.client('consultant1').user_id
        )
        client.write('lieye.followup', [followup], {'result': 'visit_booked'})
        client.delete('lieye.followup', [followup])
        assert client.search('lieye.followup', [('id', '=', followup)]) == []


def test_managers_read_only(server):
    "Project managers read their projects' follow-ups; the GM reads all"
    # R: S3.3
    demo1, demo2 = project_id(server, 'DEMO1'), project_id(server, 'DEMO2')
    admin = server.client('admin')
    every = set(admin.search('lieye.followup', []))
    customer = customer_of(server, 'consultant1')
    followup = followups_of(server, 'consultant1')[0]
    for login in ['pm1', 'gm1']:
        client = server.client(login)
        found = set(client.search('lieye.followup', []))
        projects = {
            p['project']
            for p in client.search_read('lieye.followup', [], ['project', 'content'])
        }
        assert projects == {demo1, demo2}
        if login == 'gm1':
            assert found == every
        with pytest.raises(RPCError):
            new_followup(client, customer)
        with pytest.raises(RPCError):
            client.write('lieye.followup', [followup], {'content': '改'})
        with pytest.raises(RPCError):
            client.delete('lieye.followup', [followup])


def test_other_roles_refused(server):
    "Research and channel staff neither read nor record follow-ups"
    # R: S18.4, B10
    customer = customer_of(server, 'consultant1')
    for login in ['research1', 'channel1']:
        client = server.client(login)
        with pytest.raises(RPCError) as info:
            client.search('lieye.followup', [])
        assert info.value.kind == 'UserError', info.value.error
        with pytest.raises(RPCError):
            new_followup(client, customer)


@pytest.mark.parametrize(
    'values, texts',
    [
        ({'date': day(-2)}, ['晚于今天']),
        ({'date': day(3), 'next_date': day(5)}, ['下次回访日期', '早于']),
        ({'content': None}, ['请填写', '回访内容']),
        ({'content': ''}, ['请填写', '回访内容']),
        ({'method': 'telepathy'}, ['回访方式', '不是可选的值']),
        ({'date': 'yesterday'}, ['回访日期', '有效值']),
    ],
)
def test_bad_input_refused_in_chinese(server, values, texts):
    "Bad follow-ups are refused with a Chinese message and write nothing"
    # R: S3.1, DESIGN §6 bad input
    consultant = server.client('consultant1')
    customer = customer_of(server, 'consultant1')
    (before,) = consultant.read('lieye.customer', [customer], ['last_followup_date'])
    count = consultant.search_count('lieye.followup', [])
    with pytest.raises(RPCError) as info:
        new_followup(consultant, customer, **values)
    assert info.value.kind == 'UserError', info.value.error
    for text in texts:
        assert text in info.value.message
    assert consultant.search_count('lieye.followup', []) == count
    (after,) = consultant.read('lieye.customer', [customer], ['last_followup_date'])
    assert after == before
