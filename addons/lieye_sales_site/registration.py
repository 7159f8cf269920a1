# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql import Column, Null, Union
from sql.aggregate import Count, Max, Min
from sql.conditionals import Case, Coalesce
from sql.functions import Abs, Extract
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, check_access, without_check_access
from trytond.wizard import Button, StateAction, StateTransition, StateView, Wizard

from .customer import (
    CARD_CLASSES,
    GENDERS,
    INTENTS,
    STAGE_RANK,
    STAGES,
    normalize_phone,
)
from .dictionary import dictionary_field
from .exceptions import (
    AnswerError,
    PersonError,
    RegistrationLockedError,
    ReviewError,
    ReviewLogError,
    SubmissionError,
)
from .model import (
    ProjectLinkMixin,
    ProjectMany2One,
    ValueTypeMixin,
    WorkflowStepMixin,
    lock_rows,
    step_fields,
)
from .notification import notify, recipient_language

# Standard items of the paper registers (F1, F2) that block submission at each
# stage, on top of the required questions configured in the back office.
STAGE_REQUIRED = {
    'call': ['how_heard'],
    'walk_in': ['how_heard', 'residence_district', 'purpose'],
    'qualified': [
        'how_heard',
        'residence_district',
        'purpose',
        'area_need',
        'payment_method',
    ],
    'card_holder': [
        'how_heard',
        'residence_district',
        'purpose',
        'area_need',
        'payment_method',
        'card_class',
        'card_number',
    ],
    'subscribed': [
        'how_heard',
        'purpose',
        'payment_method',
        'room',
        'unit_price',
        'subscription_date',
    ],
    'signed': [
        'how_heard',
        'purpose',
        'payment_method',
        'room',
        'unit_price',
        'contract_date',
    ],
}
# A returned registration goes back to its consultant, who corrects it as a
# draft and submits it again.
EDITABLE_STATES = ['draft', 'returned']
LOCKED = ~Eval('state').in_(EDITABLE_STATES)
REVIEW_ACTIONS = [
    ('submitted', "Submitted"),
    ('approved', "Approved"),
    ('returned', "Returned"),
]
# Signs of inflated entries (B7) shown to the reviewers: more than
# BURST_ENTRIES entries by a consultant within the hour around an entry, and
# more than EDIT_LIMIT saved versions of an entry.
BURST_ENTRIES = 10
BURST_SECONDS = 30 * 60
EDIT_LIMIT = 10
# The F1 items two entries of a consultant share when one is a copy.
COPIED_ITEMS = [
    'residence_district',
    'work_district',
    'industry',
    'position',
    'purpose',
    'area_need',
    'payment_method',
    'concern_1',
    'main_concern',
    'how_heard',
    'grade',
]


def stage_at_least(stage):
    "PySON: the record's stage is stage or above"
    return Eval('stage', 'call').in_(
        [s for s, _ in STAGES if STAGE_RANK[s] >= STAGE_RANK[stage]]
    )


