# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from collections import defaultdict

import phonenumbers
from sql import Column, Null
from sql.aggregate import Max
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields, sequence_ordered
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .dictionary import dictionary_field
from .exceptions import DuplicateCustomerError, PersonError, PersonIdentityLockedError
from .model import ProjectLinkMixin, ValueTypeMixin, rec_name_domain

STAGES = [
    ('call', "Phone Inquiry"),
    ('walk_in', "Walk-in Prospect"),
    ('qualified', "Qualified"),
    ('card_holder', "Card Holder"),
    ('subscribed', "Subscribed"),
    ('signed', "Signed"),
]
STAGE_RANK = {stage: rank for rank, (stage, _) in enumerate(STAGES)}
CARD_CLASSES = [
    (None, ""),
    ('2', "Class 2"),
    ('3', "Class 3"),
]
INTENTS = [
    (None, ""),
    ('high', "High"),
    ('medium', "Medium"),
    ('low', "Low"),
]
GENDERS = [
    (None, ""),
    ('male', "Male"),
    ('female', "Female"),
]
IDENTITY_FIELDS = {
    'name',
    'name_declined',
    'phone',
    'phone_declined',
    'id_number',
    'gender',
    'birth_date',
    'customer',
}
RELATIONS = [
    ('self', "Main Contact"),
    ('spouse', "Spouse"),
    ('child', "Child"),
    ('parent', "Parent"),
    ('relative', "Relative"),
    ('friend', "Friend"),
    ('other', "Other"),
]


