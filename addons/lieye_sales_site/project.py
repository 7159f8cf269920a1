# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from sql.aggregate import Count
from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin,
    Index,
    ModelSQL,
    ModelView,
    Unique,
    Workflow,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool
from trytond.pyson import Eval, Id, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import TargetError
from .model import ValueTypeMixin, rec_name_domain

ROLES = [
    ('consultant', "Sales Consultant"),
    ('secretary', "Sales Secretary"),
    ('sales_manager', "Sales Manager"),
    ('project_manager', "Project Manager"),
    ('channel', "Channel Staff"),
]


class Project(ValueTypeMixin, Workflow, ModelSQL, ModelView):
    "Sales site (project)"

    __name__ = 'lieye.project'
    _history = True

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=False)
    developer = fields.Many2One('party.party', "Developer", ondelete='RESTRICT')
    address = fields.Char("Address")
    decoration_standard = fields.Selection(
        [
            (None, ""),
            ('shell', "Shell (毛坯)"),
            ('simple', "Simple Decoration"),
            ('fine', "Fine Decoration"),
            ('luxury', "Luxury Decoration"),
        ],
        "Decoration Standard",
    )
    decoration_note = fields.Text("Decoration Details")
    sales_start = fields.Date("Sales Start")
    state = fields.Selection(
        [
            ('preparing', "Preparing"),
            ('selling', "Selling"),
        ],
        "State",
        readonly=True,
        required=True,
        sort=False,
    )
    members = fields.One2Many('lieye.project.member', 'project', "Team")
    unit_types = fields.One2Many('lieye.unit_type', 'project', "Unit Types")
    buildings = fields.One2Many('lieye.building', 'project', "Buildings")
    targets = fields.One2Many('lieye.project.target', 'project', "Collection Targets")
    room_count = fields.Function(fields.Integer("Rooms"), 'get_room_count')
    customer_sequence = fields.Many2One(
        'ir.sequence',
        "Customer Sequence",
        readonly=True,
        ondelete='RESTRICT',
        domain=[
            ('sequence_type', '=', Id('lieye_sales_site', 'sequence_type_customer'))
        ],
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            (
                'code_unique',
                Unique(t, t.code),
                'lieye_sales_site.msg_project_code_unique',
            ),
        ]
        cls._order.insert(0, ('code', 'ASC'))
        cls._transitions |= {('preparing', 'selling')}
        cls._buttons.update(
            {
                'start_selling': {
                    'invisible': Eval('state') != 'preparing',
                    'depends': ['state'],
                },
                'copy_dictionaries': {},
            }
        )

    @classmethod
    def default_state(cls):
        return 'preparing'

    def get_rec_name(self, name):
        return f'[{self.code}] {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return rec_name_domain(clause, 'code', 'name')

    @classmethod
    def get_room_count(cls, projects, name):
        pool = Pool()
        Room = pool.get('lieye.room')
        room = Room.__table__()
        cursor = Transaction().connection.cursor()
        counts = dict.fromkeys((p.id for p in projects), 0)
        for sub_ids in grouped_slice(counts, backend.MAX_QUERY_PARAMS):
            cursor.execute(
                *room.select(
                    room.project,
                    Count(room.id),
                    where=fields.SQL_OPERATORS['in'](room.project, sub_ids),
                    group_by=[room.project],
                )
            )
            counts.update(cursor)
        return counts

    @classmethod
    def on_modification(cls, mode, projects, field_names=None):
        pool = Pool()
        Dictionary = pool.get('lieye.dictionary')
        super().on_modification(mode, projects, field_names=field_names)
        if mode == 'create':
            for project in projects:
                project.get_customer_sequence()
            # S1.4: each site starts with its own copy of the dictionaries.
            with without_check_access():
                Dictionary.copy_globals(projects)

    def get_customer_sequence(self):
        "Return the project's customer numbering, created on first use"
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        if not self.customer_sequence:
            with without_check_access():
                (sequence,) = Sequence.create(
                    [
                        {
                            'name': f'{self.code} 客户编号',
                            'sequence_type': ModelData.get_id(
                                'lieye_sales_site', 'sequence_type_customer'
                            ),
                            'prefix': f'{self.code}-',
                            'padding': 5,
                        }
                    ]
                )
                self.__class__.write([self], {'customer_sequence': sequence.id})
            self.customer_sequence = sequence
        return self.customer_sequence

    def next_customer_code(self):
        with without_check_access():
            return self.get_customer_sequence().get()

    @classmethod
    @ModelView.button
    @Workflow.transition('selling')
    def start_selling(cls, projects):
        pass

    @classmethod
    @ModelView.button_action('lieye_sales_site.wizard_copy_dictionaries')
    def copy_dictionaries(cls, projects):
        pass