class Registration(
    ProjectLinkMixin, ValueTypeMixin, WorkflowStepMixin, Workflow, ModelSQL, ModelView
):
    "Registration (录入单)"

    __name__ = 'lieye.registration'
    _history = True
    _steps = {'submitted': ('submitted_by', 'submitted_at')}

    _draft = {'readonly': LOCKED}
    _deal = {
        'readonly': LOCKED,
        'invisible': ~stage_at_least('subscribed'),
    }
    _visit = {
        'readonly': LOCKED,
        'invisible': ~stage_at_least('walk_in'),
    }

    project = fields.Many2One(
        'lieye.project',
        "Project",
        required=True,
        ondelete='RESTRICT',
        states=_draft,
        domain=[('state', '=', 'selling')],
    )
    customer = ProjectMany2One(
        'lieye.customer',
        "Customer",
        required=True,
        ondelete='RESTRICT',
        states=_draft,
    )
    stage = fields.Selection(STAGES, "Stage", required=True, sort=False, states=_draft)
    stage_string = stage.translated('stage')
    card_class = fields.Selection(
        CARD_CLASSES,
        "Card Class",
        states={
            'readonly': LOCKED,
            'invisible': Eval('stage') != 'card_holder',
        },
    )
    grade = dictionary_field("Grade", 'grade', states=_draft)
    intent = fields.Selection(INTENTS, "Intent", states=_draft)
    consultant = fields.Many2One(
        'res.user', "Consultant", required=True, ondelete='RESTRICT', states=_draft
    )
    date = fields.Date("Date", required=True, states=_draft)
    state = fields.Selection(
        [
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('returned', "Returned"),
        ],
        "State",
        readonly=True,
        required=True,
        sort=False,
    )
    state_string = state.translated('state')
    submitted_by, submitted_at = step_fields("Submitted")
    reviews = fields.One2Many(
        'lieye.registration.review', 'registration', "Review Rounds", readonly=True
    )
    flags = fields.Function(
        fields.Text(
            "Warnings",
            help="Signs of an inflated entry, for the reviewer to check.",
        ),
        'get_flags',
    )
    flagged = fields.Function(
        fields.Boolean("Flagged", help="Waiting for review with warnings."),
        'get_flags',
        searcher='search_flagged',
    )
    return_reason = fields.Function(
        fields.Text(
            "Reason for Return",
            states={'invisible': Eval('state') != 'returned'},
        ),
        'get_return_reason',
    )
    persons = fields.Function(
        fields.One2Many(
            'lieye.customer.person',
            None,
            "Persons",
            states={'readonly': LOCKED},
            context={'lieye_project': Eval('project', -1)},
            depends=['project'],
            help="The persons of the customer group.",
        ),
        'get_persons',
        setter='set_persons',
    )

    # F1 — visitor register (来访登记): the customer's main person, as the
    # paper form has them at its top.
    customer_code = fields.Function(fields.Char("Customer No."), 'get_main_person')
    person_name = fields.Function(fields.Char("Name"), 'get_main_person')
    person_gender = fields.Function(
        fields.Selection(GENDERS, "Gender"), 'get_main_person'
    )
    person_age_band = fields.Function(
        fields.Many2One('lieye.dictionary', "Age Band"), 'get_main_person'
    )
    person_phone = fields.Function(fields.Char("Phone"), 'get_main_person')
    residence_district = dictionary_field(
        "Residence District", 'district', states=_visit
    )
    residence_place = fields.Char("Residence Place", states=_visit)
    work_district = dictionary_field("Work District", 'district', states=_visit)
    work_place = fields.Char("Work Place", states=_visit)
    industry = dictionary_field("Industry", 'industry', states=_visit)
    position = dictionary_field("Position", 'position', states=_visit)
    purchase_count = dictionary_field("Home Purchases", 'purchase_count', states=_visit)
    purpose = dictionary_field("Purchase Purpose", 'purpose', states=_visit)
    purpose_quote = fields.Char("Purpose in Their Words", states=_visit)
    area_need = dictionary_field("Required Area", 'area_need', states=_visit)
    intended_building = ProjectMany2One(
        'lieye.building',
        "Intended Building",
        states=_visit,
    )
    intended_floor = fields.Char("Intended Floor", states=_visit)
    intended_unit_price = fields.Numeric(
        "Intended Unit Price (CNY/m²)",
        digits=(16, 0),
        states=_visit,
        domain=[
            'OR',
            ('intended_unit_price', '=', None),
            ('intended_unit_price', '>', 0),
        ],
    )
    payment_method = dictionary_field("Payment Method", 'payment_method', states=_visit)
    concern_1 = dictionary_field("Concern 1", 'concern_factor', states=_visit)
    concern_2 = dictionary_field("Concern 2", 'concern_factor', states=_visit)
    concern_3 = dictionary_field("Concern 3", 'concern_factor', states=_visit)
    main_concern = dictionary_field("Main Concern", 'concern_factor', states=_visit)
    valued_1 = dictionary_field(
        "Project Factor Valued 1", 'concern_factor', states=_visit
    )
    valued_2 = dictionary_field(
        "Project Factor Valued 2", 'concern_factor', states=_visit
    )
    valued_3 = dictionary_field(
        "Project Factor Valued 3", 'concern_factor', states=_visit
    )
    recommended_1 = ProjectMany2One(
        'lieye.room',
        "Recommended Room 1",
        states=_visit,
    )
    recommended_2 = ProjectMany2One(
        'lieye.room',
        "Recommended Room 2",
        states=_visit,
    )
    recommended_3 = ProjectMany2One(
        'lieye.room',
        "Recommended Room 3",
        states=_visit,
    )
    how_heard = dictionary_field("How They Heard", 'how_heard', states=_draft)
    from_call = fields.Boolean("Converted from Call", states=_visit)
    from_exhibition = fields.Boolean("From Outdoor Exhibition", states=_visit)
    from_roadshow = fields.Boolean("From Roadshow", states=_visit)
    outer_channel_work = fields.Char("Outer-channel Work", states=_visit)
    consultant_suggestion = fields.Text("Consultant's Suggestion", states=_draft)
    remarks = fields.Text("Remarks", states=_draft)

    # Card holders (办卡客户)
    card_number = fields.Char(
        "Card Number",
        states={
            'readonly': LOCKED,
            'invisible': ~stage_at_least('card_holder'),
        },
    )

    # F2 — deal register (成交登记)
    subscription_date = fields.Date(
        "Subscription Date",
        states={
            'readonly': LOCKED,
            'invisible': Eval('stage') != 'subscribed',
        },
    )
    contract_date = fields.Date(
        "Contract Date",
        states={
            'readonly': LOCKED,
            'invisible': Eval('stage') != 'signed',
        },
    )
    room = ProjectMany2One(
        'lieye.room',
        "Room",
        states=_deal,
    )
    area = fields.Numeric(
        "Area (m²)",
        digits=(16, 2),
        states=_deal,
        domain=['OR', ('area', '=', None), ('area', '>', 0)],
    )
    unit_price = fields.Numeric(
        "Unit Price (CNY/m²)",
        digits=(16, 2),
        states=_deal,
        domain=['OR', ('unit_price', '=', None), ('unit_price', '>', 0)],
    )
    household_income = dictionary_field(
        "Household Monthly Income", 'household_income', states=_deal
    )
    family_structure = dictionary_field(
        "Family Structure", 'family_structure', states=_deal
    )
    children_ages = fields.Char("Children's Ages", states=_deal)
    decision_maker = fields.Char("Purchase Decision-maker", states=_deal)
    hobbies = fields.Char("Hobbies", states=_deal)
    buy_reason_1 = dictionary_field(
        "Reason for Buying 1", 'concern_factor', states=_deal
    )
    buy_reason_2 = dictionary_field(
        "Reason for Buying 2", 'concern_factor', states=_deal
    )
    buy_reason_3 = dictionary_field(
        "Reason for Buying 3", 'concern_factor', states=_deal
    )
    main_reason = dictionary_field(
        "Most Important Reason", 'concern_factor', states=_deal
    )

    # Only given answers are stored; the form shows every question of the
    # entry page (project, stage, grade, intent), answered or not.
    answer_data = fields.Dict('lieye.question', "Stored Answers", readonly=True)
    answers = fields.Function(
        fields.Dict(
            'lieye.question',
            "Questionnaire",
            states=_draft,
            context={'lieye_project': Eval('project', -1)},
            depends=['project'],
        ),
        'get_answers',
        setter='set_answers',
    )

    del _draft, _deal, _visit

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(
                    t,
                    (t.project, Index.Equality()),
                    (t.consultant, Index.Equality()),
                    (t.date, Index.Range()),
                ),
                Index(t, (t.customer, Index.Equality())),
                Index(
                    t,
                    (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'submitted',
                ),
                # The warnings compare an entry with the consultant's others.
                Index(
                    t, (t.consultant, Index.Equality()), (t.create_date, Index.Range())
                ),
            }
        )
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('returned', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'returned'),
        }
        cls._buttons.update(
            {
                'submit': {
                    'invisible': LOCKED,
                    'depends': ['state'],
                },
                # Hidden by the form out of the review state (view_attributes)
                # but never refused on it by the button itself: the review
                # refuses a registration no longer submitted with its own
                # message, once the row is locked.
                'approve': {'depends': ['state']},
                'return_': {'depends': ['state']},
            }
        )

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            (
                '//group[@id="review_buttons"]',
                'states',
                {'invisible': Eval('state') != 'submitted'},
            ),
        ]

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        # Answers were stored in the column of the questionnaire field.
        if table_h.column_exist('answers') and not table_h.column_exist('answer_data'):
            table_h.column_rename('answers', 'answer_data')
        super().__register__(module)

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_consultant(cls):
        return Transaction().user or None

    @classmethod
    def default_date(cls):
        return dt.date.today()

    @classmethod
    def default_stage(cls):
        return Transaction().context.get('lieye_stage', 'call')

    @classmethod
    def default_project(cls):
        pool = Pool()
        User = pool.get('res.user')
        projects = User.get_lieye_projects()
        if len(projects) == 1:
            return projects[0]

    @classmethod
    def copy(cls, registrations, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('reviews', None)
        return super().copy(registrations, default=default)

    def get_rec_name(self, name):
        return f'{self.customer.rec_name} · {self.stage_string} · {self.date}'

    @classmethod
    def get_main_person(cls, registrations, names):
        """Return the customer number and the main person's name, gender,
        age band and phone, read for a whole page in one query"""
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Person = pool.get('lieye.customer.person')
        registration = cls.__table__()
        customer = Customer.__table__()
        person = Person.__table__()
        cursor = Transaction().connection.cursor()
        result = {name: dict.fromkeys(map(int, registrations)) for name in names}
        found = set()
        for sub_ids in grouped_slice(
            list(map(int, registrations)), backend.MAX_QUERY_PARAMS
        ):
            cursor.execute(
                *registration.join(
                    customer, condition=registration.customer == customer.id
                )
                .join(person, 'LEFT', condition=person.customer == customer.id)
                .select(
                    registration.id,
                    customer.code,
                    person.relation,
                    person.name,
                    person.name_declined,
                    person.gender,
                    person.age_band,
                    person.phone,
                    where=fields.SQL_OPERATORS['in'](registration.id, sub_ids),
                    # The main contact, or else the first person, comes first.
                    order_by=[
                        registration.id,
                        Case((person.relation == 'self', 0), else_=1),
                        person.sequence.asc.nulls_first,
                        person.id,
                    ],
                )
            )
            for id_, code, _, name, declined, gender, age_band, phone in cursor:
                if id_ in found:
                    continue
                found.add(id_)
                if not name and declined:
                    name = gettext('lieye_sales_site.msg_person_no_name')
                values = {
                    'customer_code': code,
                    'person_name': name,
                    'person_gender': gender,
                    'person_age_band': age_band,
                    'person_phone': phone,
                }
                for field_name in names:
                    result[field_name][id_] = values[field_name]
        return result

    @classmethod
    def get_return_reason(cls, registrations, name):
        "Return the reason of the last return of the returned registrations"
        pool = Pool()
        Review = pool.get('lieye.registration.review')
        review = Review.__table__()
        cursor = Transaction().connection.cursor()
        reasons = dict.fromkeys(map(int, registrations))
        returned = [r.id for r in registrations if r.state == 'returned']
        for sub_ids in grouped_slice(returned, backend.MAX_QUERY_PARAMS):
            cursor.execute(
                *review.select(
                    review.registration,
                    review.reason,
                    where=fields.SQL_OPERATORS['in'](review.registration, sub_ids)
                    & (review.action == 'returned'),
                    order_by=[review.registration, review.date, review.id],
                )
            )
            reasons.update(cursor)
        return reasons

    @classmethod
    def flag_queries(cls, ids=None):
        """Return, per kind of warning (B7), a query of the ids of the
        registrations waiting for review (of ids if given) with the figure
        the warning quotes"""
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Person = pool.get('lieye.customer.person')
        Policy = pool.get('lieye.project.policy')
        Review = pool.get('lieye.registration.review')
        registration = cls.__table__()
        other = cls.__table__()
        person = Person.__table__()
        holder = Person.__table__()
        customer = Customer.__table__()
        history = cls.__table_history__()
        where = registration.state == 'submitted'
        if ids is not None:
            where &= fields.SQL_OPERATORS['in'](registration.id, ids)

        # The same phone among the customers of several consultants, in any
        # project.
        phones = registration.join(
            person, condition=person.customer == registration.customer
        ).select(person.phone, where=where & (person.phone != Null))
        shared = holder.join(customer, condition=holder.customer == customer.id).select(
            holder.phone.as_('phone'),
            Count(customer.owner, distinct=True).as_('owners'),
            where=holder.phone.in_(phones),
            group_by=[holder.phone],
            having=Count(customer.owner, distinct=True) > 1,
        )
        shared_phone = (
            registration.join(
                person, condition=person.customer == registration.customer
            )
            .join(shared, condition=shared.phone == person.phone)
            .select(
                registration.id.as_('id'),
                (Max(shared.owners) - 1).as_('figure'),
                where=where,
                group_by=[registration.id],
            )
        )

        if backend.name == 'postgresql':
            # A range the index on (consultant, create_date) answers.
            window = dt.timedelta(seconds=BURST_SECONDS)
            near = (other.create_date >= registration.create_date - window) & (
                other.create_date <= registration.create_date + window
            )
        else:
            # SQLite stores timestamps as text.
            near = (
                Abs(
                    Extract('EPOCH', other.create_date)
                    - Extract('EPOCH', registration.create_date)
                )
                <= BURST_SECONDS
            )
        burst = registration.join(
            other, condition=(other.consultant == registration.consultant) & near
        ).select(
            registration.id.as_('id'),
            Count(other.id).as_('figure'),
            where=where,
            group_by=[registration.id],
            having=Count(other.id) > BURST_ENTRIES,
        )

        copied = (
            # The project's (project, consultant, date) index finds them.
            (other.project == registration.project)
            & (other.consultant == registration.consultant)
            & (other.date == registration.date)
            & (other.customer != registration.customer)
            & (other.stage == registration.stage)
        )
        for name in ['answer_data', *COPIED_ITEMS]:
            mine, theirs = Column(registration, name), Column(other, name)
            copied &= (theirs == mine) | ((theirs == Null) & (mine == Null))
        same_answers = registration.join(other, condition=copied).select(
            registration.id.as_('id'),
            Count(other.id).as_('figure'),
            where=where,
            group_by=[registration.id],
        )

        edits = registration.join(
            history, condition=history.id == registration.id
        ).select(
            registration.id.as_('id'),
            Count(history.id).as_('figure'),
            where=where,
            group_by=[registration.id],
            having=Count(history.id) > EDIT_LIMIT,
        )
        # Submitted when the customer was about to go to the public pool:
        # within the warning days of the project's policy, or on its last day.
        review = Review.__table__()
        policy = Policy.__table__()
        margin = Coalesce(policy.warning_days, Policy.default_warning_days())
        margin = Case((margin < 1, 1), else_=margin)
        protection = (
            registration.join(
                review,
                condition=(review.registration == registration.id)
                & (review.action == 'submitted'),
            )
            .join(
                policy,
                'LEFT',
                condition=(policy.project == registration.project)
                & (policy.state == 'approved'),
            )
            .select(
                registration.id.as_('id'),
                Min(review.protection_days).as_('figure'),
                where=where & (review.protection_days <= margin),
                group_by=[registration.id],
            )
        )
        return {
            'msg_flag_shared_phone': shared_phone,
            'msg_flag_burst': burst,
            'msg_flag_same_answers': same_answers,
            'msg_flag_edits': edits,
            'msg_flag_protection': protection,
        }

    @classmethod
    def get_flags(cls, registrations, names):
        "Return the warnings of the registrations waiting for review"
        cursor = Transaction().connection.cursor()
        warnings = defaultdict(list)
        submitted = [r.id for r in registrations if r.state == 'submitted']
        for sub_ids in grouped_slice(submitted, backend.MAX_QUERY_PARAMS):
            for message, query in cls.flag_queries(sub_ids).items():
                cursor.execute(*query)
                for id_, figure in cursor:
                    warnings[id_].append(
                        gettext(f'lieye_sales_site.{message}', figure=figure)
                    )
        result = {}
        if 'flags' in names:
            result['flags'] = {
                r.id: '\n'.join(warnings[r.id]) or None for r in registrations
            }
        if 'flagged' in names:
            result['flagged'] = {r.id: bool(warnings[r.id]) for r in registrations}
        return result

    @classmethod
    def search_flagged(cls, name, clause):
        pool = Pool()
        Rule = pool.get('ir.rule')
        _, operator, value = clause
        # The warnings of the waiting entries the user may read only, so that
        # a reviewer's queue does not compute those of every site. Searchers
        # run without access checks, so the user's record rules are applied
        # here.
        waiting = [('state', '=', 'submitted')]
        with Transaction().set_context(_check_access=True):
            rule_domain = Rule.domain_get(cls.__name__, mode='read')
        if rule_domain:
            waiting.append(rule_domain)
        flagged = Union(
            *cls.flag_queries(cls.search(waiting, order=[], query=True)).values()
        )
        query = flagged.select(flagged.id)
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    def get_persons(self, name):
        return [p.id for p in self.customer.persons] if self.customer else []

    @classmethod
    def set_persons(cls, registrations, name, value):
        "Apply the edits of the identity page to the customer's persons"
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        for registration in registrations:
            customer = registration.customer.id
            for action, *args in value:
                if action == 'create':
                    Person.create([dict(v, customer=customer) for v in args[0]])
                elif action == 'write':
                    actions = iter(args)
                    for ids, values in zip(actions, actions):
                        Person.write(cls._own_persons(customer, ids), values)
                elif action == 'delete':
                    Person.delete(cls._own_persons(customer, args[0]))

    @classmethod
    def _own_persons(cls, customer, ids):
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        return Person.search([('id', 'in', ids), ('customer', '=', customer)])

    @fields.depends(
        'customer',
        '_parent_customer.owner',
        '_parent_customer.grade',
        '_parent_customer.intent',
        '_parent_customer.how_heard',
        'grade',
        'intent',
        'how_heard',
    )
    def on_change_customer(self):
        if self.customer:
            self.consultant = self.customer.owner
            self.grade = self.grade or self.customer.grade
            self.intent = self.intent or self.customer.intent
            self.how_heard = self.how_heard or self.customer.how_heard

    @fields.depends(
        'room', '_parent_room.building_area', '_parent_room.list_unit_price'
    )
    def on_change_room(self):
        if self.room:
            self.area = self.room.building_area
            self.unit_price = self.room.list_unit_price

    def with_questions(self, answers):
        "Return answers with every question of this entry page as a key"
        pool = Pool()
        Question = pool.get('lieye.question')
        answers = dict(answers or {})
        if self.project and self.stage:
            for question in Question.applicable(
                self.project, self.stage, self.grade, self.intent
            ):
                answers.setdefault(question.name, None)
        return answers

    def get_answers(self, name):
        if self.state in EDITABLE_STATES:
            return self.with_questions(self.answer_data)
        return dict(self.answer_data or {})

    @classmethod
    def set_answers(cls, registrations, name, value):
        # The field needs a setter to be editable, but preprocess_values
        # already stores the answers with the other values.
        cls.write(registrations, {'answer_data': cls.stored_answers(value)})

    @classmethod
    def stored_answers(cls, answers):
        "Return the given answers only"
        pool = Pool()
        Question = pool.get('lieye.question')
        return {k: v for k, v in (answers or {}).items() if not Question.is_empty(v)}

    @fields.depends(
        'project', 'stage', 'grade', 'intent', 'answers', methods=['on_change_customer']
    )
    def on_change_with_answers(self):
        "Show every question of this entry page, keeping given answers"
        return self.with_questions(self.answers)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        # Stored with the other values, not by a second write (and history
        # row) through the setter.
        if 'answers' in values:
            values['answer_data'] = cls.stored_answers(values.pop('answers'))
        return values

    @classmethod
    def check_modification(cls, mode, registrations, values=None, external=False):
        super().check_modification(
            mode, registrations, values=values, external=external
        )
        if mode == 'write' and Transaction().context.get('_change_request'):
            # The values of a change request (change_request.py); clients
            # cannot set this key, the server drops theirs starting with "_".
            return
        # S2.7: submitted entries change only through change requests; a
        # returned one is corrected by its consultant, and its review rounds
        # stay with it.
        if mode == 'delete' or (
            mode == 'write' and set(values or {}) - cls.workflow_fields()
        ):
            for registration in registrations:
                if registration.state not in EDITABLE_STATES:
                    raise RegistrationLockedError(
                        gettext(
                            'lieye_sales_site.msg_registration_locked',
                            registration=registration.rec_name,
                        )
                    )
                if registration.state != 'returned':
                    continue
                if mode == 'delete':
                    raise RegistrationLockedError(
                        gettext(
                            'lieye_sales_site.msg_registration_reviewed_delete',
                            registration=registration.rec_name,
                        )
                    )
                if external:
                    registration.check_corrector()

    def check_corrector(self):
        "Refuse anyone but the consultant correcting a returned registration"
        # S9: reviewers never edit an entry, they return it.
        if Transaction().user not in {0, self.consultant.id}:
            raise RegistrationLockedError(
                gettext(
                    'lieye_sales_site.msg_registration_returned_owner',
                    registration=self.rec_name,
                    consultant=self.consultant.rec_name,
                )
            )

    @classmethod
    def validate_fields(cls, registrations, field_names):
        # First, so that a customer of another project gets this message
        # rather than the generic one of the project links.
        # Only when the link changes: a customer reassigned or gone to the
        # pool keeps the registrations made by its earlier consultant.
        if field_names & {'customer', 'consultant', 'project'}:
            cls.check_customers(registrations)
        super().validate_fields(registrations, field_names)
        # Writes list the values as given: the answers, not answer_data.
        if field_names & {'answers', 'answer_data'}:
            for registration in registrations:
                registration.check_answers()

    @classmethod
    def check_customers(cls, registrations):
        """Refuse a customer of another project or owned by another
        consultant, read in one query instead of loading the records"""
        pool = Pool()
        Customer = pool.get('lieye.customer')
        registration = cls.__table__()
        customer = Customer.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(
            *registration.join(
                customer, condition=registration.customer == customer.id
            ).select(
                registration.id,
                registration.project != customer.project,
                # A customer without a consultant (in the pool or awaiting
                # assignment) is claimed or assigned before an entry.
                (customer.owner == Null) | (registration.consultant != customer.owner),
                where=fields.SQL_OPERATORS['in'](
                    registration.id, [r.id for r in registrations]
                ),
            )
        )
        for registration_id, other_project, other_owner in cursor.fetchall():
            if other_project:
                raise SubmissionError(
                    gettext(
                        'lieye_sales_site.msg_registration_customer_project',
                        customer=cls(registration_id).customer.rec_name,
                    )
                )
            if other_owner:
                customer = cls(registration_id).customer
                if not customer.owner:
                    raise SubmissionError(
                        gettext(
                            'lieye_sales_site.msg_registration_customer_unowned',
                            customer=customer.rec_name,
                        )
                    )
                raise SubmissionError(
                    gettext(
                        'lieye_sales_site.msg_registration_consultant_owner',
                        customer=customer.rec_name,
                        owner=customer.owner.rec_name,
                    )
                )

    def check_answers(self):
        "Refuse unknown questions and answers of the wrong type"
        pool = Pool()
        Question = pool.get('lieye.question')
        definitions = Question.definitions(self.project)
        for key, value in (self.answer_data or {}).items():
            if key not in definitions:
                raise AnswerError(
                    gettext('lieye_sales_site.msg_answer_unknown', key=key)
                )
            Question.check_value(definitions[key], value)

    def missing_items(self):
        "Return the labels of the required items still empty"
        pool = Pool()
        Question = pool.get('lieye.question')
        missing = []
        persons = self.customer.persons
        main = [p for p in persons if p.relation == 'self'] or persons[:1]
        if not main:
            missing.append(gettext('lieye_sales_site.msg_missing_person'))
        for person in main:
            if not person.name and not person.name_declined:
                missing.append(gettext('lieye_sales_site.msg_missing_name'))
            if not person.phone and not person.phone_declined:
                missing.append(gettext('lieye_sales_site.msg_missing_phone'))
        empty = [
            name
            for name in STAGE_REQUIRED[self.stage]
            if getattr(self, name) in (None, '')
        ]
        if empty:
            fields_ = self.fields_get(empty)
            missing.extend(fields_[name]['string'] for name in empty)
        answers = self.answer_data or {}
        for question in Question.applicable(
            self.project, self.stage, self.grade, self.intent
        ):
            if question.required and question.is_empty(answers.get(question.name)):
                missing.append(question.string)
        return missing

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, registrations):
        pool = Pool()
        Review = pool.get('lieye.registration.review')
        for registration in registrations:
            if registration.state == 'returned':
                registration.check_corrector()
            missing = registration.missing_items()
            if missing:
                raise SubmissionError(
                    gettext(
                        'lieye_sales_site.msg_submit_missing',
                        registration=registration.rec_name,
                        items='、'.join(missing),
                    )
                )
        # The transition writes the new state after this method, with who
        # submitted and when (preprocess_values); the customer's stage waits
        # for the approval.
        Review.add_round(registrations, 'submitted')

    @classmethod
    @ModelView.button
    def approve(cls, registrations):
        cls.review(registrations, 'approved')

    @classmethod
    @ModelView.button_action('lieye_sales_site.wizard_registration_return')
    def return_(cls, registrations):
        pass

    @classmethod
    def review(cls, registrations, action, reason=None):
        """Approve or return submitted registrations (S9)

        The rows are locked first: of two reviewers acting on a registration
        at once, the second waits for the first, then finds it reviewed and
        is told so. Workflow.transition would skip it without a word."""
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Review = pool.get('lieye.registration.review')
        if action == 'returned' and not (reason or '').strip():
            raise ReviewError(gettext('lieye_sales_site.msg_return_reason_required'))
        if not registrations:
            return
        lock_rows(cls, registrations)
        for registration in registrations:
            if registration.state != 'submitted':
                raise ReviewError(
                    gettext(
                        'lieye_sales_site.msg_review_not_submitted',
                        registration=registration.rec_name,
                        state=registration.state_string,
                    )
                )
        with without_check_access():
            cls.write(registrations, {'state': action})
            cls.log(registrations, 'transition', f'state:{action}')
            Review.add_round(registrations, action, reason)
            if action == 'approved':
                # S9: only approved registrations count downstream.
                Customer.update_stage(list({r.customer for r in registrations}))
        if action == 'returned':
            cls.notify_returned(registrations, reason)

    @classmethod
    def notify_returned(cls, registrations, reason):
        "Tell each consultant which of their registrations came back, and why"
        by_consultant = defaultdict(list)
        for registration in registrations:
            by_consultant[registration.consultant].append(registration)
        for consultant, returned in by_consultant.items():
            with recipient_language(consultant):
                notify(
                    consultant,
                    'tryton-back',
                    gettext(
                        'lieye_sales_site.msg_registration_returned_notification',
                        count=len(returned),
                    ),
                    description=reason.strip()[:200],
                    records=returned,
                )


