# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import hashlib
import json
from collections import defaultdict

from sql import Column, Literal, Null, Union
from sql.aggregate import Count, Min
from sql.operators import Exists
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.protocols.jsonrpc import JSONDecoder, JSONEncoder
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateTransition, StateView, Wizard

from .exceptions import MergeError, MergeLockedError, MergeUndoError
from .model import ValueTypeMixin, WorkflowStepMixin, lock_rows, step_fields

MATCHES = [
    ('phone', "Phone"),
    ('id_number', "ID Number"),
]
SCOPES = [
    ('project', "This Project"),
    ('other_projects', "Other Projects"),
]
KINDS = [
    ('merge', "Merge"),
    ('transfer', "Consultant Transfer"),
]
STATES = [
    ('draft', "Draft"),
    ('proposed', "Proposed"),
    ('done', "Approved and Done"),
    ('rejected', "Rejected"),
    ('undone', "Undone"),
]
DRAFT = {'readonly': Eval('state') != 'draft'}
# Set by the execution ('execute') and the undo ('undo') of an approved
# merge: a private context key, which no client can send.
MERGING = '_lieye_merging'
# Columns every record has, left out of the snapshot and the change check.
META_FIELDS = {'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}
# The records a merge moves from a group to the one kept, with the fields
# it changes on them.
MOVED = {
    'lieye.customer.person': ['customer'],
    'lieye.registration': ['customer', 'consultant'],
    'lieye.followup': ['customer'],
}


def merging(step):
    "Return the context of a step of a merge"
    return Transaction().set_context(**{MERGING: step})


def stored_fields(Model):
    "Return the names of the columns of Model a user can change"
    return sorted(
        name
        for name, field in Model._fields.items()
        if not isinstance(field, fields.Function)
        and field._type not in {'one2many', 'many2many'}
        and name not in META_FIELDS
    )


def dumps(value):
    return json.dumps(value, cls=JSONEncoder, sort_keys=True, separators=(',', ':'))


def read_values(Model, ids, names=None):
    "Return the values of ids by id, as stored, whatever the user may read"
    names = names or stored_fields(Model)
    # SQLite gives booleans as integers, which a write refuses.
    booleans = [n for n in names if Model._fields[n]._type == 'boolean']
    with without_check_access(), Transaction().set_context(active_test=False):
        existing = Model.search([('id', 'in', list(ids))], order=[])
        rows = Model.read([r.id for r in existing], names)
    for values in rows:
        for name in booleans:
            if values[name] is not None:
                values[name] = bool(values[name])
    return {values.pop('id'): values for values in rows}


def digests(Model, ids):
    "Return a fingerprint of the stored values of each of ids that exists"
    return {
        id_: hashlib.sha256(dumps(values).encode()).hexdigest()
        for id_, values in read_values(Model, ids).items()
    }


class Customer(metaclass=PoolMeta):
    __name__ = 'lieye.customer'

    # Computed, not stored: rows loaded in bulk outside the ORM are active
    # without a value of their own.
    active = fields.Function(
        fields.Boolean(
            "Active", help="Unchecked once the group is merged into another one."
        ),
        'get_active',
        searcher='search_active',
    )
    merged_into = fields.Many2One(
        'lieye.customer',
        "Merged Into",
        readonly=True,
        ondelete='RESTRICT',
        states={'invisible': ~Eval('merged_into')},
        help="The customer group that took over this group's persons, "
        "registrations and follow-ups.",
    )

    def get_active(self, name):
        return not self.merged_into

    @classmethod
    def search_active(cls, name, clause):
        _, operator, value = clause
        merged = (operator == '=') != bool(value)
        return [('merged_into', '!=' if merged else '=', None)]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.pop('merged_into', None)
        return values

    @classmethod
    def check_modification(cls, mode, customers, values=None, external=False):
        super().check_modification(mode, customers, values=values, external=external)
        if mode == 'write' and external and 'merged_into' in values:
            raise MergeLockedError(gettext('lieye_sales_site.msg_merge_path'))


class Person(metaclass=PoolMeta):
    __name__ = 'lieye.customer.person'

    @classmethod
    def check_modification(cls, mode, persons, values=None, external=False):
        # The identity of a person with submitted entries stays locked; a
        # merge only changes the group the person belongs to.
        if mode == 'write' and Transaction().context.get(MERGING):
            values = {k: v for k, v in values.items() if k != 'customer'}
        super().check_modification(mode, persons, values=values, external=external)

    @classmethod
    def check_duplicates(cls, persons):
        # A merge brings the duplicates together in one group (or, undone,
        # puts them back where they were) whatever other groups still hold.
        if not Transaction().context.get(MERGING):
            super().check_duplicates(persons)


class Registration(metaclass=PoolMeta):
    __name__ = 'lieye.registration'

    @classmethod
    def check_modification(cls, mode, registrations, values=None, external=False):
        # Submitted entries change only through change requests, except for
        # the customer group and its consultant when an approved merge moves
        # them; any other value stays locked.
        if mode == 'write' and Transaction().context.get(MERGING):
            values = {
                k: v
                for k, v in values.items()
                if k not in set(MOVED['lieye.registration'])
            }
        super().check_modification(
            mode, registrations, values=values, external=external
        )

    @classmethod
    def check_customers(cls, registrations):
        # The undo gives the entries back the consultant they had, who may
        # have lost the group before the merge.
        if Transaction().context.get(MERGING) != 'undo':
            super().check_customers(registrations)


class Assignment(metaclass=PoolMeta):
    __name__ = 'lieye.customer.assignment'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.append(('merge', "Merged into Another Group"))


class Duplicate(ModelSQL, ModelView):
    "Customer groups sharing a phone or ID number (重复客户)"

    __name__ = 'lieye.customer.duplicate'

    project = fields.Many2One('lieye.project', "Project", readonly=True)
    scope = fields.Selection(
        SCOPES,
        "Scope",
        readonly=True,
        sort=False,
        help="Duplicates in other projects are shown for information only.",
    )
    match = fields.Selection(MATCHES, "Matched On", readonly=True, sort=False)
    value = fields.Char("Number", readonly=True)
    customer_count = fields.Integer(
        "Groups", readonly=True, help="Customer groups of this project with the number."
    )
    customers = fields.Function(
        fields.Many2Many('lieye.customer', None, None, "Customer Groups"),
        'get_holders',
    )
    other_projects = fields.Function(
        fields.Char("Other Projects", help="Other projects knowing the number."),
        'get_holders',
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('value', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        """Return one row per project, kind of match and number shared by
        several customer groups of the project (scope 'project') or known in
        another project too (scope 'other_projects')

        The id is unique as each row has its own first person."""
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        queries = []
        for match_index, (match, _) in enumerate(MATCHES):
            for scope_index, (scope, _) in enumerate(SCOPES):
                person = Person.__table__()
                other = Person.__table__()
                number = Column(person, match)
                where = number != Null
                having = None
                if scope == 'project':
                    having = Count(person.customer, distinct=True) > 1
                else:
                    where &= Exists(
                        other.select(
                            other.id,
                            where=(Column(other, match) == number)
                            & (other.project != person.project),
                        )
                    )
                queries.append(
                    person.select(
                        (
                            Min(person.id) * (len(MATCHES) * len(SCOPES))
                            + (scope_index * len(MATCHES) + match_index)
                        ).as_('id'),
                        person.project.as_('project'),
                        Literal(scope).as_('scope'),
                        Literal(match).as_('match'),
                        number.as_('value'),
                        Count(person.customer, distinct=True).as_('customer_count'),
                        where=where,
                        group_by=[person.project, number],
                        having=having,
                    )
                )
        return Union(*queries, all_=True)

    @classmethod
    def get_holders(cls, duplicates, names):
        """Return the customer groups of each duplicate's project holding its
        number and the names of the other projects knowing it, read in one
        query per kind of match

        The other projects are named whatever the user may read: the
        duplicates there are shown for information."""
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        Project = pool.get('lieye.project')
        person = Person.__table__()
        cursor = Transaction().connection.cursor()
        customers = {d.id: [] for d in duplicates}
        projects = {d.id: set() for d in duplicates}
        for match, _ in MATCHES:
            rows = [d for d in duplicates if d.match == match]
            number = Column(person, match)
            found = defaultdict(list)
            for values in grouped_slice(
                list({d.value for d in rows}), backend.MAX_QUERY_PARAMS
            ):
                cursor.execute(
                    *person.select(
                        number,
                        person.project,
                        person.customer,
                        where=fields.SQL_OPERATORS['in'](number, list(values)),
                        order_by=[person.customer],
                    )
                )
                for value, project, customer in cursor:
                    found[value].append((project, customer))
            for duplicate in rows:
                for project, customer in found[duplicate.value]:
                    if project != duplicate.project.id:
                        projects[duplicate.id].add(project)
                    elif customer not in customers[duplicate.id]:
                        customers[duplicate.id].append(customer)
        with without_check_access():
            project_names = {
                p.id: p.rec_name
                for p in Project.browse(set().union(*projects.values()))
            }
        return {
            'customers': customers,
            'other_projects': {
                id_: '、'.join(sorted(project_names[p] for p in ids)) or None
                for id_, ids in projects.items()
            },
        }


class Merge(ValueTypeMixin, WorkflowStepMixin, Workflow, ModelSQL, ModelView):
    "Merge of customer groups or transfer of their consultant (合并/移交)"

    __name__ = 'lieye.customer.merge'
    _history = True
    _steps = {
        'proposed': ('proposed_by', 'proposed_at'),
        'done': ('decided_by', 'decided_at'),
        'rejected': ('decided_by', 'decided_at'),
        'undone': ('undone_by', 'undone_at'),
    }

    project = fields.Many2One(
        'lieye.project', "Project", required=True, ondelete='RESTRICT', states=DRAFT
    )
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False, states=DRAFT)
    kind_string = kind.translated('kind')
    consultant = fields.Many2One(
        'res.user',
        "New Consultant",
        ondelete='RESTRICT',
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('kind') == 'transfer',
            'invisible': Eval('kind') != 'transfer',
        },
        help="The consultant who takes over the customer groups.",
    )
    reason = fields.Text(
        "Reason",
        states=DRAFT,
        help="Why the groups are one customer, or why they change hands.",
    )
    lines = fields.One2Many(
        'lieye.customer.merge.line', 'merge', "Customer Groups", states=DRAFT
    )
    state = fields.Selection(STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    proposed_by, proposed_at = step_fields("Proposed")
    decided_by, decided_at = step_fields(
        "Decided", help="The sales manager who approved or rejected the batch."
    )
    decision_note = fields.Text(
        "Manager's Note",
        states={'readonly': ~Eval('state').in_(['proposed', 'done'])},
    )
    undone_by, undone_at = step_fields("Undone")
    snapshot = fields.Text(
        "Snapshot",
        readonly=True,
        help="What the merge changed and the values before, to undo it.",
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(
                t,
                (t.project, Index.Equality()),
                (t.state, Index.Equality(cardinality='low')),
            )
        )
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'proposed'),
            ('proposed', 'draft'),
            ('proposed', 'done'),
            ('proposed', 'rejected'),
            ('rejected', 'draft'),
            ('done', 'undone'),
        }
        cls._buttons.update(
            {
                'draft': {
                    'invisible': ~Eval('state').in_(['proposed', 'rejected']),
                    'icon': 'tryton-back',
                    'depends': ['state'],
                },
                'propose': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                },
                # Hidden by the form out of their state (view_attributes) but
                # never refused on it by the button itself: they lock the
                # batch first, so that the second of two managers is told
                # what the first did.
                'reject': {'icon': 'tryton-cancel', 'depends': ['state']},
                'approve': {'icon': 'tryton-ok', 'depends': ['state']},
                'undo': {'icon': 'tryton-undo', 'depends': ['state', 'kind']},
            }
        )

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            (
                '//group[@id="decision_buttons"]',
                'states',
                {'invisible': Eval('state') != 'proposed'},
            ),
            (
                '//group[@id="undo_buttons"]',
                'states',
                {'invisible': (Eval('state') != 'done') | (Eval('kind') != 'merge')},
            ),
        ]

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_kind(cls):
        return 'merge'

    @classmethod
    def default_project(cls):
        return Pool().get('lieye.registration').default_project()

    def get_rec_name(self, name):
        return f'{self.kind_string} #{self.id}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value, *_ = clause
        number = str(value or '').strip('%#')
        if operator in {'=', 'ilike', 'like'} and number.isdigit():
            return [('id', '=', int(number))]
        return [('project.rec_name',) + tuple(clause[1:])]

    @classmethod
    def workflow_fields(cls):
        return super().workflow_fields() | {'snapshot'}

    @classmethod
    def check_modification(cls, mode, merges, values=None, external=False):
        super().check_modification(mode, merges, values=values, external=external)
        if not external or mode == 'create':
            return
        if mode == 'write' and set(values) & cls.workflow_fields():
            raise MergeLockedError(gettext('lieye_sales_site.msg_merge_workflow'))
        # The manager notes a decision on the batch they decide.
        if (
            mode == 'write'
            and set(values) <= {'decision_note'}
            and all(m.state in {'proposed', 'done'} for m in merges)
        ):
            return
        for merge in merges:
            merge.check_draft()

    def check_draft(self):
        if self.state != 'draft':
            raise MergeLockedError(
                gettext('lieye_sales_site.msg_merge_read_only', merge=self.rec_name)
            )

    @classmethod
    def validate_fields(cls, merges, field_names):
        super().validate_fields(merges, field_names)
        if 'project' in field_names:
            pool = Pool()
            Line = pool.get('lieye.customer.merge.line')
            Line.check_projects([line for m in merges for line in m.lines])

    @classmethod
    def target_key(cls, customer):
        """Sort key of the group kept by a merge: one with a consultant, the
        first contacted, the first created"""
        return (
            customer.owner is None,
            customer.first_contact_date or customer.create_date.date(),
            customer.create_date,
            customer.id,
        )

    @classmethod
    def plan(cls, kind, clusters):
        """Return the lines of a batch of kind for clusters, sets of
        customer groups that are one customer: merged into the group of
        each kept by target_key, or all transferred"""
        pool = Pool()
        Line = pool.get('lieye.customer.merge.line')
        lines = []
        for cluster in clusters:
            if kind == 'transfer':
                kept, moved = None, cluster
            elif len(cluster) > 1:
                kept = min(cluster, key=cls.target_key)
                moved = cluster - {kept}
            else:
                continue
            lines.extend(
                Line(customer=c, target=kept)
                for c in sorted(moved, key=lambda c: c.code)
            )
        if not lines:
            raise MergeError(gettext('lieye_sales_site.msg_merge_need_two'))
        return lines

    def check_lines(self):
        "Refuse a batch that cannot be executed as its groups are now"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        if not self.lines:
            raise MergeError(
                gettext('lieye_sales_site.msg_merge_no_lines', merge=self.rec_name)
            )
        pool.get('lieye.customer.merge.line').check_projects(self.lines)
        kept = {line.target for line in self.lines if line.target}
        seen = set()
        for line in self.lines:
            for customer in filter(None, [line.customer, line.target]):
                if customer.merged_into:
                    raise MergeError(
                        gettext(
                            'lieye_sales_site.msg_merge_already_merged',
                            customer=customer.rec_name,
                            target=customer.merged_into.rec_name,
                        )
                    )
            if line.customer in seen:
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_merge_twice',
                        customer=line.customer.rec_name,
                    )
                )
            seen.add(line.customer)
            if self.kind == 'merge':
                line.check_merge(kept)
        if self.kind == 'transfer':
            (consultants,) = Customer.project_consultants([self.project]).values()
            if self.consultant not in consultants:
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_assign_consultant',
                        project=self.project.rec_name,
                    )
                )

    @classmethod
    def check_pending(cls, merges):
        "Refuse groups already in another batch waiting for approval"
        pool = Pool()
        Line = pool.get('lieye.customer.merge.line')
        customers = {
            c.id
            for m in merges
            for line in m.lines
            for c in [line.customer, line.target]
            if c
        }
        for sub_ids in grouped_slice(list(customers), backend.MAX_QUERY_PARAMS // 2):
            sub_ids = list(sub_ids)
            pending = Line.search(
                [
                    ('merge.state', '=', 'proposed'),
                    ('merge', 'not in', [m.id for m in merges]),
                    [
                        'OR',
                        ('customer', 'in', sub_ids),
                        ('target', 'in', sub_ids),
                    ],
                ],
                limit=1,
            )
            if pending:
                (line,) = pending
                customer = line.customer if line.customer.id in sub_ids else line.target
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_merge_pending',
                        customer=customer.rec_name,
                        merge=line.merge.rec_name,
                    )
                )

    @classmethod
    def lock_state(cls, merges, state):
        """Lock merges and refuse any not in state: of two managers deciding
        at once, the second waits for the first and is told what it did"""
        lock_rows(cls, merges)
        for merge in merges:
            if merge.state != state:
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_merge_state',
                        merge=merge.rec_name,
                        state=merge.state_string,
                    )
                )

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, merges):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('proposed')
    def propose(cls, merges):
        "The secretary proposes a batch to the sales manager (S6)"
        for merge in merges:
            if not (merge.reason or '').strip():
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_merge_reason_required',
                        merge=merge.rec_name,
                    )
                )
            merge.check_lines()
        cls.check_pending(merges)

    @classmethod
    @ModelView.button
    def reject(cls, merges):
        cls.lock_state(merges, 'proposed')
        cls.write(merges, {'state': 'rejected'})
        cls.log(merges, 'transition', 'state:rejected')

    @classmethod
    @ModelView.button
    def approve(cls, merges):
        "The sales manager approves a batch, which executes it (S6, B6)"
        cls.lock_state(merges, 'proposed')
        user = Transaction().user
        for merge in merges:
            if user and merge.proposed_by and merge.proposed_by.id == user:
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_merge_own_proposal',
                        merge=merge.rec_name,
                    )
                )
        for merge in merges:
            getattr(merge, f'execute_{merge.kind}')()
        cls.write(merges, {'state': 'done'})
        cls.log(merges, 'transition', 'state:done')

    @classmethod
    @ModelView.button
    def undo(cls, merges):
        "Put back exactly what approved merges changed (B6)"
        cls.lock_state(merges, 'done')
        for merge in merges:
            if merge.kind != 'merge':
                raise MergeError(
                    gettext(
                        'lieye_sales_site.msg_merge_undo_transfer',
                        merge=merge.rec_name,
                    )
                )
            merge.restore()
        cls.write(merges, {'state': 'undone'})
        cls.log(merges, 'transition', 'state:undone')

    def lock_customers(self):
        "Lock the groups of the batch and check them as they are now"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Line = pool.get('lieye.customer.merge.line')
        customers = {
            c for line in self.lines for c in [line.customer, line.target] if c
        }
        # The first of two batches with a common group wins; the second
        # waits, then finds the group merged.
        lock_rows(Customer, customers)
        self.check_lines()
        by_owner = defaultdict(list)
        for line in self.lines:
            by_owner[line.customer.owner].append(line)
        Line.write(
            *(
                x
                for owner, lines in by_owner.items()
                for x in (lines, {'previous_owner': owner.id if owner else None})
            )
        )
        return customers

    def execute_transfer(self):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        self.lock_customers()
        Customer.set_owners(
            [(line.customer, self.consultant) for line in self.lines],
            kind='transfer',
            reason=self.reason,
        )

    def execute_merge(self):
        """Move the persons, registrations and follow-ups of each group
        merged away to the group kept, deactivate the former, recompute the
        latter and keep what it takes to undo it all"""
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        customers = self.lock_customers()
        kept = {line.customer: line.target for line in self.lines}
        moved = {}
        for name in MOVED:
            with Transaction().set_context(active_test=False):
                moved[name] = pool.get(name).search(
                    [('customer', 'in', [c.id for c in kept])], order=[('id', 'ASC')]
                )
        before = {
            name: read_values(pool.get(name), [r.id for r in records], MOVED[name])
            for name, records in moved.items()
        }
        before[Customer.__name__] = read_values(Customer, [c.id for c in customers])

        with merging('execute'):
            for name, records in moved.items():
                by_target = defaultdict(list)
                for record in records:
                    by_target[kept[record.customer]].append(record)
                if by_target:
                    pool.get(name).write(
                        *(
                            x
                            for target, group in by_target.items()
                            for x in (group, self.moved_values(name, target))
                        )
                    )
            by_target = defaultdict(list)
            for customer, target in kept.items():
                by_target[target].append(customer)
            Customer.write(
                *(
                    x
                    for target, group in by_target.items()
                    for x in (group, {'merged_into': target.id})
                )
            )
            assignments = Assignment.create(
                [
                    {
                        'customer': customer.id,
                        'project': customer.project.id,
                        'kind': 'merge',
                        'from_owner': customer.owner and customer.owner.id,
                        'to_owner': target.owner.id,
                        'user': Transaction().user or None,
                        'reason': gettext(
                            'lieye_sales_site.msg_merge_assignment_reason',
                            target=target.rec_name,
                            merge=self.rec_name,
                        ),
                    }
                    for customer, target in kept.items()
                ]
            )
            targets = Customer.browse({t.id for t in kept.values()})
            Customer.update_stage(targets)
            Customer.update_pool_deadline(targets)

        after = {
            name: digests(pool.get(name), [r.id for r in records])
            for name, records in moved.items()
        }
        after[Customer.__name__] = digests(Customer, [c.id for c in customers])
        self.__class__.write(
            [self],
            {
                'snapshot': dumps(
                    {
                        'before': before,
                        'after': after,
                        'assignments': [a.id for a in assignments],
                    }
                )
            },
        )
        self.notify_merged(kept)

    @staticmethod
    def moved_values(name, target):
        "Return the values that move a record of model name to target"
        values = {'customer': target.id}
        if 'consultant' in MOVED[name]:
            # An entry's consultant is its customer group's.
            values['consultant'] = target.owner.id
        return values

    def notify_merged(self, kept):
        "Tell the consultants whose groups went into another's"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        actor = Transaction().user
        lost = defaultdict(list)
        for customer, target in kept.items():
            owner = customer.owner
            if owner and owner != target.owner and owner.id != actor:
                lost[owner].append(customer)
        for owner, customers in lost.items():
            Customer.notify_owner(
                owner,
                customers,
                'tryton-back',
                'lieye_sales_site.msg_notify_reassigned_label',
                'lieye_sales_site.msg_notify_reassigned',
                link=False,
            )

    def restore(self):
        """Put back the values the merge changed, refusing if any record it
        changed has changed since"""
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        snapshot = json.loads(self.snapshot, object_hook=JSONDecoder())
        before = {
            name: {int(id_): values for id_, values in records.items()}
            for name, records in snapshot['before'].items()
        }
        lock_rows(Customer, Customer.browse(before[Customer.__name__]))
        for name, expected in snapshot['after'].items():
            Model = pool.get(name)
            current = digests(Model, [int(i) for i in expected])
            for id_, digest in expected.items():
                if current.get(int(id_)) != digest:
                    names = Model.__names__(record=Model(int(id_)))
                    raise MergeUndoError(
                        gettext(
                            'lieye_sales_site.msg_merge_undo_changed',
                            merge=self.rec_name,
                            **names,
                        )
                    )
        with merging('undo'):
            for name in MOVED:
                self.write_back(pool.get(name), before[name])
            self.write_back(Customer, before[Customer.__name__])
            Assignment.delete(Assignment.browse(snapshot['assignments']))

    @staticmethod
    def write_back(Model, before):
        """Write the values of before on the records where they differ

        A write may recompute other values of its records (the follow-up
        date, the pool deadline): those are written once more, and the last
        round finds nothing left to write."""
        if not before:
            return
        names = list(next(iter(before.values())))
        for _ in range(3):
            current = read_values(Model, before, names)
            to_write = defaultdict(list)
            for id_, values in before.items():
                changed = {k: v for k, v in values.items() if current[id_][k] != v}
                if changed:
                    to_write[dumps(changed)].append(id_)
            if not to_write:
                return
            Model.write(
                *(
                    x
                    for changed, ids in to_write.items()
                    for x in (
                        Model.browse(ids),
                        json.loads(changed, object_hook=JSONDecoder()),
                    )
                )
            )