class Member(ValueTypeMixin, DeactivableMixin, ModelSQL, ModelView):
    "Project team member"

    __name__ = 'lieye.project.member'
    _history = True

    project = fields.Many2One(
        'lieye.project', "Project", required=True, ondelete='CASCADE'
    )
    user = fields.Many2One('res.user', "User", required=True, ondelete='RESTRICT')
    role = fields.Selection(ROLES, "Role", required=True)
    role_string = role.translated('role')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')
        t = cls.__table__()
        cls._sql_constraints = [
            (
                'user_role_unique',
                Unique(t, t.project, t.user, t.role),
                'lieye_sales_site.msg_member_unique',
            ),
        ]
        cls._sql_indexes.add(Index(t, (t.user, Index.Equality())))

    def get_rec_name(self, name):
        return f'{self.user.rec_name} ({self.role_string})'

    @classmethod
    def on_modification(cls, mode, members, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, members, field_names=field_names)
        # Membership decides which projects a user may see (record rules).
        User._get_lieye_projects_cache.clear()
        pool.get('ir.rule')._domain_get_cache.clear()


class UnitType(
    ValueTypeMixin, DeactivableMixin, sequence_ordered(), ModelSQL, ModelView
):
    "Unit type (户型)"

    __name__ = 'lieye.unit_type'

    project = fields.Many2One(
        'lieye.project', "Project", required=True, ondelete='CASCADE'
    )
    name = fields.Char("Name", required=True)
    layout = fields.Char("Layout", help="For example 3室2厅2卫.")
    area_min = fields.Numeric(
        "Area From (m²)",
        digits=(16, 2),
        domain=[
            If(
                Eval('area_min') & Eval('area_max'),
                ('area_min', '<=', Eval('area_max')),
                (),
            )
        ],
    )
    area_max = fields.Numeric("Area To (m²)", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')
        t = cls.__table__()
        cls._sql_constraints = [
            (
                'name_unique',
                Unique(t, t.project, t.name),
                'lieye_sales_site.msg_unit_type_unique',
            ),
        ]

    def get_rec_name(self, name):
        if self.layout:
            return f'{self.name} ({self.layout})'
        return self.name


class Target(ValueTypeMixin, ModelSQL, ModelView):
    "Collection target (回款指标)"

    __name__ = 'lieye.project.target'
    _history = True

    project = fields.Many2One(
        'lieye.project', "Project", required=True, ondelete='CASCADE'
    )
    period_start = fields.Date("From", required=True)
    period_end = fields.Date(
        "To", required=True, domain=[('period_end', '>=', Eval('period_start', None))]
    )
    amount = fields.Numeric(
        "Amount (CNY)", digits=(16, 2), required=True, domain=[('amount', '>', 0)]
    )
    note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # No __access__ on project: it would let every project reader read
        # the targets, which are management figures (rule in project.xml).
        cls._order.insert(0, ('period_start', 'ASC'))

    @classmethod
    def validate(cls, targets):
        super().validate(targets)
        for target in targets:
            target.check_overlap()

    def check_overlap(self):
        overlapping = self.search(
            [
                ('project', '=', self.project.id),
                ('id', '!=', self.id),
                ('period_start', '<=', self.period_end),
                ('period_end', '>=', self.period_start),
            ],
            limit=1,
        )
        if overlapping:
            (other,) = overlapping
            raise TargetError(
                gettext(
                    'lieye_sales_site.msg_target_overlap',
                    project=self.project.rec_name,
                    other=f'{other.period_start} ~ {other.period_end}',
                )
            )
