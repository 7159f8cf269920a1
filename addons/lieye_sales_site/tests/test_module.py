# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from lxml import etree
from trytond.exceptions import UserError
from trytond.model.exceptions import DomainValidationError, SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


class LieyeSalesSiteTestCase(ModuleTestCase):
    "Test lieye_sales_site module"

    module = 'lieye_sales_site'

    def create_project(self, code='P1'):
        pool = Pool()
        Project = pool.get('lieye.project')
        Building = pool.get('lieye.building')
        (project,) = Project.create([{'code': code, 'name': f'Project {code}'}])
        (building,) = Building.create(
            [
                {
                    'project': project.id,
                    'code': '3',
                    'name': '3号楼',
                    'floors': 3,
                    'units_per_floor': 2,
                    'units': [
                        (
                            'create',
                            [
                                {
                                    'unit_number': 1,
                                    'building_area': Decimal('100'),
                                    'base_unit_price': Decimal('20000'),
                                }
                            ],
                        )
                    ],
                }
            ]
        )
        return project, building

    def generate(self, building, **start):
        pool = Pool()
        GenerateRooms = pool.get('lieye.building.generate_rooms', type='wizard')
        session_id, _, _ = GenerateRooms.create()
        values = {
            'building': building.id,
            'floor_from': 1,
            'floor_to': building.floors,
            'skip_floors': None,
            'floor_price_step': Decimal(0),
        }
        values.update(start)
        with Transaction().set_context(
            active_model='lieye.building',
            active_id=building.id,
            active_ids=[building.id],
        ):
            GenerateRooms.execute(session_id, {'start': values}, 'generate')
        GenerateRooms.delete(session_id)

    @with_transaction()
    def test_list_views_show_timestamps(self):
        """Lists show a timestamp as a date and a time column: the web client
        has no column for the field itself and fails to open the view"""
        pool = Pool()
        View = pool.get('ir.ui.view')
        for view in View.search([('module', '=', self.module), ('type', '=', 'tree')]):
            Model = pool.get(view.model)
            for node in etree.fromstring(view.arch).iter('field'):
                field = Model._fields.get(node.get('name'))
                if field is not None and field._type in {'timestamp', 'datetime'}:
                    with self.subTest(view=view.name, field=node.get('name')):
                        self.assertIn(node.get('widget'), {'date', 'time'})

    @with_transaction()
    def test_generate_rooms_idempotent(self):
        "Generating rooms twice creates each room once (S1.3)"
        pool = Pool()
        Room = pool.get('lieye.room')
        project, building = self.create_project()

        self.generate(building, floor_price_step=Decimal(100))
        rooms = Room.search([('building', '=', building.id)])
        self.generate(building)

        self.assertEqual(Room.search([('building', '=', building.id)]), rooms)
        self.assertEqual(len(rooms), 6)
        self.assertEqual(
            sorted(r.code for r in rooms),
            ['3-101', '3-102', '3-201', '3-202', '3-301', '3-302'],
        )
        (room_201,) = Room.search([('code', '=', '3-201')])
        self.assertEqual(room_201.project, project)
        self.assertEqual(room_201.list_unit_price, Decimal('20100'))
        self.assertEqual(room_201.list_total, Decimal('2010000.00'))
        (room_102,) = Room.search([('code', '=', '3-102')])
        self.assertIsNone(room_102.list_unit_price)

    @with_transaction()
    def test_generate_rooms_skip_floors(self):
        "Skipped floors get no rooms and bad floor lists are refused"
        pool = Pool()
        Room = pool.get('lieye.room')
        _, building = self.create_project()

        self.generate(building, skip_floors='2')
        self.assertEqual(
            {r.floor for r in Room.search([('building', '=', building.id)])}, {1, 3}
        )
        with self.assertRaises(UserError):
            self.generate(building, skip_floors='2,B1')
        with self.assertRaises(UserError):
            self.generate(building, floor_to=4)

    @with_transaction()
    def test_room_code_unique_per_project(self):
        "A room code is unique in its project, not across projects (S1.3)"
        pool = Pool()
        Room = pool.get('lieye.room')
        _, building1 = self.create_project('P1')
        _, building2 = self.create_project('P2')
        Room.create(
            [{'building': building1.id, 'floor': 1, 'unit_number': 1, 'code': 'X-1'}]
        )
        Room.create(
            [{'building': building2.id, 'floor': 1, 'unit_number': 1, 'code': 'X-1'}]
        )
        with self.assertRaises(SQLConstraintError):
            Room.create(
                [
                    {
                        'building': building1.id,
                        'floor': 2,
                        'unit_number': 1,
                        'code': 'X-1',
                    }
                ]
            )

    @with_transaction()
    def test_unit_number_within_floor(self):
        "A unit pattern number cannot exceed the units per floor"
        pool = Pool()
        Building = pool.get('lieye.building')
        _, building = self.create_project()
        with self.assertRaises(UserError):
            Building.write([building], {'units': [('create', [{'unit_number': 3}])]})

    @with_transaction()
    def test_target_overlap(self):
        "Collection targets of a project cannot overlap (S1.5)"
        pool = Pool()
        Target = pool.get('lieye.project.target')
        project, _ = self.create_project()
        Target.create(
            [
                {
                    'project': project.id,
                    'period_start': '2026-01-01',
                    'period_end': '2026-01-31',
                    'amount': Decimal(1000),
                }
            ]
        )
        with self.assertRaises(UserError):
            Target.create(
                [
                    {
                        'project': project.id,
                        'period_start': '2026-01-15',
                        'period_end': '2026-02-15',
                        'amount': Decimal(1000),
                    }
                ]
            )
        with self.assertRaises(DomainValidationError):
            Target.create(
                [
                    {
                        'project': project.id,
                        'period_start': '2026-03-01',
                        'period_end': '2026-03-31',
                        'amount': Decimal(0),
                    }
                ]
            )

    @with_transaction()
    def test_dictionaries_copy(self):
        "A project starts with a copy of the global dictionaries (S1.4)"
        pool = Pool()
        Dictionary = pool.get('lieye.dictionary')
        CopyDictionaries = pool.get('lieye.project.copy_dictionaries', type='wizard')
        project, _ = self.create_project()
        global_values = Dictionary.search([('project', '=', None)])
        self.assertTrue(global_values)
        own = Dictionary.search([('project', '=', project.id)])
        self.assertEqual(len(own), len(global_values))
        self.assertEqual(
            Dictionary.values_for(project, 'how_heard'),
            Dictionary.search(
                [('project', '=', project.id), ('category', '=', 'how_heard')]
            ),
        )

        # A value added to the global set later reaches the project once.
        Dictionary.create([{'category': 'how_heard', 'code': 'live', 'name': '直播'}])
        for _ in range(2):
            session_id, _, _ = CopyDictionaries.create()
            with Transaction().set_context(
                active_model='lieye.project',
                active_id=project.id,
                active_ids=[project.id],
            ):
                CopyDictionaries.execute(session_id, {}, 'start')
        own = Dictionary.search([('project', '=', project.id)])
        self.assertEqual(len(own), len(global_values) + 1)

        (value,) = Dictionary.search(
            [
                ('project', '=', project.id),
                ('category', '=', 'how_heard'),
                ('code', '=', 'newspaper'),
            ]
        )
        value.name = '本地报纸'
        value.save()
        (global_value,) = Dictionary.search(
            [
                ('project', '=', None),
                ('category', '=', 'how_heard'),
                ('code', '=', 'newspaper'),
            ]
        )
        self.assertEqual(global_value.name, '报纸')
        self.assertIn(value, Dictionary.values_for(project, 'how_heard'))
        with self.assertRaises(UserError):
            Dictionary.create(
                [
                    {
                        'project': project.id,
                        'category': 'how_heard',
                        'code': 'newspaper',
                        'name': '重复',
                    }
                ]
            )

    @with_transaction()
    def test_member_projects(self):
        "A user's projects follow the active memberships"
        pool = Pool()
        Member = pool.get('lieye.project.member')
        User = pool.get('res.user')
        project, _ = self.create_project()
        (user,) = User.create([{'login': 'member', 'name': 'Member'}])
        with Transaction().set_user(user.id):
            self.assertEqual(User.get_lieye_projects(), ())
        (member,) = Member.create(
            [{'project': project.id, 'user': user.id, 'role': 'consultant'}]
        )
        with Transaction().set_user(user.id):
            self.assertEqual(User.get_lieye_projects(), (project.id,))
        member.active = False
        member.save()
        with Transaction().set_user(user.id):
            self.assertEqual(User.get_lieye_projects(), ())


del ModuleTestCase
