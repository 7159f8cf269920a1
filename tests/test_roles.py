"""Who sees and changes which project, over JSON-RPC (S1, DESIGN.md §4, §6).

Every check goes through the same server and protocol as the web client."""

import pytest

from rpc import RPCError


def project_ids(server):
    admin = server.client('admin')
    return {
        p['code']: p['id'] for p in admin.search_read('lieye.project', [], ['code'])
    }


def codes(client, model='lieye.project', field='code'):
    return sorted(r[field] for r in client.search_read(model, [], [field]))


def rooms_of(client, project_id):
    return client.search('lieye.room', [('project', '=', project_id)])


def test_project_visibility_per_role(server):
    "Membership decides which projects a user reads; GM and admin read all"
    # R: S1.1, DESIGN §6 owner/member rule
    assert codes(server.client('consultant1')) == ['DEMO1']
    assert codes(server.client('consultant3')) == ['DEMO2']
    assert codes(server.client('secretary1')) == ['DEMO1']
    assert codes(server.client('pm1')) == ['DEMO1', 'DEMO2']
    assert codes(server.client('gm1')) == ['DEMO1', 'DEMO2']
    assert codes(server.client('admin')) == ['DEMO1', 'DEMO2']


def test_project_of_other_site_unreadable(server):
    "A direct read of another site's project or rooms is refused"
    # R: S1.1, S1.3
    ids = project_ids(server)
    consultant3 = server.client('consultant3')
    with pytest.raises(RPCError):
        consultant3.read('lieye.project', [ids['DEMO1']], ['name'])
    assert rooms_of(consultant3, ids['DEMO1']) == []
    assert consultant3.search_count('lieye.room', [('project', '=', ids['DEMO1'])]) == 0
    admin = server.client('admin')
    demo1_room = rooms_of(admin, ids['DEMO1'])[0]
    with pytest.raises(RPCError):
        consultant3.read('lieye.room', [demo1_room], ['code'])


def test_consultant_cannot_change_inventory(server):
    "Consultants read but never create, write or delete projects or inventory"
    # R: S1.1, S1.2, S1.3
    ids = project_ids(server)
    consultant = server.client('consultant1')
    room = rooms_of(consultant, ids['DEMO1'])[0]
    building = consultant.search('lieye.building', [('project', '=', ids['DEMO1'])])[0]
    with pytest.raises(RPCError):
        consultant.write('lieye.project', [ids['DEMO1']], {'name': 'x'})
    with pytest.raises(RPCError):
        consultant.create('lieye.project', [{'code': 'C1', 'name': 'x'}])
    with pytest.raises(RPCError):
        consultant.delete('lieye.project', [ids['DEMO1']])
    with pytest.raises(RPCError):
        consultant.write('lieye.building', [building], {'name': 'x'})
    with pytest.raises(RPCError):
        consultant.write('lieye.room', [room], {'list_unit_price': '1'})
    with pytest.raises(RPCError):
        consultant.create(
            'lieye.room',
            [{'building': building, 'floor': 99, 'unit_number': 1, 'code': 'X-9901'}],
        )
    with pytest.raises(RPCError):
        consultant.delete('lieye.room', [room])
    with pytest.raises(RPCError):
        consultant.button('lieye.building', 'generate_rooms', [building])
    with pytest.raises(RPCError):
        consultant.button('lieye.project', 'start_selling', [ids['DEMO1']])
    admin = server.client('admin')
    assert (
        admin.read('lieye.project', [ids['DEMO1']], ['name'])[0]['name']
        == '立业·江悦府'
    )


@pytest.mark.parametrize('login', ['secretary1', 'pm1'])
def test_inventory_editable_in_own_project_only(server, login):
    "Secretaries and project managers edit their own project's inventory"
    # R: S1.2, S1.3
    ids = project_ids(server)
    admin = server.client('admin')
    (other,) = admin.create(
        'lieye.project',
        [
            {
                'code': f'OTHER-{login}',
                'name': '其他案场',
                'buildings': [
                    (
                        'create',
                        [
                            {
                                'code': '9',
                                'name': '9号楼',
                                'floors': 2,
                                'units_per_floor': 1,
                            }
                        ],
                    )
                ],
            }
        ],
    )
    (other_building,) = admin.search('lieye.building', [('project', '=', other)])
    user = server.client(login)
    room = rooms_of(user, ids['DEMO1'])[0]
    user.write('lieye.room', [room], {'list_unit_price': '41000'})
    assert (
        admin.read('lieye.room', [room], ['list_unit_price'])[0]['list_unit_price']
        is not None
    )
    building = user.search('lieye.building', [('project', '=', ids['DEMO1'])])[0]
    user.write('lieye.building', [building], {'name': '1号楼（高层）'})

    assert user.search('lieye.building', [('project', '=', other)]) == []
    with pytest.raises(RPCError):
        user.write('lieye.building', [other_building], {'name': 'x'})
    with pytest.raises(RPCError):
        user.create(
            'lieye.room',
            [
                {
                    'building': other_building,
                    'floor': 1,
                    'unit_number': 1,
                    'code': '9-101',
                }
            ],
        )
    with pytest.raises(RPCError):
        user.run_wizard(
            'lieye.building.generate_rooms',
            'lieye.building',
            [other_building],
            {
                'start': {
                    'building': other_building,
                    'floor_from': 1,
                    'floor_to': 2,
                    'skip_floors': None,
                    'floor_price_step': '0',
                }
            },
            'generate',
        )
    assert admin.search_count('lieye.room', [('building', '=', other_building)]) == 0