class MergeLine(ValueTypeMixin, ModelSQL, ModelView):
    "Customer group of a merge or transfer"

    __name__ = 'lieye.customer.merge.line'

    merge = fields.Many2One(
        'lieye.customer.merge', "Batch", required=True, ondelete='CASCADE'
    )
    customer = fields.Many2One(
        'lieye.customer',
        "Customer Group",
        required=True,
        ondelete='RESTRICT',
        help="The group merged into another, or whose consultant changes.",
    )
    customer_owner = fields.Function(
        fields.Many2One('res.user', "Consultant"), 'get_owner'
    )
    target = fields.Many2One(
        'lieye.customer',
        "Merged Into",
        ondelete='RESTRICT',
        states={
            'invisible': Eval('_parent_merge', {}).get('kind') == 'transfer',
            'required': Eval('_parent_merge', {}).get('kind') == 'merge',
        },
        help="The group kept: it takes over the persons, registrations and follow-ups.",
    )
    target_owner = fields.Function(
        fields.Many2One('res.user', "Consultant Kept"), 'get_owner'
    )
    previous_owner = fields.Many2One(
        'res.user',
        "Consultant Before",
        readonly=True,
        help="The group's consultant when the batch was executed.",
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('merge')
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(t, (Column(t, 'merge'), Index.Equality())),
                Index(t, (t.customer, Index.Equality())),
                Index(t, (t.target, Index.Equality())),
            }
        )

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('previous_owner')
        return super().copy(lines, default=default)

    def get_owner(self, name):
        customer = self.customer if name == 'customer_owner' else self.target
        return customer.owner.id if customer and customer.owner else None

    def get_rec_name(self, name):
        if self.target:
            return f'{self.customer.rec_name} → {self.target.rec_name}'
        return self.customer.rec_name

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(mode, lines, values=values, external=external)
        if not external:
            return
        if mode == 'write' and 'previous_owner' in values:
            raise MergeLockedError(gettext('lieye_sales_site.msg_merge_workflow'))
        for line in lines:
            line.merge.check_draft()

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names & {'customer', 'target', 'merge'}:
            cls.check_projects(lines)

    @classmethod
    def check_projects(cls, lines):
        "Refuse groups of another project than the batch's"
        for line in lines:
            for customer in filter(None, [line.customer, line.target]):
                if customer.project != line.merge.project:
                    raise MergeError(
                        gettext(
                            'lieye_sales_site.msg_merge_other_project',
                            customer=customer.rec_name,
                            project=line.merge.project.rec_name,
                        )
                    )

    def check_merge(self, kept):
        "Refuse a group merged into itself, into none or into a merged one"
        for message, refused in [
            ('msg_merge_target_required', not self.target),
            ('msg_merge_same', self.target == self.customer),
            ('msg_merge_chain', self.customer in kept),
        ]:
            if refused:
                raise MergeError(
                    gettext(
                        f'lieye_sales_site.{message}', customer=self.customer.rec_name
                    )
                )
        if not self.target.owner:
            raise MergeError(
                gettext(
                    'lieye_sales_site.msg_merge_target_no_owner',
                    customer=self.target.rec_name,
                )
            )