class EntryStart(ModelView):
    "Start an entry from the phone number"

    __name__ = 'lieye.registration.entry.start'

    project = fields.Many2One(
        'lieye.project', "Project", required=True, domain=[('state', '=', 'selling')]
    )
    stage = fields.Selection(STAGES, "Stage", required=True, sort=False)
    phone = fields.Char(
        "Phone",
        states={
            'required': ~Eval('phone_declined', False),
            'invisible': Eval('phone_declined', False),
        },
    )
    phone_declined = fields.Boolean("Customer Declined to Give a Phone")
    name = fields.Char(
        "Name",
        states={
            'required': ~Eval('name_declined', False),
            'invisible': Eval('name_declined', False),
        },
    )
    name_declined = fields.Boolean("Customer Declined to Give a Name")
    known = fields.Char(
        "Known Customer", readonly=True, states={'invisible': ~Eval('known')}
    )

    @classmethod
    def default_project(cls):
        return Pool().get('lieye.registration').default_project()

    @classmethod
    def default_stage(cls):
        return Transaction().context.get('lieye_stage', 'call')

    @fields.depends('project', 'phone')
    def on_change_with_known(self):
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        if not self.project or not self.phone:
            return None
        try:
            phone = normalize_phone(self.phone)
        except ValueError:
            return gettext('lieye_sales_site.msg_phone_invalid', value=self.phone)
        person = Person.find_known(self.project, 'phone', phone)
        if not person:
            return gettext('lieye_sales_site.msg_entry_new_customer')
        if person.customer.owner and person.customer.owner.id == Transaction().user:
            return gettext(
                'lieye_sales_site.msg_entry_own_customer', customer=person.customer.code
            )
        return person.customer.holder_message(
            'lieye_sales_site.msg_entry_other_customer',
            'lieye_sales_site.msg_entry_pool_customer',
            'lieye_sales_site.msg_entry_unassigned_customer',
        )


