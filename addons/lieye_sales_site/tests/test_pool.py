# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import (
    ClaimError,
    DuplicateCustomerError,
    OwnershipError,
    PolicyLockedError,
    SubmissionError,
)
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    add_member,
    as_user,
    dictionary,
    new_customer,
    new_registration,
    new_user,
    notifications,
    setup_project,
)

DAY = dt.timedelta(days=1)


def today():
    return Pool().get('ir.date').today()


def reload(customer):
    return Pool().get('lieye.customer')(customer.id)


def set_assigned(customer, days_ago):
    "Pretend the owner got the customer days_ago days ago"
    Customer = Pool().get('lieye.customer')
    Customer.write([customer], {'assigned_date': today() - days_ago * DAY})
    return reload(customer)


def new_followup(customer, days_ago):
    Followup = Pool().get('lieye.followup')
    (followup,) = Followup.create(
        [
            {
                'customer': customer.id,
                'consultant': customer.owner.id,
                'date': today() - days_ago * DAY,
                'method': 'phone',
                'content': '电话回访。',
            }
        ]
    )
    return followup


def new_policy(project, **days):
    Policy = Pool().get('lieye.project.policy')
    (policy,) = Policy.create([dict({'project': project.id}, **days)])
    return policy


def approve(policy):
    Policy = Pool().get('lieye.project.policy')
    Policy.submit([policy])
    Policy.approve([policy])
    return Policy(policy.id)


