# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation

from sql import Literal
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, check_access, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import ChangeRequestAccessError, ChangeRequestError, ChangeValueError
from .model import ProjectMany2One, ValueTypeMixin, lock_rows, rec_name_domain
from .notification import notify, recipient_language
from .registration import EDITABLE_STATES

STATES = [
    ('draft', "Draft"),
    ('requested', "Requested"),
    ('approved', "Approved"),
    ('applied', "Applied"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
]
# Waiting for the secretary or the sales manager.
PENDING = ['requested', 'approved']
# The types a value typed as text converts to.
CHANGE_TYPES = {
    'char',
    'text',
    'integer',
    'float',
    'numeric',
    'date',
    'boolean',
    'selection',
    'many2one',
}
# They change through their own paths (assignment, review, the customer's
# stage from approved entries), never through a change request.
FIXED_FIELDS = {
    'project',
    'customer',
    'consultant',
    'owner',
    'state',
    'stage',
    'sequence',
    'party',
}
# S15: identities and the terms of a deal need the sales manager's approval,
# as does any price or amount (is_sensitive).
SENSITIVE_FIELDS = {
    'lieye.customer.person': {
        'name',
        'name_declined',
        'phone',
        'phone_declined',
        'id_number',
    },
    'lieye.registration': {'room', 'area', 'subscription_date', 'contract_date'},
}
# What a client may write on a draft; the rest is filled in by the steps.
DRAFT_FIELDS = {'reason', 'lines'}
TRUE_WORDS = {'1', 'true', 'yes', 'y', '是', '对'}
FALSE_WORDS = {'0', 'false', 'no', 'n', '否', '不是'}
# S2.7: the question types whose answers convert from text; the
# questionnaires ask no date with a time or colour.
ANSWER_TYPES = (CHANGE_TYPES - {'text', 'many2one'}) | {'multiselection'}
CHOICE_TYPES = {'selection', 'multiselection'}
# S15: an answer whose key or label mentions a price or an amount (a price
# range or a budget too) needs the sales manager's approval as the fields do
# (is_sensitive): erring towards approval is the safe side of a deal's terms.
# The other answers describe the customer and the secretary applies them.
PRICE_WORDS = ('price', 'amount', '价格', '价位', '单价', '总价', '房价', '金额')
# How several options of a multiple choice are typed apart.
OPTION_SEPARATORS = re.compile(r'[、,，;；]')


def is_sensitive(model, name):
    "Whether changing the field name of model needs the manager's approval"
    return (
        name in SENSITIVE_FIELDS.get(model, ()) or 'price' in name or 'amount' in name
    )


def reading_languages():
    """Enter the user's language, then Chinese: labels are typed in either,
    whatever the user's language"""
    transaction = Transaction()
    for language in dict.fromkeys([transaction.language, 'zh_CN']):
        with transaction.set_context(language=language):
            yield language


def is_answer_sensitive(question):
    "Whether changing the answer to question needs the manager's approval"
    Question = Pool().get('lieye.question')
    texts = [question.name]
    for _ in reading_languages():
        texts.append(Question(question.id).string)
    return any(word in text.casefold() for text in texts for word in PRICE_WORDS)


def changeable_fields(Model):
    "Return the names of the fields of Model a change request may change"
    return sorted(
        name
        for name, field in Model._fields.items()
        if field._type in CHANGE_TYPES
        and not isinstance(field, fields.Function)
        and not field.readonly
        and name not in FIXED_FIELDS
    )


def changeable_questions(record):
    """Return the questions whose answers a change request may change on
    record: those of a registration's questionnaire, asked at its project
    and stage (and grade and intent) or answered, while active"""
    Question = Pool().get('lieye.question')
    if record.__name__ != 'lieye.registration':
        return []
    with without_check_access():
        registration = record.__class__(record.id)
        keys = registration.with_questions(registration.answer_data)
        return Question.search(
            [('name', 'in', list(keys)), ('type_', 'in', list(ANSWER_TYPES))]
        )


def value_data(type_, value):
    "Return the value of type_ as the text stored on a line, None if empty"
    if type_ == 'boolean':
        return 'true' if value else 'false'
    if value is None or value == '':
        return None
    if type_ == 'many2one':
        return str(int(value))
    if type_ == 'date':
        return value.isoformat()
    if type_ == 'multiselection':
        return json.dumps(sorted(value), ensure_ascii=False)
    return str(value)


def data_value(type_, data):
    "Return the value of type_ stored as text by value_data"
    if type_ == 'boolean':
        return data == 'true'
    if data is None:
        return None
    if type_ in {'integer', 'many2one'}:
        return int(data)
    if type_ == 'numeric':
        return Decimal(data)
    if type_ == 'float':
        return float(data)
    if type_ == 'date':
        return dt.date.fromisoformat(data)
    if type_ == 'multiselection':
        return json.loads(data)
    return data


def display_text(type_, value, labels=None):
    """Return the value of type_ as the user reads it; labels are those of
    the options by key"""
    if value is None or value == '':
        return None
    if type_ == 'boolean':
        return gettext(
            'lieye_sales_site.msg_change_request_yes'
            if value
            else 'lieye_sales_site.msg_change_request_no'
        )
    if type_ in CHOICE_TYPES:
        keys = [value]
        if type_ == 'multiselection':
            # In the order of the options, as the questionnaire lists them.
            order = {key: i for i, key in enumerate(labels)}
            keys = sorted(value, key=lambda key: order.get(key, len(order)))
        return '、'.join(labels.get(key, key) for key in keys)
    return str(value)


def value_text(Model, name, value):
    "Return the value of the field name of Model as the user reads it"
    field = Model._fields[name]
    if field._type == 'boolean':
        value = bool(value)
    elif field._type == 'many2one' and value is not None:
        Target = Pool().get(field.model_name)
        return Target(int(value)).rec_name
    labels = None
    if field._type == 'selection':
        labels = dict(Model.fields_get([name])[name]['selection'])
    return display_text(field._type, value, labels)


def selection_keys(Model, name):
    "Return each key of the selection field name by its key and its labels"
    field = Model._fields[name]
    selection = field.selection
    if isinstance(selection, str):
        selection = getattr(Model, selection)()
    keys = {}
    for key, label in selection:
        if key is not None:
            keys[key.casefold()] = key
            keys[label.casefold()] = key
    for _ in reading_languages():
        for key, label in Model.fields_get([name])[name]['selection']:
            if key is not None:
                keys[label.casefold()] = key
    return keys


def answer_options(question, project):
    """Return the labels of the options of question by key in the user's
    language, and the keys by key and by label in the user's language or in
    Chinese, casefolded"""
    Question = Pool().get('lieye.question')
    labels, keys = {}, {}
    for _ in reading_languages():
        # The options may be those of the project's dictionary.
        with Transaction().set_context(lieye_project=project.id):
            options = json.loads(Question(question.id).selection_json)
        for key, label in options:
            labels.setdefault(key, label)
            keys[key.casefold()] = key
            keys[label.casefold()] = key
    return labels, keys


def find_target(Model, name, text, project):
    """Return the id of the record of the many2one field name whose code or
    name is text, among the records of project"""
    field = Model._fields[name]
    Target = Pool().get(field.model_name)
    if isinstance(field, ProjectMany2One):
        scope = field.scope_domain(project.id)
    elif 'project' in Target._fields:
        scope = [('project', '=', project.id)]
    else:
        scope = []
    found = []
    if 'code' in Target._fields:
        found = Target.search([*scope, ('code', '=', text)])
    if not found:
        found = [
            r
            for r in Target.search([*scope, ('rec_name', '=', text)])
            if r.rec_name == text
        ]
    if len(found) > 1:
        raise ChangeValueError(
            gettext(
                'lieye_sales_site.msg_change_request_value_ambiguous',
                value=text,
                field=Model.fields_get([name])[name]['string'],
            )
        )
    return found[0].id if found else None


def convert_text(type_, text, options=None, find=None):
    """Return the value of type_ typed as the text, not empty, and the id of
    the message saying what is expected; the value is None if the text does
    not convert. options are the keys of the choices by their casefolded key
    and labels, find returns the id of the record named by a text."""
    value = None
    expected = None
    if type_ in {'char', 'text'}:
        value = text
    elif type_ == 'integer':
        expected = 'msg_change_request_expect_integer'
        try:
            value = int(text)
        except ValueError:
            pass
    elif type_ in {'numeric', 'float'}:
        expected = 'msg_change_request_expect_number'
        try:
            number = Decimal(text.replace(',', '').replace('，', ''))
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                value = number if type_ == 'numeric' else float(number)
    elif type_ == 'date':
        expected = 'msg_change_request_expect_date'
        try:
            value = dt.datetime.strptime(text, '%Y-%m-%d').date()
        except ValueError:
            pass
    elif type_ == 'boolean':
        expected = 'msg_change_request_expect_boolean'
        if text.casefold() in TRUE_WORDS:
            value = True
        elif text.casefold() in FALSE_WORDS:
            value = False
    elif type_ == 'selection':
        expected = 'msg_change_request_expect_selection'
        value = options.get(text.casefold())
    elif type_ == 'multiselection':
        expected = 'msg_change_request_expect_multiselection'
        keys = [
            options.get(item.strip().casefold())
            for item in OPTION_SEPARATORS.split(text)
            if item.strip()
        ]
        if keys and None not in keys:
            value = sorted(set(keys))
    elif type_ == 'many2one':
        expected = 'msg_change_request_expect_record'
        value = find(text)
    return value, expected


def expected_text(expected, labels):
    "Return what the message expected says is expected, with the labels"
    return gettext(f'lieye_sales_site.{expected}', values='、'.join(labels))


def parse_value(Model, name, text, project):
    """Return the value of the field name of Model typed as text, or raise
    ChangeValueError saying what the field expects"""
    field = Model._fields[name]
    text = (text or '').strip()
    if not text:
        return False if field._type == 'boolean' else None
    options = None
    if field._type == 'selection':
        options = selection_keys(Model, name)
    value, expected = convert_text(
        field._type,
        text,
        options=options,
        find=lambda typed: find_target(Model, name, typed, project),
    )
    if value is None:
        definition = Model.fields_get([name])[name]
        raise ChangeValueError(
            gettext(
                'lieye_sales_site.msg_change_request_value_invalid',
                value=text,
                field=definition['string'],
                expected=expected_text(
                    expected,
                    [label for key, label in definition.get('selection', []) if key],
                ),
            )
        )
    return value


def parse_answer(question, text, project):
    """Return the answer to question typed as text, None to clear it, or
    raise ChangeValueError saying what the question expects"""
    text = (text or '').strip()
    if not text:
        return None
    labels, options = {}, {}
    if question.type_ in CHOICE_TYPES:
        labels, options = answer_options(question, project)
    value, expected = convert_text(question.type_, text, options=options)
    if value is None:
        raise ChangeValueError(
            gettext(
                'lieye_sales_site.msg_change_request_answer_invalid',
                value=text,
                question=question.rec_name,
                expected=expected_text(expected, labels.values()),
            )
        )
    return value


def answer_text(question, value, project):
    "Return the answer to question as the user reads it"
    labels = None
    if question.type_ in CHOICE_TYPES and value is not None:
        labels, _ = answer_options(question, project)
    return display_text(question.type_, value, labels)


class ChangeRequest(ValueTypeMixin, Workflow, ModelSQL, ModelView):
    "Change request (变更申请)"

    __name__ = 'lieye.change.request'

    _draft = {'readonly': Eval('state') != 'draft'}

    record = fields.Reference(
        "Record",
        selection='get_record_models',
        required=True,
        states={'readonly': Eval('id', -1) >= 0},
        help="The customer, person or registration to change.",
    )
    project = fields.Many2One(
        'lieye.project', "Project", readonly=True, ondelete='RESTRICT'
    )
    customer = fields.Many2One(
        'lieye.customer', "Customer", readonly=True, ondelete='RESTRICT'
    )
    requester = fields.Many2One(
        'res.user', "Requester", readonly=True, ondelete='RESTRICT'
    )
    reason = fields.Text(
        "Reason",
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('state') != 'draft',
        },
        help="Why the values must change, for the secretary and the manager.",
    )
    lines = fields.One2Many(
        'lieye.change.request.line',
        'request',
        "Changes",
        states=_draft,
        # The domains of the lines' field and question read them.
        depends={'changeable_fields', 'changeable_questions'},
        help="Each field or questionnaire answer to change with its value "
        "before and after.",
    )
    changeable_fields = fields.Function(
        fields.Many2Many('ir.model.field', None, None, "Changeable Fields"),
        'on_change_with_changeable_fields',
    )
    changeable_questions = fields.Function(
        fields.Many2Many('lieye.question', None, None, "Changeable Questions"),
        'on_change_with_changeable_questions',
    )
    changed_fields = fields.Function(
        fields.Char("Changed Fields"), 'get_changed_fields'
    )
    sensitive = fields.Function(
        fields.Boolean(
            "Sensitive",
            help="Changes a name, phone, ID number, price or the terms of a deal: "
            "the sales manager approves it before it is applied.",
        ),
        'get_sensitive',
        searcher='search_sensitive',
    )
    state = fields.Selection(STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    requested_at = fields.DateTime("Requested At", readonly=True)
    approved_by = fields.Many2One(
        'res.user', "Approved By", readonly=True, ondelete='RESTRICT'
    )
    approved_at = fields.DateTime("Approved At", readonly=True)
    applied_by = fields.Many2One(
        'res.user', "Applied By", readonly=True, ondelete='RESTRICT'
    )
    applied_at = fields.DateTime("Applied At", readonly=True)
    rejected_by = fields.Many2One(
        'res.user', "Rejected By", readonly=True, ondelete='RESTRICT'
    )
    rejected_at = fields.DateTime("Rejected At", readonly=True)
    rejection_reason = fields.Text(
        "Reason for Rejection",
        readonly=True,
        states={'invisible': Eval('state') != 'rejected'},
    )
    cancelled_by = fields.Many2One(
        'res.user', "Cancelled By", readonly=True, ondelete='RESTRICT'
    )
    cancelled_at = fields.DateTime("Cancelled At", readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(t, (t.project, Index.Equality()), (t.state, Index.Equality())),
                Index(t, (t.requester, Index.Equality()), (t.state, Index.Equality())),
                Index(t, (t.customer, Index.Equality())),
                Index(t, (t.record, Index.Equality(cardinality='high'))),
            }
        )
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'requested'),
            ('requested', 'approved'),
            ('requested', 'applied'),
            ('approved', 'applied'),
            ('requested', 'rejected'),
            ('approved', 'rejected'),
            ('draft', 'cancelled'),
            ('requested', 'cancelled'),
            ('approved', 'cancelled'),
        }
        cls._buttons.update(
            {
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', *PENDING]),
                    'depends': ['state'],
                },
                # Hidden by the form out of their states (view_attributes) but
                # not refused by the button itself: once the request is locked
                # they say in their own words that it was handled meanwhile.
                'approve': {'depends': ['state', 'sensitive']},
                'reject': {'depends': ['state']},
                'apply': {'depends': ['state']},
            }
        )

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            (
                '//group[@id="approval_buttons"]',
                'states',
                {'invisible': (Eval('state') != 'requested') | ~Eval('sensitive')},
            ),
            (
                '//group[@id="handling_buttons"]',
                'states',
                {'invisible': ~Eval('state').in_(PENDING)},
            ),
        ]

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def _get_record_models(cls):
        "Return the models whose records change through requests"
        return ['lieye.customer', 'lieye.customer.person', 'lieye.registration']

    @classmethod
    def get_record_models(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_record_models()
        ]

    def get_rec_name(self, name):
        if self.record:
            return f'#{self.id} {self.record.rec_name}'
        return f'#{self.id}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return rec_name_domain(clause, 'customer.rec_name')

    @fields.depends('record')
    def on_change_with_changeable_fields(self, name=None):
        pool = Pool()
        ModelField = pool.get('ir.model.field')
        if not self.record or self.record.id is None or self.record.id < 0:
            return []
        Model = self.record.__class__
        with without_check_access():
            return [
                f.id
                for f in ModelField.search(
                    [
                        ('model', '=', Model.__name__),
                        ('name', 'in', changeable_fields(Model)),
                    ]
                )
            ]

    @fields.depends('record')
    def on_change_with_changeable_questions(self, name=None):
        if not self.record or self.record.id is None or self.record.id < 0:
            return []
        return [q.id for q in changeable_questions(self.record)]

    def get_changed_fields(self, name):
        return '、'.join(line.rec_name for line in self.lines)

    @classmethod
    def get_sensitive(cls, requests, name):
        pool = Pool()
        Line = pool.get('lieye.change.request.line')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys(map(int, requests), False)
        for sub_ids in grouped_slice(list(result), backend.MAX_QUERY_PARAMS):
            cursor.execute(
                *line.select(
                    line.request,
                    where=fields.SQL_OPERATORS['in'](line.request, sub_ids)
                    & (line.sensitive == Literal(True)),
                    group_by=[line.request],
                )
            )
            result.update((request_id, True) for (request_id,) in cursor)
        return result

    @classmethod
    def search_sensitive(cls, name, clause):
        pool = Pool()
        Line = pool.get('lieye.change.request.line')
        line = Line.__table__()
        _, operator, value = clause
        query = line.select(line.request, where=line.sensitive == Literal(True))
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def record_of(cls, value):
        "Return the record of a reference value as clients send it"
        pool = Pool()
        if isinstance(value, str) and ',' in value:
            value = value.split(',', 1)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            model, id_ = value
            try:
                id_ = int(id_)
            except (TypeError, ValueError):
                id_ = -1
            if model in cls._get_record_models() and id_ >= 0:
                Model = pool.get(model)
                with without_check_access():
                    if Model.search([('id', '=', id_)]):
                        return Model(id_)
        elif isinstance(value, ModelSQL) and value.__name__ in (
            cls._get_record_models()
        ):
            return value
        raise ChangeRequestError(
            gettext('lieye_sales_site.msg_change_request_record_missing')
        )

    @classmethod
    def customer_of(cls, record):
        "Return the customer group of record"
        if record.__name__ == 'lieye.customer':
            return record
        return record.customer

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # A request starts as a draft of its maker; its project and
            # customer are those of its record, never the client's.
            for name in set(cls._fields) - DRAFT_FIELDS - {'record'}:
                values.pop(name, None)
            record = cls.record_of(values.get('record'))
            customer = cls.customer_of(record)
            values['record'] = str(record)
            values['customer'] = customer.id
            values['project'] = customer.project.id
            values['requester'] = Transaction().user
        return values

    @classmethod
    def check_modification(cls, mode, requests, values=None, external=False):
        super().check_modification(mode, requests, values=values, external=external)
        if mode == 'create':
            for request in requests:
                request.check_record(external)
        elif mode == 'delete' or (mode == 'write' and external):
            cls.check_draft(requests)
            if mode == 'write' and set(values) - DRAFT_FIELDS:
                raise ChangeRequestError(
                    gettext('lieye_sales_site.msg_change_request_workflow_fields')
                )

    def check_record(self, external=False):
        """Refuse a record its maker may not read, or a registration that is
        still corrected directly"""
        Model = self.record.__class__
        if external:
            with check_access():
                readable = Model.search([('id', '=', self.record.id)])
            if not readable:
                raise ChangeRequestAccessError(
                    gettext(
                        'lieye_sales_site.msg_change_request_record_access',
                        model=Model.__names__()['model'],
                        id=self.record.id,
                    )
                )
        if Model.__name__ == 'lieye.registration' and (
            self.record.state in EDITABLE_STATES
        ):
            raise ChangeRequestError(
                gettext(
                    'lieye_sales_site.msg_change_request_registration_editable',
                    registration=self.record.rec_name,
                )
            )

    @classmethod
    def check_state(cls, requests, states, message):
        "Refuse with message the requests not in states"
        for request in requests:
            if request.state not in states:
                raise ChangeRequestError(
                    gettext(
                        f'lieye_sales_site.{message}',
                        request=request.rec_name,
                        state=request.state_string,
                    )
                )

    @classmethod
    def check_draft(cls, requests):
        "Refuse changes of requests sent: they are the log of changes (S15)"
        cls.check_state(requests, ['draft'], 'msg_change_request_not_draft')

    @classmethod
    def lock_in(cls, requests, states):
        """Lock requests and refuse those no longer in states: of two users
        acting at once, the second waits for the first and is told"""
        lock_rows(cls, requests)
        cls.check_state(requests, states, 'msg_change_request_not_pending')

    @classmethod
    def set_state(cls, requests, state, **values):
        "Write state on requests with who and when, and log it"
        values.setdefault(f'{state}_at', dt.datetime.now())
        if state != 'requested':
            # The requester is who requested.
            values.setdefault(f'{state}_by', Transaction().user)
        with without_check_access():
            cls.write(requests, {'state': state, **values})
            cls.log(requests, 'transition', f'state:{state}')

    @classmethod
    @ModelView.button
    def submit(cls, requests):
        "Capture the values before and after and send the request (S2.7)"
        cls.lock_in(requests, ['draft'])
        for request in requests:
            request.check_record()
            if not (request.reason or '').strip():
                raise ChangeRequestError(
                    gettext(
                        'lieye_sales_site.msg_change_request_reason_required',
                        request=request.rec_name,
                    )
                )
            if not request.lines:
                raise ChangeRequestError(
                    gettext(
                        'lieye_sales_site.msg_change_request_no_lines',
                        request=request.rec_name,
                    )
                )
            request.capture()
        cls.set_state(requests, 'requested')

    def capture(self):
        "Store each line's value before and after, converted and checked"
        pool = Pool()
        Line = pool.get('lieye.change.request.line')
        Model = self.record.__class__
        seen = set()
        to_write = []
        with without_check_access():
            record = Model(self.record.id)
            for line in self.lines:
                target = line.field or line.question
                if target in seen:
                    raise ChangeRequestError(
                        line.message(
                            'msg_change_request_field_twice',
                            'msg_change_request_question_twice',
                        )
                    )
                seen.add(target)
                # The questionnaire may have changed since the draft.
                Line.check_target(self, line.field, line.question)
                new = line.parse_new_value(record)
                old = line.current_value(record)
                if line.same(old, line.data_of(new)):
                    raise ChangeRequestError(
                        line.message(
                            'msg_change_request_value_unchanged',
                            'msg_change_request_answer_unchanged',
                        )
                    )
                to_write.extend(
                    (
                        [line],
                        {
                            'old_value': line.text_of(record, old),
                            'old_data': line.data_of(old),
                            'new_value': line.text_of(record, new),
                            'new_data': line.data_of(new),
                            'sensitive': line.on_change_with_sensitive(),
                        },
                    )
                )
            Line.write(*to_write)

    @classmethod
    @ModelView.button
    def approve(cls, requests):
        "The sales manager's approval of sensitive changes (S15)"
        cls.lock_in(requests, ['requested'])
        for request in requests:
            if not request.sensitive:
                raise ChangeRequestError(
                    gettext(
                        'lieye_sales_site.msg_change_request_approval_not_needed',
                        request=request.rec_name,
                    )
                )
        cls.set_state(requests, 'approved')

    @classmethod
    def may_approve(cls):
        "Whether the user may approve sensitive changes (the approve button's)"
        pool = Pool()
        Button = pool.get('ir.model.button')
        User = pool.get('res.user')
        # Buttons run without access checks: ask for the user's groups.
        if not Transaction().user:
            return True
        groups = Button.get_groups(cls.__name__, 'approve')
        return not groups or bool(groups & set(User.get_groups()))

    @classmethod
    @ModelView.button
    def apply(cls, requests):
        """Write the new values on the records (S6, S15); a sensitive request
        applied by who may approve it is approved with it"""
        cls.lock_in(requests, PENDING)
        may_approve = cls.may_approve()
        for request in requests:
            if request.sensitive and request.state != 'approved' and not may_approve:
                raise ChangeRequestError(
                    gettext(
                        'lieye_sales_site.msg_change_request_approval_required',
                        request=request.rec_name,
                        fields='、'.join(
                            line.rec_name for line in request.lines if line.sensitive
                        ),
                    )
                )
        for request in requests:
            request.write_record()
        approved = [r for r in requests if r.sensitive and r.state == 'requested']
        if approved:
            cls.set_state(approved, 'approved')
        cls.set_state(requests, 'applied')
        for request in requests:
            cls.notify_requester(
                request,
                'tryton-ok',
                'lieye_sales_site.msg_change_request_applied_notification',
            )

    def write_record(self):
        """Write the new values on the locked record if it still holds the
        old ones"""
        Model = self.record.__class__
        lock_rows(Model, [self.record])
        with without_check_access():
            record = Model(self.record.id)
            values = {}
            answers = {}
            for line in self.lines:
                current = line.current_value(record)
                if not line.same(current, line.old_data):
                    raise ChangeRequestError(
                        line.message(
                            'msg_change_request_stale',
                            'msg_change_request_answer_stale',
                            request=self.rec_name,
                            old=line.old_value or '',
                            current=line.text_of(record, current) or '',
                        )
                    )
                new = line.value_of(line.new_data)
                if line.question:
                    answers[line.question.name] = new
                else:
                    values[line.field.name] = new
            if answers:
                # R: S2.7 the other answers stay; a cleared one is removed.
                values['answer_data'] = Model.stored_answers(
                    {**(record.answer_data or {}), **answers}
                )
            # The locks of submitted records let this write through (S2.7);
            # the record's history and log keep it (S2.9, B3).
            with Transaction().set_context(_change_request=self.id, _log=True):
                Model.write([record], values)

    @classmethod
    @ModelView.button_action('lieye_sales_site.wizard_change_request_reject')
    def reject(cls, requests):
        pass

    @classmethod
    def handle_rejection(cls, requests, reason):
        reason = (reason or '').strip()
        if not reason:
            raise ChangeRequestError(
                gettext('lieye_sales_site.msg_change_request_rejection_reason')
            )
        cls.lock_in(requests, PENDING)
        cls.set_state(requests, 'rejected', rejection_reason=reason)
        for request in requests:
            cls.notify_requester(
                request,
                'tryton-back',
                'lieye_sales_site.msg_change_request_rejected_notification',
                description=reason[:200],
            )

    @classmethod
    @ModelView.button
    def cancel(cls, requests):
        "The requester withdraws a request not yet handled"
        cls.lock_in(requests, ['draft', *PENDING])
        user = Transaction().user
        for request in requests:
            if user and request.requester.id != user:
                raise ChangeRequestError(
                    gettext(
                        'lieye_sales_site.msg_change_request_cancel_requester',
                        request=request.rec_name,
                        requester=request.requester.rec_name,
                    )
                )
        cls.set_state(requests, 'cancelled')

    @classmethod
    def notify_requester(cls, request, icon, label, description=None):
        "Tell the requester what became of request, with the message label"
        requester = request.requester
        if requester.id != Transaction().user:
            with recipient_language(requester):
                notify(
                    requester,
                    icon,
                    gettext(label, request=request.rec_name),
                    description=description,
                    records=[request],
                )