class Entry(Wizard):
    "Customer entry (客户登记)"

    __name__ = 'lieye.registration.entry'

    start = StateView(
        'lieye.registration.entry.start',
        'lieye_sales_site.registration_entry_start_view_form',
        [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Register", 'register', 'tryton-ok', default=True),
        ],
    )
    register = StateTransition()
    open_ = StateAction('lieye_sales_site.act_registration_form')

    def transition_register(self):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Person = pool.get('lieye.customer.person')
        Registration = pool.get('lieye.registration')
        start = self.start
        phone = None
        if not start.phone_declined:
            try:
                phone = normalize_phone(start.phone or '')
            except ValueError:
                raise PersonError(
                    gettext(
                        'lieye_sales_site.msg_phone_invalid', value=start.phone or ''
                    )
                )
        person = Person.find_known(start.project, 'phone', phone) if phone else None
        if person:
            customer = person.customer
            if not customer.owner or customer.owner.id != Transaction().user:
                raise SubmissionError(
                    customer.holder_message(
                        'lieye_sales_site.msg_entry_other_customer',
                        'lieye_sales_site.msg_entry_pool_customer',
                        'lieye_sales_site.msg_entry_unassigned_customer',
                    )
                )
        else:
            (customer,) = Customer.create(
                [
                    {
                        'project': start.project.id,
                        'persons': [
                            (
                                'create',
                                [
                                    {
                                        'relation': 'self',
                                        'name': (
                                            None if start.name_declined else start.name
                                        ),
                                        'name_declined': start.name_declined,
                                        'phone': phone,
                                        'phone_declined': start.phone_declined,
                                    }
                                ],
                            )
                        ],
                    }
                ]
            )
        registration = Registration(
            project=start.project, customer=customer, stage=start.stage
        )
        registration.on_change_customer()
        registration.answers = registration.on_change_with_answers()
        registration.save()
        self.registration = registration
        return 'open_'

    def do_open_(self, action):
        action['res_id'] = [self.registration.id]
        action['views'].reverse()
        return action, {}