class PoolTestCase(SalesSiteTestCase):
    "Test the public pool: policies, deadlines, daily update and claims (S8, B5)"

    @with_transaction()
    def test_default_deadlines(self):
        "Without an approved policy the default days apply, by stage"
        # R: S8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project, consultant = setup_project()
        customer = new_customer(project, consultant)
        self.assertEqual(customer.assigned_date, today())
        self.assertEqual(customer.pool_deadline, today() + 15 * DAY)
        self.assertFalse(customer.in_pool)

        customer = set_assigned(customer, 40)
        self.assertEqual(customer.pool_deadline, today() - 25 * DAY)
        for stage, days in [
            ('walk_in', 7),
            ('qualified', 45),
            ('card_holder', 60),
            ('subscribed', None),
            ('signed', None),
        ]:
            Customer.write([customer], {'stage': stage})
            deadline = reload(customer).pool_deadline
            if days is None:
                self.assertIsNone(deadline, stage)
            else:
                self.assertEqual(deadline, today() - (40 - days) * DAY, stage)

    @with_transaction()
    def test_deadline_follows_every_path(self):
        "Follow-ups, stage, assignment, claim and transfer move the deadline"
        # R: S8, B5
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Followup = pool.get('lieye.followup')
        project, consultant1, consultant2 = setup_project(consultants=2)
        customer = set_assigned(new_customer(project, consultant1), 40)
        self.assertEqual(customer.pool_deadline, today() - 25 * DAY)

        # A follow-up counts from its date, with the days of followed ones.
        followup = new_followup(customer, 2)
        self.assertEqual(reload(customer).pool_deadline, today() + 28 * DAY)
        Followup.write([followup], {'date': today() - 5 * DAY})
        self.assertEqual(reload(customer).pool_deadline, today() + 25 * DAY)
        Followup.delete([followup])
        self.assertEqual(reload(customer).pool_deadline, today() - 25 * DAY)

        Customer.write([customer], {'stage': 'walk_in'})
        self.assertEqual(reload(customer).pool_deadline, today() - 33 * DAY)

        Customer.assign([reload(customer)], consultant2)
        customer = reload(customer)
        self.assertEqual(customer.owner, consultant2)
        self.assertEqual(customer.assigned_date, today())
        self.assertEqual(customer.pool_deadline, today() + 7 * DAY)

        customer = set_assigned(customer, 10)
        Customer.move_to_pool([customer])
        customer = reload(customer)
        self.assertIsNone(customer.pool_deadline)
        with Transaction().set_user(consultant1.id):
            Customer.claim([customer])
        customer = reload(customer)
        self.assertEqual(customer.owner, consultant1)
        self.assertEqual(customer.pool_deadline, today() + 7 * DAY)

        customer = set_assigned(customer, 10)
        Customer.set_owners([(customer, consultant2)], kind='transfer')
        self.assertEqual(reload(customer).pool_deadline, today() + 7 * DAY)

        # Later paths (import, merge) call the recomputation themselves.
        Customer.write([customer], {'pool_deadline': None})
        Customer.update_pool_deadline([customer])
        self.assertEqual(reload(customer).pool_deadline, today() + 7 * DAY)

    @with_transaction()
    def test_deadline_from_approved_entries(self):
        "An approved visit or call is a contact: it moves the deadline"
        # R: S8, S9, B5
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        customer = set_assigned(new_customer(project, consultant), 40)
        first = new_registration(customer, stage='call', date=today() - 30 * DAY)
        Registration.submit([first])
        # A submitted entry does not count before its approval.
        self.assertEqual(reload(customer).pool_deadline, today() - 25 * DAY)
        Registration.approve([first])
        customer = reload(customer)
        self.assertEqual(customer.last_entry_date, today() - 30 * DAY)
        self.assertEqual(customer.pool_deadline, today() - 15 * DAY)

        # The walk-in two weeks after the call counts from its own date.
        visit = new_registration(
            customer,
            date=today() - 2 * DAY,
            residence_district=dictionary(project, 'district', 'local_core').id,
            purpose=dictionary(project, 'purpose', 'own_use').id,
        )
        Registration.submit([visit])
        Registration.approve([visit])
        customer = reload(customer)
        self.assertEqual(customer.stage, 'walk_in')
        self.assertEqual(customer.first_contact_date, today() - 30 * DAY)
        self.assertEqual(customer.last_entry_date, today() - 2 * DAY)
        self.assertEqual(customer.pool_deadline, today() + 5 * DAY)

    @with_transaction()
    def test_last_entry_date_migration(self):
        """A database from before the last entry date gets it from its
        approved entries when the module is updated, and only then"""
        # R: S8, B5
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        customer = new_customer(project, consultant)
        call = new_registration(customer, stage='call', date=today() - 30 * DAY)
        Registration.submit([call])
        Registration.approve([call])

        Customer.__table_handler__().drop_column('last_entry_date')
        Customer.__register__('lieye_sales_site')
        self.assertEqual(reload(customer).last_entry_date, today() - 30 * DAY)

        # Once the column is there, an update leaves its values alone.
        Customer.write([customer], {'last_entry_date': None})
        Customer.__register__('lieye_sales_site')
        self.assertIsNone(reload(customer).last_entry_date)

    @with_transaction()
    def test_policy_approval(self):
        """The site manager submits a policy, the project director approves
        it; the last approved rules and moves the deadlines"""
        # R: S8
        pool = Pool()
        Policy = pool.get('lieye.project.policy')
        project, consultant = setup_project()
        manager = add_member(
            project, new_user('manager', 'group_sales_manager'), 'sales_manager'
        )
        director = add_member(
            project, new_user('director', 'group_project_manager'), 'project_manager'
        )
        secretary = add_member(
            project, new_user('secretary', 'group_secretary'), 'secretary'
        )
        customer = set_assigned(new_customer(project, consultant), 10)
        self.assertEqual(customer.pool_deadline, today() + 5 * DAY)

        with as_user(manager):
            (policy,) = Policy.create(
                [{'project': project.id, 'call_days': 20, 'state': 'approved'}]
            )
            self.assertEqual(policy.state, 'draft')
            Policy.write([policy], {'walk_in_days': 10})
            with self.assertRaises(PolicyLockedError):
                Policy.write([policy], {'state': 'approved'})
            Policy.submit([policy])
            self.assertEqual(Policy(policy.id).submitted_by, manager)
            with self.assertRaises(PolicyLockedError):
                Policy.write([Policy(policy.id)], {'call_days': 30})
            with self.assertRaises(AccessButtonError):
                Policy.approve([Policy(policy.id)])
        with as_user(secretary):
            with self.assertRaises(AccessButtonError):
                Policy.approve([Policy(policy.id)])
        # Still the default days until the director approves.
        self.assertEqual(reload(customer).pool_deadline, today() + 5 * DAY)
        with as_user(director):
            Policy.approve([Policy(policy.id)])
        policy = Policy(policy.id)
        self.assertEqual((policy.state, policy.decided_by), ('approved', director))
        self.assertEqual(reload(customer).pool_deadline, today() + 10 * DAY)

        second = approve(new_policy(project, call_days=None))
        self.assertEqual(Policy(policy.id).state, 'superseded')
        self.assertEqual(second.state, 'approved')
        # Empty days: the customers of that category never go to the pool.
        self.assertIsNone(reload(customer).pool_deadline)

        rejected = new_policy(project, call_days=5)
        Policy.submit([rejected])
        Policy.reject([rejected])
        self.assertEqual(Policy(rejected.id).state, 'rejected')
        self.assertIsNone(reload(customer).pool_deadline)
        Policy.draft([rejected])
        self.assertEqual(Policy(rejected.id).state, 'draft')

    @with_transaction()
    def test_update_pool(self):
        "The daily update moves overdue customers to the pool and warns once"
        # R: S8, B5
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        project, consultant = setup_project()
        approve(new_policy(project, warning_days=3))
        overdue = set_assigned(new_customer(project, consultant), 16)
        close = set_assigned(new_customer(project, consultant, '13900139001'), 13)
        later = new_customer(project, consultant, '13900139002')
        signed = set_assigned(new_customer(project, consultant, '13900139003'), 90)
        Customer.write([signed], {'stage': 'signed'})
        self.assertEqual(overdue.pool_deadline, today() - DAY)
        self.assertEqual(close.pool_deadline, today() + 2 * DAY)

        # As the cron runs it: as root.
        with Transaction().set_user(0):
            Customer.update_pool(today())
        overdue, close, later, signed = map(reload, [overdue, close, later, signed])
        self.assertTrue(overdue.in_pool)
        self.assertIsNone(overdue.owner)
        self.assertEqual(overdue.previous_owner, consultant)
        self.assertIsNone(overdue.pool_deadline)
        for customer in [close, later, signed]:
            self.assertFalse(customer.in_pool)
            self.assertEqual(customer.owner, consultant)
        self.assertTrue(close.pool_warned)
        self.assertFalse(later.pool_warned)

        (log,) = Assignment.search([('customer', '=', overdue.id)])
        self.assertEqual(
            (log.kind, log.from_owner, log.to_owner, log.user),
            ('pool', consultant, None, None),
        )
        self.assertTrue(log.reason)
        moved, warned = notifications(consultant)
        self.assertEqual(moved.model, None)
        self.assertTrue(moved.action)
        self.assertIn(overdue.code, moved.description)
        self.assertEqual(warned.model, 'lieye.customer')
        self.assertIn(close.code, warned.description)
        self.assertNotIn(later.code, warned.description)

        # One warning only; a follow-up gives the customer a new deadline.
        Customer.update_pool(today() + DAY)
        self.assertEqual(len(notifications(consultant)), 2)
        new_followup(close, 0)
        self.assertFalse(reload(close).pool_warned)
        self.assertEqual(reload(close).pool_deadline, today() + 30 * DAY)

        Customer.update_pool(today() + 31 * DAY)
        self.assertTrue(reload(close).in_pool)
        self.assertTrue(reload(later).in_pool)
        self.assertFalse(reload(signed).in_pool)

    @with_transaction()
    def test_pool_cron_registered(self):
        "The daily update is an ir.cron task"
        # R: S8
        pool = Pool()
        Cron = pool.get('ir.cron')
        (cron,) = Cron.search([('method', '=', 'lieye.customer|update_pool')])
        self.assertEqual((cron.interval_number, cron.interval_type), (1, 'days'))
        project, consultant = setup_project()
        customer = set_assigned(new_customer(project, consultant), 30)
        with Transaction().set_context(_cron=cron.method):
            Cron.run_once([cron])
        self.assertTrue(reload(customer).in_pool)

    @with_transaction()
    def test_claim(self):
        "A consultant of the project claims a pool customer; the first wins"
        # R: S8, B5
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        project, consultant1, consultant2, consultant3 = setup_project(consultants=3)
        _, outsider = setup_project('P2')
        secretary = add_member(
            project, new_user('secretary', 'group_secretary'), 'secretary'
        )
        customer = new_customer(project, consultant1)
        Customer.move_to_pool([customer])

        for user in [outsider, secretary]:
            with Transaction().set_user(user.id):
                with self.assertRaises(ClaimError) as cm:
                    Customer.claim([reload(customer)])
                self.assertIn(project.rec_name, str(cm.exception))
        # Letting a customer lapse does not renew its protection.
        with Transaction().set_user(consultant1.id):
            with self.assertRaises(ClaimError):
                Customer.claim([reload(customer)])

        with Transaction().set_user(consultant2.id):
            Customer.claim([reload(customer)])
        customer = reload(customer)
        self.assertEqual(customer.owner, consultant2)
        self.assertFalse(customer.in_pool)
        self.assertIsNone(customer.previous_owner)
        with Transaction().set_user(consultant3.id):
            with self.assertRaises(ClaimError) as cm:
                Customer.claim([customer])
            self.assertIn(consultant2.rec_name, str(cm.exception))
        claims = Assignment.search(
            [('customer', '=', customer.id), ('kind', '=', 'claim')]
        )
        self.assertEqual(
            [(c.to_owner, c.user) for c in claims], [(consultant2, consultant2)]
        )
        # The claimer made the change: nobody is told.
        self.assertEqual(notifications(consultant2), [])

    @with_transaction()
    def test_pool_visibility(self):
        """Consultants read the pool of their projects in the pool list only,
        and change its customers only by claiming them"""
        # R: S8, S2.8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Followup = pool.get('lieye.followup')
        project, consultant1, consultant2 = setup_project(consultants=2)
        _, consultant3 = setup_project('P2')
        mine = new_customer(project, consultant2)
        pooled = new_customer(project, consultant1, '13900139001')
        unassigned = new_customer(project, consultant1, '13900139002')
        pooled_followup = new_followup(pooled, 1)
        Customer.move_to_pool([pooled])
        Customer.set_owners([(unassigned, None)])

        with as_user(consultant2):
            self.assertEqual(Customer.search([]), [mine])
            self.assertEqual(Followup.search([]), [])
        with as_user(consultant2, lieye_pool=True):
            self.assertEqual(set(Customer.search([])), {mine, pooled})
            self.assertEqual(Followup.search([]), [pooled_followup])
            with self.assertRaises(AccessError):
                Customer.write([Customer(pooled.id)], {'intent': 'high'})
            with self.assertRaises(AccessError):
                Followup.write([Followup(pooled_followup.id)], {'content': '改写'})
            with self.assertRaises(AccessError):
                Followup.create(
                    [
                        {
                            'customer': pooled.id,
                            'date': today(),
                            'method': 'phone',
                            'content': '未认领先跟进。',
                        }
                    ]
                )
        with as_user(consultant3, lieye_pool=True):
            self.assertEqual(Customer.search([]), [])
            self.assertEqual(Followup.search([]), [])

    @with_transaction()
    def test_ownership_fields_protected(self):
        "The owner and the pool fields change through their paths only"
        # R: S4, S8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project, consultant1, consultant2 = setup_project(consultants=2)
        secretary = add_member(
            project, new_user('secretary', 'group_secretary'), 'secretary'
        )
        customer = new_customer(project, consultant1)
        with as_user(consultant1):
            for values in [
                {'owner': consultant2.id},
                {'pool_deadline': today() + 365 * DAY},
                {'in_pool': True},
            ]:
                with self.assertRaises(AccessError):
                    Customer.write([Customer(customer.id)], values)
        with as_user(secretary):
            with self.assertRaises(OwnershipError):
                Customer.write([Customer(customer.id)], {'owner': consultant2.id})
        self.assertEqual(reload(customer).owner, consultant1)

    @with_transaction()
    def test_duplicate_names_pool(self):
        "A phone of a pool customer refuses a new customer and points to the pool"
        # R: B6, S8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project, consultant1, consultant2 = setup_project(consultants=2)
        customer = new_customer(project, consultant1)
        Customer.move_to_pool([customer])
        with self.assertRaises(DuplicateCustomerError) as cm:
            new_customer(project, consultant2)
        self.assertIn('public pool', str(cm.exception))

    @with_transaction()
    def test_entry_of_pool_phone(self):
        "The entry page tells that a phone is in the pool or waits for a consultant"
        # R: S8, S4
        pool = Pool()
        Customer = pool.get('lieye.customer')
        EntryStart = pool.get('lieye.registration.entry.start')
        project, consultant1, consultant2 = setup_project(consultants=2)
        pooled = new_customer(project, consultant1)
        waiting = new_customer(project, consultant1, '13900139001')
        Customer.move_to_pool([pooled])
        Customer.set_owners([(waiting, None)])
        with Transaction().set_user(consultant2.id):
            for phone, text in [
                ('13800138000', 'public pool'),
                ('13900139001', 'sales manager'),
            ]:
                start = EntryStart(project=project, phone=phone)
                self.assertIn(text, start.on_change_with_known())

    @with_transaction()
    def test_registration_of_pool_customer(self):
        """No entry for a customer without a consultant; the entries of its
        earlier consultant stay valid after it changes hands"""
        # R: S8, S4, S2.8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        project, consultant1, consultant2 = setup_project(consultants=2)
        customer = new_customer(project, consultant1)
        registration = new_registration(customer)
        Customer.move_to_pool([customer])
        Registration.write([registration], {'remarks': '顾问离职前登记'})
        with self.assertRaisesRegex(SubmissionError, 'no consultant'):
            Registration.create(
                [
                    {
                        'project': project.id,
                        'customer': customer.id,
                        'consultant': consultant2.id,
                        'stage': 'walk_in',
                    }
                ]
            )
        Customer.set_owners([(customer, consultant2)], kind='assign')
        Registration.write([registration], {'remarks': '移交后补充'})
        self.assertEqual(registration.consultant, consultant1)
