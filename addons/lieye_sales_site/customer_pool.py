# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict
from itertools import cycle

from sql import Literal, Null
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import AssignmentError, ClaimError, OwnershipError
from .model import lock_rows
from .notification import notify, recipient_language

KINDS = [
    ('assign', "Assignment"),
    ('reassign', "Reassignment"),
    ('claim', "Claim from the Pool"),
    ('pool', "Moved to the Pool"),
    ('transfer', "Transfer"),
]
# Written only by the paths that log the change and tell the consultants.
OWNERSHIP_FIELDS = {
    'owner',
    'in_pool',
    'previous_owner',
    'assigned_date',
    'pool_deadline',
    'pool_warned',
}
# The fields the pool deadline is computed from.
DEADLINE_FIELDS = {
    'owner',
    'in_pool',
    'stage',
    'assigned_date',
    'last_followup_date',
    'last_entry_date',
    'first_contact_date',
}
# How many customers a notification names; it counts them all.
NAMED = 5


class Customer(metaclass=PoolMeta):
    __name__ = 'lieye.customer'

    in_pool = fields.Boolean(
        "In Public Pool",
        readonly=True,
        help="Any consultant of the project may claim the customer.",
    )
    pool_deadline = fields.Date(
        "Protected Until",
        readonly=True,
        help="Without contact by this day the customer goes to the public pool.",
    )
    pool_warned = fields.Boolean("Pool Warning Sent", readonly=True)
    assigned_date = fields.Date(
        "Assigned On", readonly=True, help="When the consultant got the customer."
    )
    previous_owner = fields.Many2One(
        'res.user',
        "Previous Consultant",
        readonly=True,
        ondelete='SET NULL',
        help="The consultant the customer went to the public pool from.",
    )
    assignments = fields.One2Many(
        'lieye.customer.assignment', 'customer', "Consultant History", readonly=True
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(
                    t,
                    (t.project, Index.Equality()),
                    where=t.in_pool == Literal(True),
                ),
                Index(
                    t,
                    (t.pool_deadline, Index.Range()),
                    where=(t.in_pool == Literal(False)) & (t.pool_deadline != Null),
                ),
            }
        )
        cls._buttons.update(
            {
                'claim': {
                    'invisible': ~Eval('in_pool', False),
                    'depends': ['in_pool'],
                },
            }
        )
        # The claim checks who may claim by itself: the check of the
        # button would answer a customer claimed a moment earlier by
        # someone else with a record rule error instead of saying so.
        cls.__rpc__['claim'] = RPC(readonly=False, instantiate=0, check_access=False)

    @classmethod
    def default_in_pool(cls):
        return False

    @classmethod
    def default_pool_warned(cls):
        return False

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Date = pool.get('ir.date')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # A new customer is its owner's from today, or unassigned.
            for name in OWNERSHIP_FIELDS - {'owner'}:
                values.pop(name, None)
            values.update(in_pool=False, pool_warned=False)
            # The owner default is applied after this method.
            values.setdefault('owner', cls.default_owner())
            if values.get('owner'):
                values['assigned_date'] = Date.today()
        return values

    @classmethod
    def check_modification(cls, mode, customers, values=None, external=False):
        super().check_modification(mode, customers, values=values, external=external)
        if mode == 'write' and external and set(values) & OWNERSHIP_FIELDS:
            raise OwnershipError(gettext('lieye_sales_site.msg_ownership_path'))

    @classmethod
    def on_modification(cls, mode, customers, field_names=None):
        super().on_modification(mode, customers, field_names=field_names)
        if mode == 'create' or (mode == 'write' and set(field_names) & DEADLINE_FIELDS):
            cls.update_pool_deadline(customers)

    @classmethod
    def update_pool_deadline(cls, customers):
        """Set the last day each customer stays with its consultant: its
        latest contact (follow-up, approved entry, assignment or first
        contact) plus the
        days its project's policy gives its stage (S8)

        Customers in the pool, unassigned or past the deal have none."""
        pool = Pool()
        Policy = pool.get('lieye.project.policy')
        customer = cls.__table__()
        cursor = Transaction().connection.cursor()
        rows = []
        for sub_ids in grouped_slice(
            [c.id for c in customers], backend.MAX_QUERY_PARAMS
        ):
            cursor.execute(
                *customer.select(
                    customer.id,
                    customer.project,
                    customer.stage,
                    customer.owner,
                    customer.in_pool,
                    customer.last_followup_date,
                    customer.last_entry_date,
                    customer.assigned_date,
                    customer.first_contact_date,
                    customer.create_date,
                    customer.pool_deadline,
                    where=fields.SQL_OPERATORS['in'](customer.id, sub_ids),
                )
            )
            rows.extend(cursor)
        policies = Policy.in_force({row[1] for row in rows})
        to_write = defaultdict(list)
        for (
            id_,
            project,
            stage,
            owner,
            in_pool,
            followed,
            entered,
            assigned,
            first_contact,
            created,
            deadline,
        ) in rows:
            new = None
            if owner and not in_pool:
                contacts = [
                    d for d in [followed, entered, assigned, first_contact] if d
                ]
                new = policies[project].deadline(
                    stage, bool(followed), max(contacts or [created.date()])
                )
            if new != deadline:
                to_write[new].append(id_)
        if to_write:
            with without_check_access():
                cls.write(
                    *(
                        x
                        for deadline, ids in to_write.items()
                        for x in (
                            cls.browse(ids),
                            {'pool_deadline': deadline, 'pool_warned': False},
                        )
                    )
                )

    def holder_message(self, owned, pool, unassigned, **variables):
        """Return the message that tells a user who is not the owner who
        holds the customer: its owner, the pool or no one yet"""
        if self.owner:
            return gettext(owned, owner=self.owner.rec_name, **variables)
        return gettext(pool if self.in_pool else unassigned, **variables)

    @classmethod
    def project_consultants(cls, projects, on_duty=False):
        "Return the consultants of each project, in the order they joined"
        pool = Pool()
        Member = pool.get('lieye.project.member')
        domain = [
            ('project', 'in', [p.id for p in projects]),
            ('role', '=', 'consultant'),
        ]
        if on_duty:
            domain.append(('on_duty', '=', True))
        consultants = {p: [] for p in projects}
        with without_check_access():
            for member in Member.search(domain, order=[('id', 'ASC')]):
                consultants[member.project].append(member.user)
        return consultants

    @classmethod
    def set_owners(cls, owners, kind=None, reason=None):
        """Give each customer of owners, a list of (customer, user or None),
        to its user, log it and tell the consultants

        Without a user the customer goes to the pool for the kind 'pool' and
        is unassigned otherwise. The kind is by default an assignment, or a
        reassignment for a customer that had an owner."""
        pool = Pool()
        Assignment = pool.get('lieye.customer.assignment')
        Date = pool.get('ir.date')
        today = Date.today()
        in_pool = kind == 'pool'
        actor = Transaction().user or None
        assignments, to_write = [], defaultdict(list)
        for customer, owner in owners:
            if customer.owner == owner and bool(customer.in_pool) == in_pool:
                continue
            assignments.append(
                Assignment(
                    customer=customer,
                    project=customer.project,
                    kind=kind or ('reassign' if customer.owner else 'assign'),
                    from_owner=customer.owner,
                    to_owner=owner,
                    user=actor,
                    reason=reason,
                )
            )
            previous = customer.owner if in_pool else None
            to_write[owner, previous].append(customer)
        if not assignments:
            return []
        with without_check_access():
            cls.write(
                *(
                    x
                    for (owner, previous), customers in to_write.items()
                    for x in (
                        customers,
                        {
                            'owner': owner.id if owner else None,
                            'in_pool': in_pool,
                            'previous_owner': previous.id if previous else None,
                            'assigned_date': today if owner else None,
                        },
                    )
                )
            )
            Assignment.save(assignments)
        cls.notify_assignments(assignments)
        return assignments

    @classmethod
    def assign(cls, customers, consultant, reason=None):
        "Give customers to consultant (S4)"
        return cls.set_owners([(c, consultant) for c in customers], reason=reason)

    @classmethod
    def assign_round_robin(cls, customers, consultants, reason=None):
        """Give customers in turn to consultants, going on after the last of
        them to get a customer of the project (S4)"""
        pool = Pool()
        Assignment = pool.get('lieye.customer.assignment')
        if not customers:
            return []
        (project,) = {c.project for c in customers}
        with without_check_access():
            last = Assignment.search(
                [
                    ('project', '=', project.id),
                    ('kind', 'in', ['assign', 'reassign']),
                    ('to_owner', 'in', [c.id for c in consultants]),
                ],
                order=[('date', 'DESC'), ('id', 'DESC')],
                limit=1,
            )
        start = consultants.index(last[0].to_owner) + 1 if last else 0
        turns = cycle(consultants[start:] + consultants[:start])
        owners = []
        for customer in customers:
            consultant = next(turns)
            if consultant == customer.owner and len(consultants) > 1:
                consultant = next(turns)
            owners.append((customer, consultant))
        return cls.set_owners(owners, reason=reason)

    @classmethod
    def move_to_pool(cls, customers, reason=None):
        "Put customers in the public pool of their project (S8)"
        return cls.set_owners(
            [(c, None) for c in customers], kind='pool', reason=reason
        )

    @classmethod
    @ModelView.button
    def claim(cls, customers):
        """Make the current user the owner of customers of the pool; of two
        consultants claiming one at the same time the first wins (S8)"""
        pool = Pool()
        User = pool.get('res.user')
        if not customers:
            return
        user = User(Transaction().user)
        # The first claim wins; the second is told who has the customer.
        lock_rows(cls, customers)
        customers = cls.browse(customers)
        consultants = cls.project_consultants({c.project for c in customers})
        for customer in customers:
            if user not in consultants[customer.project]:
                raise ClaimError(
                    gettext(
                        'lieye_sales_site.msg_claim_not_consultant',
                        project=customer.project.rec_name,
                    )
                )
            # The code only: the claimer may not read the customer any more.
            if not customer.in_pool:
                raise ClaimError(
                    customer.holder_message(
                        'lieye_sales_site.msg_claim_taken',
                        'lieye_sales_site.msg_claim_not_in_pool',
                        'lieye_sales_site.msg_claim_not_in_pool',
                        customer=customer.code,
                    )
                )
            # Letting a customer lapse must not renew its protection.
            if customer.previous_owner == user:
                raise ClaimError(
                    gettext(
                        'lieye_sales_site.msg_claim_own_lapse',
                        customer=customer.code,
                    )
                )
        cls.set_owners([(c, user) for c in customers], kind='claim')

    @classmethod
    def update_pool(cls, date=None):
        """Move the customers past their deadline to the public pool and
        warn the consultants of those close to it (S8, daily)"""
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        with without_check_access():
            overdue = cls.search(
                [
                    ('in_pool', '=', False),
                    ('owner', '!=', None),
                    ('pool_deadline', '<', date),
                ],
                order=[('id', 'ASC')],
            )
            cls.move_to_pool(
                overdue, reason=gettext('lieye_sales_site.msg_pool_reason_overdue')
            )
            cls.warn_pool(date)

    @classmethod
    def warn_pool(cls, date):
        """Warn once the owners of the customers whose deadline is within
        the warning days of their project's policy"""
        pool = Pool()
        Policy = pool.get('lieye.project.policy')
        horizon = max(
            [Policy.default_warning_days()]
            + [p.warning_days for p in Policy.search([('state', '=', 'approved')])]
        )
        candidates = cls.search(
            [
                ('in_pool', '=', False),
                ('owner', '!=', None),
                ('pool_warned', '=', False),
                ('pool_deadline', '>=', date),
                ('pool_deadline', '<=', date + dt.timedelta(days=horizon)),
            ],
            order=[('pool_deadline', 'ASC'), ('id', 'ASC')],
        )
        policies = Policy.in_force({c.project.id for c in candidates})
        due = [
            c
            for c in candidates
            if (c.pool_deadline - date).days <= policies[c.project.id].warning_days
        ]
        if not due:
            return
        cls.write(due, {'pool_warned': True})
        by_owner = defaultdict(list)
        for customer in due:
            by_owner[customer.owner].append(customer)
        for owner, customers in by_owner.items():
            cls.notify_owner(
                owner,
                customers,
                'tryton-notification',
                'lieye_sales_site.msg_notify_pool_warning_label',
                'lieye_sales_site.msg_notify_pool_warning',
                with_deadline=True,
            )

    @classmethod
    def notify_assignments(cls, assignments):
        """Tell the consultants who got customers and those who lost them,
        unless they made the change themselves"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Action = pool.get('ir.action')
        actor = Transaction().user
        got, lost, pooled = defaultdict(list), defaultdict(list), defaultdict(list)
        for assignment in assignments:
            if assignment.to_owner and assignment.to_owner.id != actor:
                got[assignment.to_owner].append(assignment.customer)
            if assignment.from_owner and assignment.from_owner.id != actor:
                lost_by = pooled if assignment.kind == 'pool' else lost
                lost_by[assignment.from_owner].append(assignment.customer)
        for user, customers in got.items():
            cls.notify_owner(
                user,
                customers,
                'tryton-forward',
                'lieye_sales_site.msg_notify_assigned_label',
                'lieye_sales_site.msg_notify_assigned',
            )
        for user, customers in lost.items():
            cls.notify_owner(
                user,
                customers,
                'tryton-back',
                'lieye_sales_site.msg_notify_reassigned_label',
                'lieye_sales_site.msg_notify_reassigned',
                link=False,
            )
        if pooled:
            # The former owner reads the customers in the pool only.
            pool_action = Action.get_action_id(
                ModelData.get_id('lieye_sales_site', 'act_customer_pool')
            )
        for user, customers in pooled.items():
            cls.notify_owner(
                user,
                customers,
                'tryton-public',
                'lieye_sales_site.msg_notify_pool_label',
                'lieye_sales_site.msg_notify_pool',
                link=False,
                action=pool_action,
            )

    @classmethod
    def notify_owner(
        cls,
        user,
        customers,
        icon,
        label,
        description,
        link=True,
        with_deadline=False,
        action=None,
    ):
        """Send user a notification naming customers, which it opens if
        link"""
        with recipient_language(user) as lang:
            names = [
                f'{c.rec_name} {lang.strftime(c.pool_deadline)}'
                if with_deadline
                else c.rec_name
                for c in customers[:NAMED]
            ]
            if len(customers) > NAMED:
                names.append('…')
            notify(
                user,
                icon,
                gettext(label),
                gettext(description, count=len(customers), customers='、'.join(names)),
                records=customers if link else (),
                action=action,
            )


class Member(metaclass=PoolMeta):
    __name__ = 'lieye.project.member'

    on_duty = fields.Boolean(
        "On Duty",
        states={'invisible': Eval('role') != 'consultant'},
        help="Takes part in the round-robin assignment of customers.",
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            {
                'start_duty': {
                    'invisible': (Eval('role') != 'consultant')
                    | Eval('on_duty', False),
                    'depends': ['role', 'on_duty'],
                },
                'end_duty': {
                    'invisible': (Eval('role') != 'consultant')
                    | ~Eval('on_duty', False),
                    'depends': ['role', 'on_duty'],
                },
            }
        )

    @classmethod
    def default_on_duty(cls):
        return True

    @classmethod
    @ModelView.button
    def start_duty(cls, members):
        cls.write(members, {'on_duty': True})

    @classmethod
    @ModelView.button
    def end_duty(cls, members):
        cls.write(members, {'on_duty': False})


class Assignment(ModelSQL, ModelView):
    "Change of a customer's consultant (归属变更)"

    __name__ = 'lieye.customer.assignment'

    customer = fields.Many2One(
        'lieye.customer', "Customer", required=True, readonly=True, ondelete='CASCADE'
    )
    project = fields.Many2One(
        'lieye.project', "Project", required=True, readonly=True, ondelete='CASCADE'
    )
    date = fields.Timestamp("Date", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True, sort=False)
    kind_string = kind.translated('kind')
    from_owner = fields.Many2One(
        'res.user', "From Consultant", readonly=True, ondelete='RESTRICT'
    )
    to_owner = fields.Many2One(
        'res.user', "To Consultant", readonly=True, ondelete='RESTRICT'
    )
    user = fields.Many2One(
        'res.user',
        "By",
        readonly=True,
        ondelete='RESTRICT',
        help="Empty when made by the daily update of the public pool.",
    )
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # S4: whoever reads the customer reads who held it.
        cls.__access__.add('customer')
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(t, (t.customer, Index.Equality()), (t.date, Index.Range())),
                Index(
                    t,
                    (t.project, Index.Equality()),
                    (t.kind, Index.Equality(cardinality='low')),
                    (t.date, Index.Range()),
                ),
            }
        )
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_date(cls):
        return dt.datetime.now()

    @classmethod
    def check_modification(cls, mode, assignments, values=None, external=False):
        super().check_modification(mode, assignments, values=values, external=external)
        # Whoever may change the customer may not rewrite who held it.
        if external:
            raise OwnershipError(gettext('lieye_sales_site.msg_assignment_read_only'))

    def get_rec_name(self, name):
        return f'{self.customer.rec_name} · {self.kind_string}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('customer.rec_name',) + tuple(clause[1:])]


class AssignStart(ModelView):
    "Assign customers"

    __name__ = 'lieye.customer.assign.start'

    project = fields.Many2One('lieye.project', "Project", readonly=True)
    method = fields.Selection(
        [
            ('consultant', "To a Consultant"),
            ('round_robin', "In Turn to the Consultants on Duty"),
            ('pool', "To the Public Pool"),
        ],
        "Method",
        required=True,
        sort=False,
    )
    consultant = fields.Many2One(
        'res.user',
        "Consultant",
        domain=[('id', 'in', Eval('consultants', []))],
        states={
            'required': Eval('method') == 'consultant',
            'invisible': Eval('method') != 'consultant',
        },
    )
    consultants = fields.Many2Many(
        'res.user', None, None, "Consultants of the Project", readonly=True
    )
    on_duty = fields.Many2Many(
        'res.user',
        None,
        None,
        "Consultants on Duty",
        readonly=True,
        states={'invisible': Eval('method') != 'round_robin'},
    )
    reason = fields.Char("Reason")
    customers = fields.Many2Many(
        'lieye.customer', None, None, "Customers", readonly=True
    )

    @classmethod
    def default_method(cls):
        return 'consultant'


class Assign(Wizard):
    "Assign customers to consultants (分配客户)"

    __name__ = 'lieye.customer.assign'

    start = StateView(
        'lieye.customer.assign.start',
        'lieye_sales_site.customer_assign_start_view_form',
        [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Assign", 'assign', 'tryton-ok', default=True),
        ],
    )
    assign = StateTransition()

    def get_project(self):
        "Return the project of the customers: one at a time"
        projects = {c.project for c in self.records}
        if len(projects) != 1:
            raise AssignmentError(gettext('lieye_sales_site.msg_assign_one_project'))
        return projects.pop()

    def default_start(self, fields):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project = self.get_project()
        (consultants,) = Customer.project_consultants([project]).values()
        (on_duty,) = Customer.project_consultants([project], on_duty=True).values()
        return {
            'project': project.id,
            'customers': [c.id for c in self.records],
            'consultants': [u.id for u in consultants],
            'on_duty': [u.id for u in on_duty],
        }

    def transition_assign(self):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project = self.get_project()
        customers = list(self.records)
        reason = self.start.reason
        if self.start.method == 'pool':
            Customer.move_to_pool(customers, reason=reason)
        elif self.start.method == 'round_robin':
            (on_duty,) = Customer.project_consultants([project], on_duty=True).values()
            if not on_duty:
                raise AssignmentError(
                    gettext(
                        'lieye_sales_site.msg_assign_nobody_on_duty',
                        project=project.rec_name,
                    )
                )
            Customer.assign_round_robin(customers, on_duty, reason=reason)
        else:
            consultant = self.start.consultant
            (consultants,) = Customer.project_consultants([project]).values()
            if consultant not in consultants:
                raise AssignmentError(
                    gettext(
                        'lieye_sales_site.msg_assign_consultant',
                        project=project.rec_name,
                    )
                )
            Customer.assign(customers, consultant, reason=reason)
        return 'end'