class Review(ModelSQL, ModelView):
    "Review round of a registration (审核记录)"

    __name__ = 'lieye.registration.review'

    registration = fields.Many2One(
        'lieye.registration',
        "Registration",
        required=True,
        readonly=True,
        ondelete='RESTRICT',
    )
    round = fields.Integer(
        "Round", required=True, readonly=True, help="The submission it belongs to."
    )
    action = fields.Selection(
        REVIEW_ACTIONS, "Action", required=True, readonly=True, sort=False
    )
    user = fields.Many2One(
        'res.user', "User", required=True, readonly=True, ondelete='RESTRICT'
    )
    date = fields.Timestamp("Date", required=True, readonly=True)
    reason = fields.Text("Reason", readonly=True)
    # B7: how close to the public pool the customer was when the entry came;
    # an entry just inside the window may only be there to keep it.
    protection_deadline = fields.Date(
        "Protected Until",
        readonly=True,
        help="The last day the customer stayed with its consultant "
        "when the entry was submitted.",
    )
    protection_days = fields.Integer(
        "Days of Protection Left",
        readonly=True,
        help="Days from the submission to the end of the customer's protection.",
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Whoever reads the registration reads its rounds (S2.8).
        cls.__access__.add('registration')
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.registration, Index.Equality()), (t.date, Index.Range()))
        )
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        return f'{self.registration.rec_name} #{self.round}'

    @classmethod
    def check_modification(cls, mode, reviews, values=None, external=False):
        super().check_modification(mode, reviews, values=values, external=external)
        # The rounds are the record of who did what (S2.9): only the workflow
        # adds them, and nobody changes them.
        if external or mode in {'write', 'delete'}:
            raise ReviewLogError(gettext('lieye_sales_site.msg_review_read_only'))

    @classmethod
    def add_round(cls, registrations, action, reason=None):
        """Log action on registrations: a submission opens a round, the
        review closes it"""
        review = cls.__table__()
        cursor = Transaction().connection.cursor()
        rounds = defaultdict(int)
        for sub_ids in grouped_slice(
            [r.id for r in registrations], backend.MAX_QUERY_PARAMS
        ):
            cursor.execute(
                *review.select(
                    review.registration,
                    Count(review.id),
                    where=fields.SQL_OPERATORS['in'](review.registration, sub_ids)
                    & (review.action == 'submitted'),
                    group_by=[review.registration],
                )
            )
            rounds.update(cursor)
        now = dt.datetime.now()
        user = Transaction().user

        def protection(registration):
            deadline = registration.customer.pool_deadline
            if action != 'submitted' or not deadline:
                return {}
            return {
                'protection_deadline': deadline,
                'protection_days': (deadline - now.date()).days,
            }

        with without_check_access():
            cls.create(
                [
                    {
                        **protection(r),
                        'registration': r.id,
                        'round': (
                            rounds[r.id] + 1
                            if action == 'submitted'
                            else max(rounds[r.id], 1)
                        ),
                        'action': action,
                        'user': user,
                        'date': now,
                        'reason': reason.strip() if reason else None,
                    }
                    for r in registrations
                ]
            )


class ReturnStart(ModelView):
    "Return registrations for correction"

    __name__ = 'lieye.registration.return.start'

    reason = fields.Text(
        "Reason",
        required=True,
        help="What the consultant must correct; they see it on the registration.",
    )


class Return(Wizard):
    "Return registrations for correction (退回修改)"

    __name__ = 'lieye.registration.return'

    start = StateView(
        'lieye.registration.return.start',
        'lieye_sales_site.registration_return_start_view_form',
        [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Return", 'return_', 'tryton-back', default=True),
        ],
    )
    return_ = StateTransition()

    def transition_return_(self):
        pool = Pool()
        Registration = pool.get('lieye.registration')
        # Whoever runs the wizard, the return button's groups and record
        # rules decide who may return (its action is bound to registrations).
        with check_access():
            Registration.return_(self.records)
        Registration.review(self.records, 'returned', self.start.reason)
        return 'end'