class ChangeRequestLine(ValueTypeMixin, ModelSQL, ModelView):
    "Change request line (变更明细)"

    __name__ = 'lieye.change.request.line'

    request = fields.Many2One(
        'lieye.change.request',
        "Change Request",
        required=True,
        ondelete='CASCADE',
    )
    field = fields.Many2One(
        'ir.model.field',
        "Field",
        ondelete='RESTRICT',
        domain=[('id', 'in', Eval('_parent_request', {}).get('changeable_fields', []))],
        states={
            'required': ~Eval('question'),
            'invisible': Bool(Eval('question')),
        },
    )
    # R: S2.7 a registration's questionnaire answer changes by a line of its
    # own: the answers are kept in one dictionary field, not one field each.
    question = fields.Many2One(
        'lieye.question',
        "Question",
        ondelete='RESTRICT',
        domain=[
            (
                'id',
                'in',
                Eval('_parent_request', {}).get('changeable_questions', []),
            )
        ],
        states={'invisible': Bool(Eval('field'))},
        help="The questionnaire question whose answer changes, instead of a field.",
    )
    old_value = fields.Text(
        "Before", readonly=True, help="The value when the request was sent."
    )
    new_value = fields.Text(
        "After",
        help="Type the new value: a date as YYYY-MM-DD, a choice or a "
        "dictionary value by its label (several choices separated by 、), "
        "yes or no; leave it empty to clear the value.",
    )
    old_data = fields.Char("Stored Value Before", readonly=True)
    new_data = fields.Char("Stored Value After", readonly=True)
    sensitive = fields.Boolean(
        "Sensitive", readonly=True, help="Needs the sales manager's approval."
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Whoever reads or edits the request does so with its lines.
        cls.__access__.add('request')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.request, Index.Equality())))
        cls._order = [('request', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        target = self.field or self.question
        return target.rec_name if target else ''

    @fields.depends('field', 'question')
    def on_change_with_sensitive(self):
        if self.question:
            return is_answer_sensitive(self.question)
        if self.field:
            return is_sensitive(self.field.model, self.field.name)
        return False

    @fields.depends(
        'field',
        'question',
        'request',
        '_parent_request.record',
        '_parent_request.project',
    )
    def on_change_field(self):
        "Show the current value while the request is a draft"
        self.old_value = None
        if (self.field or self.question) and self.request and self.request.record:
            record = self.request.record
            if self.question or self.field.name in record.__class__._fields:
                self.old_value = self.text_of(record, self.current_value(record))

    @fields.depends(methods=['on_change_field'])
    def on_change_question(self):
        self.on_change_field()

    @property
    def value_type(self):
        "The type of the line's field or question"
        if self.question:
            return self.question.type_
        return Pool().get(self.field.model)._fields[self.field.name]._type

    def current_value(self, record):
        "Return the value of the line's field or answer on record"
        if self.question:
            return (record.answer_data or {}).get(self.question.name)
        return getattr(record, self.field.name)

    def parse_new_value(self, record):
        "Return the new value typed as text, converted and checked for record"
        project = self.request.project
        if self.question:
            return parse_answer(self.question, self.new_value, project)
        Model = record.__class__
        name = self.field.name
        value = parse_value(Model, name, self.new_value, project)
        # The record's own normalisation and checks (phone, ID number).
        return Model.preprocess_values('write', {name: value})[name]

    def text_of(self, record, value):
        "Return value of the line's field or answer on record as the user reads it"
        if self.question:
            return answer_text(self.question, value, self.request.project)
        return value_text(record.__class__, self.field.name, value)

    def data_of(self, value):
        "Return value as the text stored on the line"
        if self.question and value is None:
            # No answer, which is not a no.
            return None
        return value_data(self.value_type, value)

    def value_of(self, data):
        "Return the value stored as text on the line"
        if self.question and data is None:
            return None
        return data_value(self.value_type, data)

    def same(self, value, data):
        "Whether value is the value stored as data"
        return self.value_of(self.data_of(value)) == self.value_of(data)

    def message(self, field_message, answer_message, **values):
        "Return the message about the line's field, or the one about its answer"
        if self.question:
            return gettext(
                f'lieye_sales_site.{answer_message}',
                question=self.question.rec_name,
                **values,
            )
        return gettext(
            f'lieye_sales_site.{field_message}', field=self.field.rec_name, **values
        )

    @classmethod
    def check_target(cls, request, field, question):
        """Refuse a field the request's record may not change that way, or a
        question not of its questionnaire"""
        record = request.record
        Model = record.__class__
        if field and question:
            raise ChangeRequestError(
                gettext(
                    'lieye_sales_site.msg_change_request_field_or_question',
                    field=field.rec_name,
                    question=question.rec_name,
                )
            )
        if question:
            if question not in changeable_questions(record):
                raise ChangeRequestError(
                    gettext(
                        'lieye_sales_site.msg_change_request_question_not_asked',
                        question=question.rec_name,
                        record=record.rec_name,
                    )
                )
        elif field and (
            field.model != Model.__name__ or field.name not in changeable_fields(Model)
        ):
            raise ChangeRequestError(
                gettext(
                    'lieye_sales_site.msg_change_request_field_not_changeable',
                    field=field.rec_name,
                    model=Model.__names__()['model'],
                )
            )

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Request = pool.get('lieye.change.request')
        values = super().preprocess_values(mode, values)
        if values.get('field') is not None or values.get('question') is not None:
            line = cls(field=values.get('field'), question=values.get('question'))
            if mode == 'create' and values.get('request') is not None:
                cls.check_target(Request(values['request']), line.field, line.question)
            values['sensitive'] = line.on_change_with_sensitive()
        return values

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        pool = Pool()
        ModelField = pool.get('ir.model.field')
        Question = pool.get('lieye.question')
        Request = pool.get('lieye.change.request')
        super().check_modification(mode, lines, values=values, external=external)
        values = values or {}
        requests = {line.request for line in lines}
        if values.get('request') is not None:
            requests.add(Request(values['request']))
        if external or mode == 'delete':
            Request.check_draft(requests)
        if mode == 'write' and {'field', 'question', 'request'} & set(values):
            for line in lines:
                field = values.get('field', line.field and line.field.id)
                question = values.get('question', line.question and line.question.id)
                cls.check_target(
                    Request(values.get('request', line.request.id)),
                    ModelField(field) if field is not None else None,
                    Question(question) if question is not None else None,
                )


class RejectStart(ModelView):
    "Reject change requests"

    __name__ = 'lieye.change.request.reject.start'

    reason = fields.Text(
        "Reason",
        required=True,
        help="Why the change is refused; the requester sees it.",
    )


class Reject(Wizard):
    "Reject change requests (驳回)"

    __name__ = 'lieye.change.request.reject'

    start = StateView(
        'lieye.change.request.reject.start',
        'lieye_sales_site.change_request_reject_start_view_form',
        [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reject", 'reject', 'tryton-back', default=True),
        ],
    )
    reject = StateTransition()

    def transition_reject(self):
        pool = Pool()
        Request = pool.get('lieye.change.request')
        # The reject button's groups and the record rules decide who may.
        with check_access():
            Request.reject(self.records)
        Request.handle_rejection(self.records, self.start.reason)
        return 'end'


class ChangeRequestMixin:
    "Start a change request from the record's form (申请修改)"

    __slots__ = ()

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({'request_change': {}})

    @classmethod
    @ModelView.button_action('lieye_sales_site.act_change_request_open')
    def request_change(cls, records):
        pool = Pool()
        Request = pool.get('lieye.change.request')
        requests = Request.create([{'record': str(r)} for r in records])
        return {'res_id': [r.id for r in requests]}


class Registration(ChangeRequestMixin, metaclass=PoolMeta):
    __name__ = 'lieye.registration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # A draft or returned entry is corrected directly.
        cls._buttons['request_change'] = {
            'invisible': Eval('state').in_(EDITABLE_STATES),
            'depends': ['state'],
        }


class Customer(ChangeRequestMixin, metaclass=PoolMeta):
    __name__ = 'lieye.customer'


class Person(ChangeRequestMixin, metaclass=PoolMeta):
    __name__ = 'lieye.customer.person'