def test_secretary_cannot_edit_project_record(server):
    "The project record itself belongs to the project manager"
    # R: S1.1
    ids = project_ids(server)
    with pytest.raises(RPCError):
        server.client('secretary1').write(
            'lieye.project', [ids['DEMO1']], {'name': 'x'}
        )
    pm = server.client('pm1')
    pm.write(
        'lieye.project',
        [ids['DEMO1']],
        {'address': '杭州市滨江区江南大道 1888 号（售楼处）'},
    )


def test_duplicate_room_code_refused_in_chinese(server):
    "A duplicate room code is refused with a Chinese message, nothing written"
    # R: S1.3
    ids = project_ids(server)
    secretary = server.client('secretary1')
    building = secretary.search('lieye.building', [('project', '=', ids['DEMO1'])])[0]
    (existing,) = secretary.read(
        'lieye.room', rooms_of(secretary, ids['DEMO1'])[:1], ['code']
    )
    before = secretary.search_count('lieye.room', [])
    with pytest.raises(RPCError) as info:
        secretary.create(
            'lieye.room',
            [
                {'building': building, 'floor': 90, 'unit_number': 1, 'code': 'NEW-1'},
                {
                    'building': building,
                    'floor': 91,
                    'unit_number': 1,
                    'code': existing['code'],
                },
            ],
        )
    assert '房号在案场内必须唯一' in info.value.message
    assert secretary.search_count('lieye.room', []) == before
    assert secretary.search('lieye.room', [('code', '=', 'NEW-1')]) == []


def test_generate_rooms_twice_over_rpc(server):
    "The room wizard run twice leaves the same rooms"
    # R: S1.3
    ids = project_ids(server)
    secretary = server.client('secretary1')
    (building,) = secretary.create(
        'lieye.building',
        [
            {
                'project': ids['DEMO1'],
                'code': '8',
                'name': '8号楼',
                'floors': 5,
                'units_per_floor': 2,
                'units': [
                    (
                        'create',
                        [
                            {
                                'unit_number': 1,
                                'building_area': '95.5',
                                'base_unit_price': '30000',
                            }
                        ],
                    )
                ],
            }
        ],
    )
    start = {
        'start': {
            'building': building,
            'floor_from': 1,
            'floor_to': 5,
            'skip_floors': '4',
            'floor_price_step': '150',
        }
    }
    for _ in range(2):
        secretary.run_wizard(
            'lieye.building.generate_rooms',
            'lieye.building',
            [building],
            start,
            'generate',
        )
        rooms = secretary.search_read(
            'lieye.room', [('building', '=', building)], ['code', 'list_unit_price']
        )
        assert len(rooms) == 8
    assert sorted(r['code'] for r in rooms)[:2] == ['8-101', '8-102']
    assert not any(r['code'].startswith('8-4') for r in rooms)


def test_targets_hidden_from_consultants(server):
    "Collection targets are management figures"
    # R: S1.5
    ids = project_ids(server)
    with pytest.raises(RPCError):
        server.client('consultant1').search_read('lieye.project.target', [], ['amount'])
    manager = server.client('manager1')
    targets = manager.search_read('lieye.project.target', [], ['project'])
    assert targets and {t['project'] for t in targets} == {ids['DEMO1']}
    with pytest.raises(RPCError):
        manager.write('lieye.project.target', [targets[0]['id']], {'amount': '1'})


def test_dictionaries_per_project(server):
    "Each site edits its own dictionary copy; the global set stays"
    # R: S1.4
    ids = project_ids(server)
    secretary = server.client('secretary1')
    own = secretary.search(
        'lieye.dictionary',
        [('project', '=', ids['DEMO1']), ('category', '=', 'how_heard')],
    )
    assert own
    secretary.write('lieye.dictionary', own[:1], {'name': '抖音直播'})
    glob = secretary.search(
        'lieye.dictionary', [('project', '=', None), ('category', '=', 'how_heard')]
    )
    assert glob
    with pytest.raises(RPCError):
        secretary.write('lieye.dictionary', glob[:1], {'name': 'x'})
    assert secretary.search('lieye.dictionary', [('project', '=', ids['DEMO2'])]) == []
    with pytest.raises(RPCError):
        secretary.create(
            'lieye.dictionary',
            [
                {
                    'project': ids['DEMO2'],
                    'category': 'how_heard',
                    'code': 'x',
                    'name': 'x',
                }
            ],
        )
    consultant = server.client('consultant1')
    assert (
        consultant.search_count('lieye.dictionary', [('project', '=', ids['DEMO1'])])
        > 0
    )
    with pytest.raises(RPCError):
        consultant.write('lieye.dictionary', own[:1], {'name': 'x'})


def test_other_roles(server):
    "Channel staff see their member projects, 立业惠 and research all"
    # R: C3, C4, R4
    assert codes(server.client('channel1')) == ['DEMO1', 'DEMO2']
    # Earlier tests may add projects: these roles see every one of them.
    all_codes = codes(server.client('admin'))
    assert codes(server.client('loyalty1')) == all_codes
    research = server.client('research1')
    assert codes(research) == all_codes
    assert research.search_count('lieye.room', []) > 0
    with pytest.raises(RPCError):
        research.write(
            'lieye.room', research.search('lieye.room', [], 1), {'list_unit_price': '1'}
        )
    # Channel staff may show a member project's available rooms to their
    # customers, never change them.
    channel = server.client('channel1')
    room = channel.search('lieye.room', [], 1)
    assert room
    with pytest.raises(RPCError):
        channel.write('lieye.room', room, {'list_unit_price': '1'})
