# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.model.exceptions import AccessError
from trytond.model.modelstorage import RequiredValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    with_transaction,
)
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import FollowupError
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    new_customer,
    new_user,
    setup_project,
)


class FollowupTestCase(SalesSiteTestCase):
    "Test follow-ups (S3.1, S3.3)"

    def new_followup(self, customer, date, **values):
        pool = Pool()
        Followup = pool.get('lieye.followup')
        (followup,) = Followup.create(
            [
                dict(
                    {
                        'customer': customer.id,
                        'consultant': customer.owner.id,
                        'date': date,
                        'method': 'phone',
                        'content': '电话回访，客户考虑中。',
                    },
                    **values,
                )
            ]
        )
        return followup

    @with_transaction()
    def test_project_from_customer(self):
        "A follow-up takes its project from its customer"
        # R: S3.1
        pool = Pool()
        Followup = pool.get('lieye.followup')
        project, consultant, _ = setup_project(consultants=2)
        customer = new_customer(project, consultant)
        today = pool.get('ir.date').today()
        followup = self.new_followup(customer, today)
        self.assertEqual(followup.project, project)
        self.assertEqual(followup.rec_name, f'{customer.rec_name} · {today}')
        self.assertEqual(Followup.search([('rec_name', 'ilike', '%张三%')]), [followup])

        # The project sent by a client is overwritten.
        (other,) = pool.get('lieye.project').create([{'code': 'P2', 'name': 'P2'}])
        Followup.write([followup], {'project': other.id})
        self.assertEqual(followup.project, project)
        Followup.write([followup], {'project': other.id, 'customer': customer.id})
        self.assertEqual(followup.project, project)

    @with_transaction()
    def test_defaults(self):
        "A new follow-up is a phone call of today by the current user"
        pool = Pool()
        Followup = pool.get('lieye.followup')
        _, consultant, _ = setup_project(consultants=2)
        with Transaction().set_user(consultant.id):
            defaults = Followup.default_get(
                ['consultant', 'date', 'method'], with_rec_name=False
            )
        self.assertEqual(
            defaults,
            {
                'consultant': consultant.id,
                'date': pool.get('ir.date').today(),
                'method': 'phone',
            },
        )

    @with_transaction()
    def test_last_followup_date(self):
        "The customer's last follow-up date is the latest of its follow-ups"
        # R: S3.1
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Followup = pool.get('lieye.followup')
        project, consultant, _ = setup_project(consultants=2)
        customer = new_customer(project, consultant)
        other = new_customer(project, consultant, phone='13900139000')
        today = pool.get('ir.date').today()
        days = dt.timedelta(days=1)

        def last_date(customer):
            return Customer(customer.id).last_followup_date

        self.assertIsNone(last_date(customer))
        older = self.new_followup(customer, today - 10 * days)
        self.assertEqual(last_date(customer), today - 10 * days)
        newer = self.new_followup(customer, today - 3 * days)
        self.assertEqual(last_date(customer), today - 3 * days)
        # An older follow-up entered late does not move the date back.
        self.new_followup(customer, today - 20 * days)
        self.assertEqual(last_date(customer), today - 3 * days)

        Followup.write([older], {'date': today - days})
        self.assertEqual(last_date(customer), today - days)
        Followup.write([older], {'date': today - 30 * days})
        self.assertEqual(last_date(customer), today - 3 * days)

        # Moving a follow-up updates both customers.
        Followup.write([newer], {'customer': other.id})
        self.assertEqual(last_date(customer), today - 20 * days)
        self.assertEqual(last_date(other), today - 3 * days)
        self.assertEqual(newer.project, project)

        Followup.delete(Followup.search([('customer', '=', customer.id)], limit=1))
        self.assertEqual(last_date(customer), today - 30 * days)
        Followup.delete(Followup.search([('customer', '=', customer.id)]))
        self.assertIsNone(last_date(customer))
        self.assertEqual(last_date(other), today - 3 * days)

        # Deleting a customer deletes its follow-ups.
        Customer.delete([other])
        self.assertEqual(Followup.search([('id', '=', newer.id)]), [])

    @with_transaction()
    def test_dates_checked(self):
        "A follow-up cannot be in the future nor plan the next one before it"
        # R: S3.1
        pool = Pool()
        Followup = pool.get('lieye.followup')
        project, consultant, _ = setup_project(consultants=2)
        customer = new_customer(project, consultant)
        today = pool.get('ir.date').today()
        days = dt.timedelta(days=1)

        with self.assertRaises(FollowupError) as cm:
            self.new_followup(customer, today + days)
        self.assertIn(str(today + days), str(cm.exception))
        with self.assertRaises(FollowupError) as cm:
            self.new_followup(customer, today - days, next_date=today - 2 * days)
        self.assertIn(str(today - 2 * days), str(cm.exception))

        followup = self.new_followup(customer, today - days, next_date=today - days)
        followup = self.new_followup(customer, today, next_date=today + 7 * days)
        with self.assertRaises(FollowupError):
            Followup.write([followup], {'date': today + 8 * days})
        with self.assertRaises(FollowupError):
            Followup.write([followup], {'next_date': today - days})

    @with_transaction()
    def test_content_required(self):
        "A follow-up without its content is refused, naming the field"
        # R: S3.1
        pool = Pool()
        project, consultant, _ = setup_project(consultants=2)
        customer = new_customer(project, consultant)
        today = pool.get('ir.date').today()
        # None last: PostgreSQL refuses it by the column's NOT NULL, which
        # aborts the transaction.
        for content in ['', None]:
            with self.assertRaises(RequiredValidationError) as cm:
                self.new_followup(customer, today, content=content)
            self.assertIn('Content', str(cm.exception))

    @with_transaction()
    def test_owner_only(self):
        "Consultants read and write the follow-ups of their own customers only"
        # R: S2.8, S3.3
        pool = Pool()
        Followup = pool.get('lieye.followup')
        project, consultant1, consultant2 = setup_project(consultants=2)
        customer1 = new_customer(project, consultant1)
        customer2 = new_customer(project, consultant2, phone='13900139000')
        today = pool.get('ir.date').today()
        followup1 = self.new_followup(customer1, today)
        followup2 = self.new_followup(customer2, today)

        with (
            Transaction().set_context(_check_access=True),
            Transaction().set_user(consultant2.id),
        ):
            self.assertEqual(Followup.search([]), [followup2])
            with self.assertRaises(AccessError):
                Followup.read([followup1.id], ['content'])
            with self.assertRaises(AccessError):
                Followup.write([Followup(followup1.id)], {'content': '改'})
            with self.assertRaises(AccessError):
                Followup.create(
                    [
                        {
                            'customer': customer1.id,
                            'date': today,
                            'content': '冒名回访',
                        }
                    ]
                )
            Followup.write([Followup(followup2.id)], {'result': 'reached'})
            (own,) = Followup.create(
                [{'customer': customer2.id, 'date': today, 'content': '再次回访'}]
            )
            self.assertEqual(own.consultant.id, consultant2.id)

    @with_transaction()
    def test_delete_by_role(self):
        "Consultants cannot delete follow-ups; secretaries can"
        # R: S3.3
        pool = Pool()
        Followup = pool.get('lieye.followup')
        Member = pool.get('lieye.project.member')
        project, consultant, _ = setup_project(consultants=2)
        secretary = new_user('s1', 'group_secretary')
        Member.create(
            [{'project': project.id, 'user': secretary.id, 'role': 'secretary'}]
        )
        customer = new_customer(project, consultant)
        followup = self.new_followup(customer, pool.get('ir.date').today())

        with Transaction().set_context(_check_access=True):
            with Transaction().set_user(consultant.id):
                with self.assertRaises(AccessError):
                    Followup.delete([Followup(followup.id)])
            with Transaction().set_user(secretary.id):
                Followup.delete([Followup(followup.id)])
        self.assertEqual(Followup.search([('id', '=', followup.id)]), [])