def normalize_phone(value):
    """Return the E.164 form of a Chinese mobile or fixed-line number,
    or raise ValueError"""
    try:
        number = phonenumbers.parse(value, 'CN')
    except phonenumbers.NumberParseException:
        raise ValueError(value)
    if not phonenumbers.is_valid_number(number):
        raise ValueError(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_id_number(value):
    "Return the 18-character resident ID number or raise ValueError"
    number = ric.compact(value)
    try:
        ric.validate(number)
    except InvalidComponent:
        # stdnum also wants the area code to exist in the birth year, but it
        # is the place of first registration, for many decades after birth:
        # any code ever assigned is accepted.
        try:
            ric.get_birth_date(number)
        except InvalidComponent:
            raise ValueError(value)
        if not any(props for _, props in numdb.get('cn/loc').info(number[:6])):
            raise ValueError(value)
    except StdnumError:
        raise ValueError(value)
    return number


class Customer(ProjectLinkMixin, ValueTypeMixin, ModelSQL, ModelView):
    "Customer group (客户组)"

    __name__ = 'lieye.customer'
    _history = True

    project = fields.Many2One(
        'lieye.project',
        "Project",
        required=True,
        ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0},
    )
    code = fields.Char("Code", readonly=True)
    name = fields.Function(fields.Char("Name"), 'get_name', searcher='search_name')
    # Empty while the customer waits for a consultant or in the public
    # pool; it changes through assignment and claim (customer_pool).
    owner = fields.Many2One(
        'res.user',
        "Consultant",
        ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0},
        help="The sales consultant who owns the customer.",
    )
    stage = fields.Selection(
        STAGES,
        "Stage",
        readonly=True,
        required=True,
        sort=False,
        help="The highest stage of the approved registrations.",
    )
    card_class = fields.Selection(CARD_CLASSES, "Card Class", readonly=True)
    grade = dictionary_field("Grade", 'grade')
    intent = fields.Selection(INTENTS, "Intent")
    how_heard = dictionary_field("How They Heard", 'how_heard')
    first_contact_date = fields.Date("First Contact", readonly=True)
    last_entry_date = fields.Date(
        "Last Entry",
        readonly=True,
        help="Date of the latest approved registration: a visit or call "
        "keeps the customer with its consultant as a follow-up does.",
    )
    last_followup_date = fields.Date("Last Follow-up", readonly=True)
    subscription_date = fields.Date(
        "Subscription Date",
        readonly=True,
        help="Date of the first subscription, never overwritten.",
    )
    contract_date = fields.Date(
        "Contract Date",
        readonly=True,
        help="Date of the first signed contract, never overwritten.",
    )
    persons = fields.One2Many(
        'lieye.customer.person',
        'customer',
        "Persons",
        context={'lieye_project': Eval('project', -1)},
        depends=['project'],
    )
    registrations = fields.One2Many(
        'lieye.registration', 'customer', "Registrations", readonly=True
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(t, (t.project, Index.Equality()), (t.owner, Index.Equality())),
                Index(t, (t.code, Index.Equality(cardinality='high'))),
            }
        )
        cls._order.insert(0, ('create_date', 'DESC'))

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Registration = pool.get('lieye.registration')
        customer = cls.__table__()
        registration = Registration.__table__()
        cursor = Transaction().connection.cursor()
        table_h = cls.__table_handler__(module)
        # Migration: the date of the last approved entry counts as a contact
        # for the pool since it exists; fill it when the column is added.
        fill_last_entry_date = not table_h.column_exist('last_entry_date')
        super().__register__(module)
        if fill_last_entry_date and backend.TableHandler.table_exist(
            Registration._table
        ):
            approved = registration.state == 'approved'
            cursor.execute(
                *customer.update(
                    [customer.last_entry_date],
                    [
                        registration.select(
                            Max(registration.date),
                            where=(registration.customer == customer.id) & approved,
                        )
                    ],
                    where=(customer.last_entry_date == Null)
                    & customer.id.in_(
                        registration.select(registration.customer, where=approved)
                    ),
                )
            )

    @classmethod
    def default_owner(cls):
        return Transaction().user or None

    @classmethod
    def default_stage(cls):
        return 'call'

    @classmethod
    def get_name(cls, customers, name):
        "Return the name of the first named person, or the code"
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        person = Person.__table__()
        cursor = Transaction().connection.cursor()
        names = {c.id: c.code for c in customers}
        named = set()
        # One query for a whole list page: reading the persons as records
        # would load every column of every person.
        for sub_ids in grouped_slice(names, backend.MAX_QUERY_PARAMS):
            cursor.execute(
                *person.select(
                    person.customer,
                    person.name,
                    where=fields.SQL_OPERATORS['in'](person.customer, sub_ids)
                    & (person.name != Null)
                    & (person.name != ''),
                    order_by=[
                        person.customer,
                        person.sequence.asc.nulls_first,
                        person.id,
                    ],
                )
            )
            for customer_id, person_name in cursor:
                if customer_id not in named:
                    named.add(customer_id)
                    names[customer_id] = person_name
        return names

    @classmethod
    def search_name(cls, name, clause):
        return [
            'OR',
            ('code',) + tuple(clause[1:]),
            ('persons.name',) + tuple(clause[1:]),
        ]

    def get_rec_name(self, name):
        if self.name and self.name != self.code:
            return f'{self.name} ({self.code})'
        return self.code or ''

    @classmethod
    def search_rec_name(cls, name, clause):
        pool = Pool()
        FieldAccess = pool.get('ir.model.field.access')
        names = ['code', 'persons.name']
        # Only roles that may read phones find customers by phone. Domains
        # are converted without access checks: ask for the user's access.
        model = 'lieye.customer.person'
        with Transaction().set_context(_check_access=True):
            access = FieldAccess.get_access([model])[model].get('phone')
        if not Transaction().user or not access or access['read']:
            names.append('persons.phone')
        return rec_name_domain(clause, *names)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Project = pool.get('lieye.project')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('code') and values.get('project'):
            values['code'] = Project(values['project']).next_customer_code()
        return values

    @classmethod
    def update_stage(cls, customers):
        """Set stage, card class, first deal dates and the last entry date
        from the approved registrations (S9); earlier dates are never
        overwritten (S2.12)"""
        pool = Pool()
        Registration = pool.get('lieye.registration')
        registration = Registration.__table__()
        cursor = Transaction().connection.cursor()
        # Only the columns the stage needs, of every registration of the
        # customers whatever the user may read.
        cursor.execute(
            *registration.select(
                registration.customer,
                registration.stage,
                registration.card_class,
                registration.subscription_date,
                registration.contract_date,
                registration.date,
                where=fields.SQL_OPERATORS['in'](
                    registration.customer, [c.id for c in customers]
                )
                & (registration.state == 'approved'),
            )
        )
        approved = defaultdict(list)
        for customer_id, *row in cursor:
            approved[customer_id].append(row)
        to_write = []
        for customer in customers:
            rows = approved.get(customer.id)
            if not rows:
                continue
            stages, cards, subscription_dates, contract_dates, dates = zip(*rows)
            values = {}
            top = max(stages, key=STAGE_RANK.get)
            if STAGE_RANK[top] > STAGE_RANK[customer.stage]:
                values['stage'] = top
            cards = [c for c in cards if c]
            if cards and max(cards) != customer.card_class:
                values['card_class'] = max(cards)
            for field, field_dates in [
                ('subscription_date', subscription_dates),
                ('contract_date', contract_dates),
            ]:
                field_dates = [d for d in field_dates if d]
                if field_dates and not getattr(customer, field):
                    values[field] = min(field_dates)
            if (
                not customer.first_contact_date
                or min(dates) < customer.first_contact_date
            ):
                values['first_contact_date'] = min(dates)
            if max(dates) != customer.last_entry_date:
                values['last_entry_date'] = max(dates)
            if values:
                to_write.extend(([customer], values))
        if to_write:
            with without_check_access():
                cls.write(*to_write)


