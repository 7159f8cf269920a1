# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import InventoryError
from .model import ValueTypeMixin, rec_name_domain

ORIENTATIONS = [
    (None, ""),
    ('S', "South"),
    ('N', "North"),
    ('E', "East"),
    ('W', "West"),
    ('NS', "North-South"),
    ('SE', "South-East"),
    ('SW', "South-West"),
    ('NE', "North-East"),
    ('NW', "North-West"),
]
CENT = Decimal('0.01')


def room_code(building_code, floor, unit_number):
    "Return the display code of a room, such as 3-1502"
    return f'{building_code}-{floor}{unit_number:02d}'


class Building(ValueTypeMixin, ModelSQL, ModelView):
    "Building (楼栋)"

    __name__ = 'lieye.building'
    _history = True

    project = fields.Many2One(
        'lieye.project', "Project", required=True, ondelete='CASCADE'
    )
    code = fields.Char(
        "Code",
        required=True,
        strip=True,
        help="Short code used in room numbers, for example 3 for 3-1502.",
    )
    name = fields.Char("Name", required=True)
    floors = fields.Integer(
        "Floors", required=True, domain=[('floors', '>=', 1), ('floors', '<=', 200)]
    )
    units_per_floor = fields.Integer(
        "Units per Floor",
        required=True,
        domain=[('units_per_floor', '>=', 1), ('units_per_floor', '<=', 99)],
    )
    units = fields.One2Many(
        'lieye.building.unit',
        'building',
        "Unit Pattern",
        help="Unit type, area and base price of each unit number, "
        "used to generate the rooms of every floor.",
    )
    rooms = fields.One2Many('lieye.room', 'building', "Rooms", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')
        t = cls.__table__()
        cls._sql_constraints = [
            (
                'code_unique',
                Unique(t, t.project, t.code),
                'lieye_sales_site.msg_building_code_unique',
            ),
        ]
        cls._order[0:0] = [('project', 'ASC'), ('code', 'ASC')]
        cls._buttons.update(
            {
                'generate_rooms': {},
            }
        )

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        return rec_name_domain(clause, 'code', 'name')

    @classmethod
    @ModelView.button_action('lieye_sales_site.wizard_generate_rooms')
    def generate_rooms(cls, buildings):
        pass

    @classmethod
    def validate_fields(cls, buildings, field_names):
        super().validate_fields(buildings, field_names)
        if field_names & {'units_per_floor', 'units'}:
            for building in buildings:
                for unit in building.units:
                    unit.check_number()


class BuildingUnit(ValueTypeMixin, ModelSQL, ModelView):
    "Unit of a building floor pattern"

    __name__ = 'lieye.building.unit'

    building = fields.Many2One(
        'lieye.building', "Building", required=True, ondelete='CASCADE'
    )
    unit_number = fields.Integer(
        "Unit Number", required=True, domain=[('unit_number', '>=', 1)]
    )
    unit_type = fields.Many2One(
        'lieye.unit_type',
        "Unit Type",
        domain=[('project', '=', Eval('_parent_building', {}).get('project', -1))],
    )
    building_area = fields.Numeric(
        "Building Area (m²)",
        digits=(16, 2),
        domain=['OR', ('building_area', '=', None), ('building_area', '>', 0)],
    )
    inner_area = fields.Numeric(
        "Inner Area (m²)",
        digits=(16, 2),
        domain=['OR', ('inner_area', '=', None), ('inner_area', '>', 0)],
    )
    orientation = fields.Selection(ORIENTATIONS, "Orientation")
    base_unit_price = fields.Numeric(
        "Base Unit Price (CNY/m²)",
        digits=(16, 2),
        domain=['OR', ('base_unit_price', '=', None), ('base_unit_price', '>=', 0)],
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('building')
        t = cls.__table__()
        cls._sql_constraints = [
            (
                'number_unique',
                Unique(t, t.building, t.unit_number),
                'lieye_sales_site.msg_building_unit_unique',
            ),
        ]
        cls._order.insert(0, ('unit_number', 'ASC'))

    def check_number(self):
        if self.unit_number > self.building.units_per_floor:
            raise InventoryError(
                gettext(
                    'lieye_sales_site.msg_unit_number_out_of_range',
                    number=self.unit_number,
                    building=self.building.rec_name,
                    units=self.building.units_per_floor,
                )
            )


class Room(ValueTypeMixin, ModelSQL, ModelView):
    "Room (房源)"

    __name__ = 'lieye.room'
    _history = True

    building = fields.Many2One(
        'lieye.building', "Building", required=True, ondelete='CASCADE'
    )
    project = fields.Many2One(
        'lieye.project', "Project", required=True, readonly=True, ondelete='CASCADE'
    )
    floor = fields.Integer("Floor", required=True, domain=[('floor', '>=', 1)])
    unit_number = fields.Integer(
        "Unit Number", required=True, domain=[('unit_number', '>=', 1)]
    )
    code = fields.Char(
        "Room Code",
        required=True,
        strip=True,
        help="Displayed room number, for example 3-1502.",
    )
    unit_type = fields.Many2One(
        'lieye.unit_type', "Unit Type", domain=[('project', '=', Eval('project', -1))]
    )
    building_area = fields.Numeric(
        "Building Area (m²)",
        digits=(16, 2),
        domain=['OR', ('building_area', '=', None), ('building_area', '>', 0)],
    )
    inner_area = fields.Numeric(
        "Inner Area (m²)",
        digits=(16, 2),
        domain=[
            'OR',
            ('inner_area', '=', None),
            ('inner_area', '>', 0),
        ],
    )
    list_unit_price = fields.Numeric(
        "List Unit Price (CNY/m²)",
        digits=(16, 2),
        domain=['OR', ('list_unit_price', '=', None), ('list_unit_price', '>=', 0)],
    )
    list_total = fields.Numeric(
        "List Total (CNY)",
        digits=(16, 2),
        domain=['OR', ('list_total', '=', None), ('list_total', '>=', 0)],
    )
    orientation = fields.Selection(ORIENTATIONS, "Orientation")
    state = fields.Selection(
        [
            ('available', "Available"),
            ('reserved', "Reserved"),
            ('sold', "Sold"),
        ],
        "State",
        readonly=True,
        required=True,
        sort=False,
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')
        t = cls.__table__()
        cls._sql_constraints = [
            (
                'code_unique',
                Unique(t, t.project, t.code),
                'lieye_sales_site.msg_room_code_unique',
            ),
            (
                'position_unique',
                Unique(t, t.building, t.floor, t.unit_number),
                'lieye_sales_site.msg_room_position_unique',
            ),
        ]
        cls._sql_indexes.add(
            Index(t, (t.project, Index.Equality()), (t.state, Index.Equality()))
        )
        cls._order[0:0] = [
            ('building', 'ASC'),
            ('floor', 'ASC'),
            ('unit_number', 'ASC'),
        ]

    @classmethod
    def default_state(cls):
        return 'available'

    @fields.depends('building', '_parent_building.project')
    def on_change_building(self):
        self.project = self.building.project if self.building else None

    @fields.depends('building_area', 'list_unit_price')
    def on_change_with_list_total(self):
        if self.building_area and self.list_unit_price is not None:
            return (self.building_area * self.list_unit_price).quantize(CENT)

    @fields.depends('building', 'floor', 'unit_number', '_parent_building.code')
    def on_change_with_code(self):
        if self.building and self.floor and self.unit_number:
            return room_code(self.building.code, self.floor, self.unit_number)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Building = pool.get('lieye.building')
        values = super().preprocess_values(mode, values)
        # The project is always the building's: rules and the per-project
        # uniqueness of room codes rely on it.
        if values.get('building') is not None:
            values['project'] = Building(values['building']).project.id
        return values

    def get_rec_name(self, name):
        return self.code

    @classmethod
    def validate_fields(cls, rooms, field_names):
        super().validate_fields(rooms, field_names)
        if field_names & {'building', 'floor', 'unit_number'}:
            for room in rooms:
                room.check_position()

    def check_position(self):
        building = self.building
        if self.floor > building.floors or self.unit_number > building.units_per_floor:
            raise InventoryError(
                gettext(
                    'lieye_sales_site.msg_room_outside_building',
                    room=self.code,
                    building=building.rec_name,
                    floors=building.floors,
                    units=building.units_per_floor,
                )
            )


class GenerateRoomsStart(ModelView):
    "Generate rooms"

    __name__ = 'lieye.building.generate_rooms.start'

    building = fields.Many2One('lieye.building', "Building", readonly=True)
    floor_from = fields.Integer(
        "From Floor", required=True, domain=[('floor_from', '>=', 1)]
    )
    floor_to = fields.Integer(
        "To Floor", required=True, domain=[('floor_to', '>=', Eval('floor_from', 1))]
    )
    skip_floors = fields.Char(
        "Skipped Floors",
        help="Floor numbers without rooms, separated by commas "
        "(for example refuge floors).",
    )
    floor_price_step = fields.Numeric(
        "Price Step per Floor (CNY/m²)",
        digits=(16, 2),
        required=True,
        help="Added to the base unit price for every floor above the first.",
    )

    @classmethod
    def default_floor_price_step(cls):
        return Decimal(0)


class GenerateRooms(Wizard):
    "Generate rooms"

    __name__ = 'lieye.building.generate_rooms'

    start = StateView(
        'lieye.building.generate_rooms.start',
        'lieye_sales_site.building_generate_rooms_start_view_form',
        [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'generate', 'tryton-ok', default=True),
        ],
    )
    generate = StateTransition()

    def default_start(self, fields):
        return {
            'building': self.record.id,
            'floor_from': 1,
            'floor_to': self.record.floors,
        }

    def skipped_floors(self):
        skipped = set()
        for part in (self.start.skip_floors or '').replace('，', ',').split(','):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise InventoryError(
                    gettext('lieye_sales_site.msg_skip_floors_invalid', value=part)
                )
            skipped.add(int(part))
        return skipped

    def transition_generate(self):
        pool = Pool()
        Room = pool.get('lieye.room')
        building = self.record
        if self.start.floor_to > building.floors:
            raise InventoryError(
                gettext(
                    'lieye_sales_site.msg_floor_out_of_range',
                    building=building.rec_name,
                    floors=building.floors,
                )
            )
        skipped = self.skipped_floors()
        existing = {
            (r.floor, r.unit_number)
            for r in Room.search(
                [
                    ('building', '=', building.id),
                ]
            )
        }
        patterns = {u.unit_number: u for u in building.units}
        to_create = []
        for floor in range(self.start.floor_from, self.start.floor_to + 1):
            if floor in skipped:
                continue
            for number in range(1, building.units_per_floor + 1):
                if (floor, number) in existing:
                    continue
                to_create.append(
                    self.room_values(building, floor, number, patterns.get(number))
                )
        Room.create(to_create)
        return 'end'

    def room_values(self, building, floor, number, pattern):
        values = {
            'building': building.id,
            'floor': floor,
            'unit_number': number,
            'code': room_code(building.code, floor, number),
        }
        if pattern:
            values.update(
                {
                    'unit_type': pattern.unit_type and pattern.unit_type.id,
                    'building_area': pattern.building_area,
                    'inner_area': pattern.inner_area,
                    'orientation': pattern.orientation,
                }
            )
            if pattern.base_unit_price is not None:
                price = (
                    pattern.base_unit_price
                    + (floor - self.start.floor_from) * self.start.floor_price_step
                )
                values['list_unit_price'] = price
                if pattern.building_area:
                    values['list_total'] = (price * pattern.building_area).quantize(
                        CENT
                    )
        return values

    def end(self):
        return 'reload'
