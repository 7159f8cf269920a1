# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql.aggregate import Max
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import FollowupError
from .model import ValueTypeMixin, rec_name_domain

METHODS = [
    ('phone', "Phone Call"),
    ('visit', "Visit"),
    ('wechat', "WeChat"),
    ('sms', "SMS"),
    ('other', "Other"),
]
RESULTS = [
    (None, ""),
    ('reached', "Reached"),
    ('not_reached', "Not Reached"),
    ('visit_booked', "Visit Booked"),
    ('lost', "Lost"),
]


class Followup(ValueTypeMixin, ModelSQL, ModelView):
    "Follow-up (回访)"

    __name__ = 'lieye.followup'
    _history = True

    customer = fields.Many2One(
        'lieye.customer', "Customer", required=True, ondelete='CASCADE'
    )
    project = fields.Many2One(
        'lieye.project', "Project", readonly=True, ondelete='RESTRICT'
    )
    consultant = fields.Many2One(
        'res.user', "Consultant", required=True, ondelete='RESTRICT'
    )
    date = fields.Date("Date", required=True)
    method = fields.Selection(METHODS, "Method", required=True, sort=False)
    content = fields.Text("Content", required=True)
    next_date = fields.Date("Next Follow-up", help="When to contact the customer next.")
    result = fields.Selection(RESULTS, "Result", sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # S2.8: who may read or write the customer may do so with its follow-ups.
        cls.__access__.add('customer')
        t = cls.__table__()
        cls._sql_indexes.update(
            {
                Index(t, (t.customer, Index.Equality()), (t.date, Index.Range())),
                Index(
                    t,
                    (t.project, Index.Equality()),
                    (t.consultant, Index.Equality()),
                    (t.date, Index.Range()),
                ),
            }
        )
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_consultant(cls):
        return Transaction().user or None

    @classmethod
    def default_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today()

    @classmethod
    def default_method(cls):
        return 'phone'

    @fields.depends('customer', '_parent_customer.project')
    def on_change_customer(self):
        if self.customer:
            self.project = self.customer.project

    def get_rec_name(self, name):
        return f'{self.customer.rec_name} · {self.date}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return rec_name_domain(clause, 'customer.rec_name')

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        values = super().preprocess_values(mode, values)
        # The project is always the customer's, never the client's.
        values.pop('project', None)
        if values.get('customer') is not None:
            values['project'] = Customer(values['customer']).project.id
        return values

    @classmethod
    def validate_fields(cls, followups, field_names):
        super().validate_fields(followups, field_names)
        if field_names & {'date', 'next_date'}:
            cls.check_dates(followups)

    @classmethod
    def check_dates(cls, followups):
        "Refuse follow-ups dated in the future or planned before they happened"
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        for followup in followups:
            if followup.date > today:
                raise FollowupError(
                    gettext(
                        'lieye_sales_site.msg_followup_future',
                        followup=followup.rec_name,
                        date=followup.date,
                    )
                )
            if followup.next_date and followup.next_date < followup.date:
                raise FollowupError(
                    gettext(
                        'lieye_sales_site.msg_followup_next_date',
                        followup=followup.rec_name,
                        next_date=followup.next_date,
                        date=followup.date,
                    )
                )

    @classmethod
    def on_write(cls, followups, values):
        callbacks = super().on_write(followups, values)
        if 'customer' in values:
            # The customers losing a follow-up are known only before the write.
            customers = {f.customer for f in followups}
            callbacks.append(lambda: cls.update_last_followup_date(customers))
        return callbacks

    @classmethod
    def on_modification(cls, mode, followups, field_names=None):
        super().on_modification(mode, followups, field_names=field_names)
        if mode == 'write' and not (set(field_names or ()) & {'customer', 'date'}):
            return
        # Deleted follow-ups are still in the table when this is called.
        cls.update_last_followup_date(
            {f.customer for f in followups},
            exclude=followups if mode == 'delete' else (),
        )

    @classmethod
    def update_last_followup_date(cls, customers, exclude=()):
        "Set the last follow-up date of customers from their follow-ups"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        followup = cls.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        # Customers being deleted take their follow-ups with them.
        deleted = transaction.delete_records.get(Customer.__name__, set())
        customers = Customer.browse({c.id for c in customers} - deleted)
        excluded = [f.id for f in exclude]
        last_dates = {}
        for sub_customers in grouped_slice(customers, backend.MAX_QUERY_PARAMS):
            where = fields.SQL_OPERATORS['in'](
                followup.customer, [c.id for c in sub_customers]
            )
            if excluded:
                where &= fields.SQL_OPERATORS['not in'](followup.id, excluded)
            cursor.execute(
                *followup.select(
                    followup.customer,
                    Max(followup.date),
                    where=where,
                    group_by=[followup.customer],
                )
            )
            for customer, date in cursor:
                # SQLite returns the maximum of a date column as text.
                if isinstance(date, str):
                    date = dt.date.fromisoformat(date)
                last_dates[customer] = date
        to_write = defaultdict(list)
        for customer in customers:
            date = last_dates.get(customer.id)
            if customer.last_followup_date != date:
                to_write[date].append(customer)
        if to_write:
            with without_check_access():
                Customer.write(
                    *(
                        x
                        for date, records in to_write.items()
                        for x in (records, {'last_followup_date': date})
                    )
                )