class Person(ProjectLinkMixin, ValueTypeMixin, sequence_ordered(), ModelSQL, ModelView):
    "Person of a customer group"

    __name__ = 'lieye.customer.person'
    _history = True

    customer = fields.Many2One(
        'lieye.customer', "Customer", required=True, ondelete='CASCADE'
    )
    project = fields.Many2One(
        'lieye.project', "Project", readonly=True, ondelete='RESTRICT'
    )
    party = fields.Many2One('party.party', "Party", readonly=True, ondelete='RESTRICT')
    relation = fields.Selection(RELATIONS, "Relation", required=True)
    name = fields.Char("Name", states={'required': ~Eval('name_declined', False)})
    name_declined = fields.Boolean(
        "Name Declined", help="The customer declined to give a name."
    )
    gender = fields.Selection(GENDERS, "Gender")
    birth_date = fields.Date("Birth Date")
    age_band = dictionary_field("Age Band", 'age_band')
    phone = fields.Char(
        "Phone",
        states={'required': ~Eval('phone_declined', False)},
        help="Mobile or fixed-line number; stored in international form.",
    )
    phone_declined = fields.Boolean(
        "Phone Declined", help="The customer declined to give a phone number."
    )
    id_number = fields.Char("ID Number", help="18-digit resident identity card number.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('customer')
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(
                    t,
                    (t.phone, Index.Equality(cardinality='high')),
                    (t.project, Index.Equality()),
                    where=t.phone != Null,
                ),
                Index(
                    t,
                    (t.id_number, Index.Equality(cardinality='high')),
                    (t.project, Index.Equality()),
                    where=t.id_number != Null,
                ),
                Index(t, (t.name, Index.Similarity())),
                # The duplicate queue of a project.
                Index(t, (t.project, Index.Equality())),
            }
        )

    @classmethod
    def default_relation(cls):
        return 'self'

    @classmethod
    def default_project(cls):
        return Transaction().context.get('lieye_project')

    @fields.depends('customer', '_parent_customer.project')
    def on_change_customer(self):
        if self.customer:
            self.project = self.customer.project

    def get_rec_name(self, name):
        return self.name or gettext('lieye_sales_site.msg_person_no_name')

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        values = super().preprocess_values(mode, values)
        for field, normalize, message in [
            ('phone', normalize_phone, 'msg_phone_invalid'),
            ('id_number', normalize_id_number, 'msg_id_number_invalid'),
        ]:
            if values.get(field):
                try:
                    values[field] = normalize(values[field])
                except ValueError:
                    raise PersonError(
                        gettext(f'lieye_sales_site.{message}', value=values[field])
                    )
            elif field in values:
                values[field] = None
        if values.get('phone_declined'):
            values['phone'] = None
        if values.get('name_declined'):
            values['name'] = None
        if values.get('customer') is not None:
            values['project'] = Customer(values['customer']).project.id
        return values

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Party = pool.get('party.party')
        Customer = pool.get('lieye.customer')
        # Every person is a party so that later interfaces (HR, finance,
        # customer service) and the party tools (merge, erase) apply.
        # The party is always a new one: a person never takes over a party
        # named by the client.
        vlist = [v.copy() for v in vlist]
        with without_check_access():
            parties = Party.create(
                [
                    {
                        'name': v.get('name')
                        or (v.get('customer') and Customer(v['customer']).code)
                    }
                    for v in vlist
                ]
            )
        for values, party in zip(vlist, parties):
            values['party'] = party.id
        return super().create(vlist)

    @classmethod
    def on_modification(cls, mode, persons, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        super().on_modification(mode, persons, field_names=field_names)
        if mode == 'write' and field_names and 'name' in field_names:
            to_write = []
            for person in persons:
                if person.party:
                    to_write.extend(
                        ([person.party], {'name': person.name or person.customer.code})
                    )
            if to_write:
                with without_check_access():
                    Party.write(*to_write)

    @classmethod
    def check_modification(cls, mode, persons, values=None, external=False):
        super().check_modification(mode, persons, values=values, external=external)
        if mode == 'write' and Transaction().context.get('_change_request'):
            # The values of a change request (change_request.py); clients
            # cannot set this key, the server drops theirs starting with "_".
            return
        # S2.7: once a registration of the customer is submitted, the persons'
        # identity changes only through a change request (a returned one is
        # corrected as a draft).
        if mode == 'delete' or (
            mode == 'write' and set(values or {}) & IDENTITY_FIELDS
        ):
            for person in persons:
                if any(
                    r.state not in {'draft', 'returned'}
                    for r in person.customer.registrations
                ):
                    raise PersonIdentityLockedError(
                        gettext(
                            'lieye_sales_site.msg_person_identity_locked',
                            person=person.rec_name,
                        )
                    )

    @classmethod
    def validate_fields(cls, persons, field_names):
        super().validate_fields(persons, field_names)
        if field_names & {'phone', 'id_number', 'customer'}:
            cls.check_duplicates(persons)

    @classmethod
    def check_duplicates(cls, persons):
        """Refuse a second customer group in a project for a known phone or
        ID number (B6), naming only the owner of the existing one"""
        for person in persons:
            for field in ['phone', 'id_number']:
                value = getattr(person, field)
                if not value:
                    continue
                other = cls.find_known(
                    person.project, field, value, exclude_customer=person.customer
                )
                if other:
                    raise DuplicateCustomerError(
                        other.customer.holder_message(
                            'lieye_sales_site.msg_duplicate_customer',
                            'lieye_sales_site.msg_duplicate_customer_pool',
                            'lieye_sales_site.msg_duplicate_customer_unassigned',
                            field=cls.fields_get([field])[field]['string'],
                            value=value,
                        )
                    )

    @classmethod
    def find_known(cls, project, field, value, exclude_customer=None):
        "Return a person of another customer of project with that value"
        person = cls.__table__()
        cursor = Transaction().connection.cursor()
        # Any person, whatever the user may read: a query, as this runs for
        # every person saved.
        where = (person.project == project.id) & (Column(person, field) == value)
        if exclude_customer:
            where &= person.customer != exclude_customer.id
        cursor.execute(*person.select(person.id, where=where, limit=1))
        row = cursor.fetchone()
        if row:
            # The callers name the owner, whose customer the user may not read.
            with without_check_access():
                return cls(row[0])
