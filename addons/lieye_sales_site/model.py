# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext

from .exceptions import ValueTypeError


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
