# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateTransition, StateView, Wizard

from .customer import (
    CARD_CLASSES,
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
    SubmissionError,
)
from .model import ProjectLinkMixin, ProjectMany2One, ValueTypeMixin

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
# Fields a submitted registration may still receive from the workflow.
WORKFLOW_FIELDS = {'state', 'submitted_by', 'submitted_at'}


def stage_at_least(stage):
    "PySON: the record's stage is stage or above"
    return Eval('stage', 'call').in_(
        [s for s, _ in STAGES if STAGE_RANK[s] >= STAGE_RANK[stage]]
    )


class Registration(ProjectLinkMixin, ValueTypeMixin, Workflow, ModelSQL, ModelView):
    "Registration (录入单)"

    __name__ = 'lieye.registration'
    _history = True

    _draft = {'readonly': Eval('state') != 'draft'}
    _deal = {
        'readonly': Eval('state') != 'draft',
        'invisible': ~stage_at_least('subscribed'),
    }
    _visit = {
        'readonly': Eval('state') != 'draft',
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
            'readonly': Eval('state') != 'draft',
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
        ],
        "State",
        readonly=True,
        required=True,
        sort=False,
    )
    submitted_by = fields.Many2One('res.user', "Submitted By", readonly=True)
    submitted_at = fields.Timestamp("Submitted At", readonly=True)
    persons = fields.Function(
        fields.One2Many(
            'lieye.customer.person',
            None,
            "Persons",
            states={'readonly': Eval('state') != 'draft'},
            context={'lieye_project': Eval('project', -1)},
            depends=['project'],
            help="The persons of the customer group.",
        ),
        'get_persons',
        setter='set_persons',
    )

    # F1 — visitor register (来访登记)
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
            'readonly': Eval('state') != 'draft',
            'invisible': ~stage_at_least('card_holder'),
        },
    )

    # F2 — deal register (成交登记)
    subscription_date = fields.Date(
        "Subscription Date",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('stage') != 'subscribed',
        },
    )
    contract_date = fields.Date(
        "Contract Date",
        states={
            'readonly': Eval('state') != 'draft',
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
            }
        )
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'submitted')}
        cls._buttons.update(
            {
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                },
            }
        )

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

    def get_rec_name(self, name):
        return f'{self.customer.rec_name} · {self.stage_string} · {self.date}'

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
        if self.state == 'draft':
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
        # The transition to submitted records who and when in its write.
        if mode == 'write' and values.get('state') == 'submitted':
            values.setdefault('submitted_by', Transaction().user)
            values.setdefault('submitted_at', dt.datetime.now())
        return values

    @classmethod
    def check_modification(cls, mode, registrations, values=None, external=False):
        super().check_modification(
            mode, registrations, values=values, external=external
        )
        # S2.7: submitted entries change only through change requests.
        if mode == 'delete' or (
            mode == 'write' and set(values or {}) - WORKFLOW_FIELDS
        ):
            for registration in registrations:
                if registration.state != 'draft':
                    raise RegistrationLockedError(
                        gettext(
                            'lieye_sales_site.msg_registration_locked',
                            registration=registration.rec_name,
                        )
                    )

    @classmethod
    def validate_fields(cls, registrations, field_names):
        # First, so that a customer of another project gets this message
        # rather than the generic one of the project links.
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
                registration.consultant != customer.owner,
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
        Customer = pool.get('lieye.customer')
        for registration in registrations:
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
        # submitted and when (preprocess_values).
        Customer.update_stage(
            list({r.customer for r in registrations}), submitting=set(registrations)
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
        if person.customer.owner.id == Transaction().user:
            return gettext(
                'lieye_sales_site.msg_entry_own_customer', customer=person.customer.code
            )
        return gettext(
            'lieye_sales_site.msg_entry_other_customer',
            owner=person.customer.owner.rec_name,
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
            if customer.owner.id != Transaction().user:
                raise SubmissionError(
                    gettext(
                        'lieye_sales_site.msg_entry_other_customer',
                        owner=customer.owner.rec_name,
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