class MergeCreateStart(ModelView):
    "Merge or transfer customer groups"

    __name__ = 'lieye.customer.merge.create.start'

    project = fields.Many2One('lieye.project', "Project", readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    consultant = fields.Many2One(
        'res.user',
        "New Consultant",
        domain=[('id', 'in', Eval('consultants', []))],
        states={
            'required': Eval('kind') == 'transfer',
            'invisible': Eval('kind') != 'transfer',
        },
    )
    consultants = fields.Many2Many(
        'res.user', None, None, "Consultants of the Project", readonly=True
    )
    reason = fields.Text("Reason", required=True)
    customers = fields.Many2Many(
        'lieye.customer', None, None, "Customer Groups", readonly=True
    )

    @classmethod
    def default_kind(cls):
        return 'merge'


class MergeCreate(Wizard):
    "Merge or transfer customer groups (合并/移交客户组)"

    __name__ = 'lieye.customer.merge.create'

    start = StateView(
        'lieye.customer.merge.create.start',
        'lieye_sales_site.customer_merge_create_start_view_form',
        [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create", 'create_', 'tryton-ok', default=True),
        ],
    )
    create_ = StateTransition()
    open_ = StateAction('lieye_sales_site.act_customer_merge_form')

    def clusters(self):
        """Return the project and the sets of customer groups that are one
        customer: the groups of overlapping duplicates, or the selection"""
        if self.model.__name__ == 'lieye.customer.duplicate':
            if any(d.scope != 'project' for d in self.records):
                raise MergeError(gettext('lieye_sales_site.msg_merge_other_scope'))
            groups = [set(d.customers) for d in self.records]
        else:
            groups = [set(self.records)]
        projects = {c.project for group in groups for c in group}
        if len(projects) != 1:
            raise MergeError(gettext('lieye_sales_site.msg_merge_one_project'))
        clusters = []
        for group in groups:
            for cluster in [c for c in clusters if c & group]:
                group |= cluster
                clusters.remove(cluster)
            clusters.append(group)
        return projects.pop(), clusters

    def default_start(self, fields):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project, clusters = self.clusters()
        (consultants,) = Customer.project_consultants([project]).values()
        return {
            'project': project.id,
            'consultants': [u.id for u in consultants],
            'customers': sorted(c.id for cluster in clusters for c in cluster),
        }

    def transition_create_(self):
        pool = Pool()
        Merge = pool.get('lieye.customer.merge')
        project, clusters = self.clusters()
        kind = self.start.kind
        merge = Merge(
            project=project,
            kind=kind,
            consultant=self.start.consultant if kind == 'transfer' else None,
            reason=self.start.reason,
            lines=Merge.plan(kind, clusters),
        )
        merge.save()
        # What would stop the approval is said now, to the secretary.
        merge.check_lines()
        self.merge = merge
        return 'open_'

    def do_open_(self, action):
        action['res_id'] = [self.merge.id]
        action['views'].reverse()
        return action, {}
