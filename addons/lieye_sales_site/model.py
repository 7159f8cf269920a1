# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from sql import Column, For
from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import DomainValidationError
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import ValueTypeError


def lock_rows(Model, records):
    """Wait until no other transaction changes records, then keep them

    ModelSQL.lock gives up after a fraction of a second with a server error
    while the rows are taken; the second of two users acting on one record
    must rather wait for the first to end and be told what happened.
    PostgreSQL then refuses the waiting transaction, whose snapshot is older
    than the first change, and the request is run again and reads the new
    state. SQLite runs one writing transaction at a time."""
    transaction = Transaction()
    if not transaction.database.has_select_for():
        return
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    for sub_ids in grouped_slice([r.id for r in records], backend.MAX_QUERY_PARAMS):
        cursor.execute(
            *table.select(
                table.id,
                where=fields.SQL_OPERATORS['in'](table.id, sub_ids),
                for_=For('UPDATE'),
            )
        )


def _is_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, Decimal)):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return True
    return False


def _is_temporal(kind):
    "Return a check for a value of kind (date or datetime) or its ISO text"

    def check(value):
        if isinstance(value, str):
            try:
                kind.fromisoformat(value)
            except ValueError:
                return False
            return True
        if kind is dt.date:
            return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return isinstance(value, dt.datetime)

    return check


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


VALID = {
    'char': lambda v: isinstance(v, str),
    'text': lambda v: isinstance(v, str),
    'selection': lambda v: isinstance(v, str),
    'multiselection': lambda v: (
        isinstance(v, (list, tuple)) and all(isinstance(i, str) for i in v)
    ),
    'boolean': lambda v: isinstance(v, bool),
    'integer': _is_id,
    'float': _is_number,
    'numeric': _is_number,
    'date': _is_temporal(dt.date),
    'datetime': _is_temporal(dt.datetime),
    'timestamp': _is_temporal(dt.datetime),
    'many2one': _is_id,
    'one2many': lambda v: isinstance(v, (list, tuple)),
    'many2many': lambda v: isinstance(v, (list, tuple)),
    'dict': lambda v: isinstance(v, dict),
}


def rec_name_domain(clause, *names):
    "Return the domain searching the rec_name clause on each of names"
    _, operator, operand, *extra = clause
    bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
    return [bool_op, *((name, operator, operand, *extra) for name in names)]


def step_fields(step, help=""):
    """Return the fields of who took a workflow step and when (the user and
    timestamp fields of WorkflowStepMixin._steps)"""
    return (
        fields.Many2One('res.user', f"{step} By", readonly=True, help=help),
        fields.Timestamp(f"{step} At", readonly=True),
    )


class WorkflowStepMixin:
    """Stamp who took each step of a Workflow and when

    _steps maps a state onto the user and timestamp fields of the step that
    leads to it: the write moving a record to the state fills them. Only the
    workflow writes them and the state: a record is created in its first
    state without stamps whatever the client sends, and a copy starts
    again."""

    __slots__ = ()
    _steps = {}

    @classmethod
    def workflow_fields(cls):
        "Return the names of the fields only the workflow writes"
        return {
            cls._transition_state,
            *(f for step in cls._steps.values() for f in step),
        }

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            for name in cls.workflow_fields():
                values.pop(name, None)
        elif values.get(cls._transition_state) in cls._steps:
            user, timestamp = cls._steps[values[cls._transition_state]]
            values.setdefault(user, Transaction().user or None)
            values.setdefault(timestamp, dt.datetime.now())
        return values

    @classmethod
    def copy(cls, records, default=None):
        default = {
            **dict.fromkeys(cls.workflow_fields() - {cls._transition_state}),
            **(default or {}),
        }
        return super().copy(records, default=default)


class ValueTypeMixin:
    """Refuse values of the wrong type with a translated message

    Values sent over RPC reach the ORM as they are: a string for a date or a
    list for a dictionary would otherwise end in a Python error instead of a
    message the user can act on."""

    __slots__ = ()

    @classmethod
    def preprocess_values(cls, mode, values):
        for name, value in values.items():
            field = cls._fields.get(name)
            if field is None or value is None:
                continue
            valid = VALID.get(field._type)
            if valid and not valid(value):
                raise ValueTypeError(
                    gettext(
                        'lieye_sales_site.msg_value_type',
                        field=cls.fields_get([name])[name]['string'],
                        value=str(value)[:50],
                    )
                )
        return super().preprocess_values(mode, values)


class ProjectMany2One(fields.Many2One):
    """Many2One to a record of the record's project, with fixed values
    (`where`, as the category of a dictionary value)

    The client gets this as the field's domain. The server does not search
    it once per field: ProjectLinkMixin checks every such field of the
    records with one query per target model."""

    def __init__(self, model_name, string, where=None, **kwargs):
        assert 'domain' not in kwargs, "the project scope is the only domain"
        self.where = dict(where or {})
        kwargs['depends'] = {'project', *kwargs.get('depends', ())}
        super().__init__(model_name, string, **kwargs)

    def scope_domain(self, project):
        return [
            *((name, '=', value) for name, value in self.where.items()),
            ('project', '=', project),
        ]

    def definition(self, model, language):
        definition = super().definition(model, language)
        definition['domain'] = PYSONEncoder().encode(
            self.scope_domain(Eval('project', -1))
        )
        return definition


class ProjectLinkMixin:
    "Refuse ProjectMany2One values outside the project scope"

    __slots__ = ()

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        cls.check_project_links(records, field_names)

    @classmethod
    def check_project_links(cls, records, field_names):
        """Raise the error of Tryton's domain validation for a link to a
        record of another project or with other fixed values; links are
        checked when they or the project change, inactive targets included,
        as Tryton does"""
        pool = Pool()
        cursor = Transaction().connection.cursor()
        checked = [
            field
            for name, field in cls._fields.items()
            if isinstance(field, ProjectMany2One)
            and (name in field_names or 'project' in field_names)
        ]
        if not checked:
            return
        # The stored ids are enough: loading each link as a record would
        # cost more than the check.
        table = cls.__table__()
        cursor.execute(
            *table.select(
                table.id,
                table.project,
                *(Column(table, f.name) for f in checked),
                where=fields.SQL_OPERATORS['in'](table.id, [r.id for r in records]),
            )
        )
        rows = cursor.fetchall()
        targets = defaultdict(set)
        for _, _, *link_ids in rows:
            for field, link_id in zip(checked, link_ids):
                if link_id is not None:
                    targets[field.model_name].add(link_id)
        found = {}
        for model_name, ids in targets.items():
            target = pool.get(model_name).__table__()
            columns = [
                'project',
                *sorted(
                    {c for f in checked if f.model_name == model_name for c in f.where}
                ),
            ]
            cursor.execute(
                *target.select(
                    target.id,
                    *(Column(target, c) for c in columns),
                    where=fields.SQL_OPERATORS['in'](target.id, list(ids)),
                )
            )
            found.update(
                ((model_name, id_), dict(zip(columns, values)))
                for id_, *values in cursor
            )
        for record_id, project, *link_ids in rows:
            for field, link_id in zip(checked, link_ids):
                if link_id is None:
                    continue
                expected = dict(field.where, project=project)
                values = found.get((field.model_name, link_id))
                if values is None or any(values[k] != v for k, v in expected.items()):
                    Target = pool.get(field.model_name)
                    raise DomainValidationError(
                        gettext(
                            'ir.msg_domain_validation_record',
                            **cls.__names__(field.name, cls(record_id)),
                        ),
                        domain=(
                            field.scope_domain(project),
                            Target.fields_get(list(expected)),
                        ),
                    )
