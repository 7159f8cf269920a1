# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from sql import For
from trytond import backend
from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, without_check_access

from trytond.modules.lieye_sales_site.exceptions import (
    PersonIdentityLockedError,
    RegistrationLockedError,
    ReviewError,
    ReviewLogError,
)
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    as_user,
    dictionary,
    new_customer,
    new_registration,
    new_user,
    setup_project,
    site_team,
    submitted_walk_in,
)


def return_(registrations, reason, user):
    "Run the return wizard on registrations as user"
    Return = Pool().get('lieye.registration.return', type='wizard')
    with Transaction().set_user(user.id):
        session_id, _, _ = Return.create()
        with Transaction().set_context(
            active_model='lieye.registration',
            active_id=registrations[0].id,
            active_ids=[r.id for r in registrations],
        ):
            Return.execute(session_id, {'start': {'reason': reason}}, 'return_')
        Return.delete(session_id)


def new_reviewer(project, login='secretary', group='group_secretary'):
    "Return a reviewer member of project"
    Member = Pool().get('lieye.project.member')
    user = new_user(login, group)
    role = 'secretary' if group == 'group_secretary' else 'sales_manager'
    Member.create([{'project': project.id, 'user': user.id, 'role': role}])
    return user


def rounds(registration):
    Review = Pool().get('lieye.registration.review')
    return [
        (r.round, r.action, r.user.login, r.reason)
        for r in Review.search([('registration', '=', registration.id)])
    ]


class ReviewTestCase(SalesSiteTestCase):
    "Test the review of registrations (S9)"

    @with_transaction()
    def test_stage_only_after_approval(self):
        "Only approved registrations move the customer's stage"
        # R: S9, S2.5
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        secretary = new_reviewer(project)
        registration = submitted_walk_in(project, consultant, date=dt.date(2026, 11, 2))
        customer = Customer(registration.customer.id)
        self.assertEqual(registration.state, 'submitted')
        self.assertEqual(customer.stage, 'call')
        self.assertIsNone(customer.first_contact_date)

        with Transaction().set_user(secretary.id):
            Registration.approve([registration])
        registration = Registration(registration.id)
        customer = Customer(customer.id)
        self.assertEqual(registration.state, 'approved')
        self.assertEqual(customer.stage, 'walk_in')
        self.assertEqual(customer.first_contact_date, dt.date(2026, 11, 2))
        self.assertEqual(
            rounds(registration),
            [
                (1, 'submitted', consultant.login, None),
                (1, 'approved', 'secretary', None),
            ],
        )
        # The core log has the transition too (stored at commit).
        self.assertIn(
            ('transition', 'state:approved'),
            [
                (log.event, log.target)
                for log in Transaction().log_records
                if log.resource == registration
            ],
        )
        # Approved entries are locked like submitted ones.
        with self.assertRaises(RegistrationLockedError):
            Registration.write([registration], {'remarks': "改"})

    @with_transaction()
    def test_return_and_resubmit(self):
        "A returned entry goes back to its consultant; every round is logged"
        # R: S9, S2.7, S2.9
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Person = pool.get('lieye.customer.person')
        project, consultant = setup_project()
        secretary = new_reviewer(project)
        manager = new_reviewer(project, 'manager', 'group_sales_manager')
        registration = submitted_walk_in(project, consultant)

        return_([registration], '  电话号码少一位，请核对。 ', secretary)
        registration = Registration(registration.id)
        self.assertEqual(registration.state, 'returned')
        self.assertEqual(registration.return_reason, '电话号码少一位，请核对。')
        (notification,) = [
            n for n in Transaction().user_notifications if n.user.id == consultant.id
        ]
        self.assertEqual(notification.description, '电话号码少一位，请核对。')

        # Reviewers never edit the entry; its consultant corrects it, even
        # the identity, but cannot delete it.
        remarks = {'remarks': "已核对电话"}
        for reviewer in [secretary, manager]:
            with self.subTest(reviewer=reviewer.login):
                with as_user(reviewer), self.assertRaises(RegistrationLockedError):
                    Registration.write([registration], remarks)
        with as_user(consultant):
            Registration.write([registration], remarks)
            (person,) = registration.customer.persons
            Person.write([person], {'phone': '13800138001'})
            with self.assertRaises(RegistrationLockedError):
                Registration.delete([registration])
        with Transaction().set_user(secretary.id):
            with self.assertRaises(RegistrationLockedError):
                Registration.submit([registration])
        self.assertEqual(Registration(registration.id).state, 'returned')

        with Transaction().set_user(consultant.id):
            Registration.submit([registration])
        self.assertEqual(Registration(registration.id).state, 'submitted')
        with Transaction().set_user(manager.id):
            Registration.approve([registration])
        registration = Registration(registration.id)
        self.assertEqual(registration.state, 'approved')
        self.assertIsNone(registration.return_reason)
        self.assertEqual(registration.remarks, "已核对电话")
        self.assertEqual(
            rounds(registration),
            [
                (1, 'submitted', consultant.login, None),
                (1, 'returned', 'secretary', '电话号码少一位，请核对。'),
                (2, 'submitted', consultant.login, None),
                (2, 'approved', 'manager', None),
            ],
        )
        (person,) = registration.customer.persons
        with self.assertRaises(PersonIdentityLockedError):
            Person.write([person], {'phone': '13800138002'})

    @with_transaction()
    def test_review_refusals(self):
        "Only submitted registrations are reviewed, returns need a reason"
        # R: S9
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        secretary = new_reviewer(project)
        draft = new_registration(new_customer(project, consultant), stage='call')
        submitted = submitted_walk_in(project, consultant, phone='13700137000')

        with self.assertRaises(ReviewError) as cm:
            Registration.approve([draft])
        self.assertIn('Draft', str(cm.exception))
        for reason in [None, '', '   ']:
            with self.subTest(reason=reason):
                with self.assertRaises(ReviewError):
                    Registration.review([submitted], 'returned', reason)
        self.assertEqual(submitted.state, 'submitted')

        Registration.approve([submitted])
        with self.assertRaises(ReviewError) as cm:
            Registration.approve([submitted])
        self.assertIn('Approved', str(cm.exception))
        with self.assertRaises(ReviewError):
            return_([submitted], "重复", secretary)
        # One reviewed entry in a batch refuses the whole batch.
        other = submitted_walk_in(project, consultant, phone='13600136000')
        with self.assertRaises(ReviewError):
            Registration.approve([other, submitted])
        self.assertEqual(Registration(other.id).state, 'submitted')
        self.assertEqual(len(rounds(submitted)), 2)

    @with_transaction()
    def test_created_as_draft(self):
        """A registration starts as a draft without stamps whatever is sent,
        and a copy starts again"""
        # R: S9, S2.7
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        customer = new_customer(project, consultant)
        with as_user(consultant):
            (forged,) = Registration.create(
                [
                    {
                        'project': project.id,
                        'customer': customer.id,
                        'consultant': consultant.id,
                        'stage': 'call',
                        'state': 'approved',
                        'submitted_by': consultant.id,
                        'submitted_at': dt.datetime(2026, 1, 1),
                    }
                ]
            )
        self.assertEqual(
            (forged.state, forged.submitted_by, forged.submitted_at),
            ('draft', None, None),
        )
        submitted = submitted_walk_in(project, consultant, phone='13700137000')
        self.assertEqual(submitted.submitted_by, consultant)
        (copy,) = Registration.copy([submitted])
        self.assertEqual(
            (copy.state, copy.submitted_by, copy.submitted_at, copy.reviews),
            ('draft', None, None, ()),
        )

    @with_transaction()
    def test_batch_review(self):
        "Reviewers approve or return many registrations at once"
        # R: S9
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant1, consultant2 = setup_project(consultants=2)
        manager = new_reviewer(project, 'manager', 'group_sales_manager')
        first = submitted_walk_in(project, consultant1, phone='13800138000')
        second = submitted_walk_in(project, consultant2, phone='13800138001')
        third = submitted_walk_in(project, consultant2, phone='13800138002')
        return_([first, second], "缺少工作区域", manager)
        self.assertEqual(
            [Registration(r.id).state for r in [first, second]],
            ['returned', 'returned'],
        )
        notified = sorted(n.user.login for n in Transaction().user_notifications)
        self.assertEqual(notified, [consultant1.login, consultant2.login])
        Registration.approve([third])
        self.assertEqual(Registration(third.id).state, 'approved')

    @with_transaction()
    def test_reviewer_groups_and_projects(self):
        "Consultants cannot review; reviewers act on their projects only"
        # R: S9, S2.8
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        other_project, other_consultant = setup_project('P2')
        secretary = new_reviewer(project)
        registration = submitted_walk_in(project, consultant)
        other = submitted_walk_in(other_project, other_consultant)

        with as_user(consultant):
            with self.assertRaises(AccessButtonError):
                Registration.approve([registration])
            with self.assertRaises(AccessButtonError):
                Registration.return_([registration])
            with self.assertRaises(AccessButtonError):
                return_([registration], "自己退回", consultant)
        with as_user(secretary):
            with self.assertRaises(AccessError):
                Registration.approve([other])
            with self.assertRaises(AccessError):
                return_([other], "不是本案场的", secretary)
            action = Registration.return_([registration])
            self.assertTrue(action)
            Registration.approve([registration])
        self.assertEqual(Registration(registration.id).state, 'approved')
        self.assertEqual(Registration(other.id).state, 'submitted')

    @with_transaction()
    def test_review_log_read_only(self):
        "Review rounds are read like their registration and never changed"
        # R: S9, S2.8, S2.9
        pool = Pool()
        Review = pool.get('lieye.registration.review')
        project, consultant1, consultant2 = setup_project(consultants=2)
        mine = submitted_walk_in(project, consultant1, phone='13800138000')
        theirs = submitted_walk_in(project, consultant2, phone='13800138001')
        (review,) = Review.search([('registration', '=', mine.id)])

        with as_user(consultant1):
            self.assertEqual(Review.search([]), [review])
            self.assertEqual(Review.search([('registration', '=', theirs.id)]), [])
            with self.assertRaises(ReviewLogError):
                Review.write([review], {'reason': "改"})
            with self.assertRaises(ReviewLogError):
                Review.delete([review])
            with self.assertRaises(ReviewLogError):
                Review.create(
                    [
                        {
                            'registration': mine.id,
                            'round': 1,
                            'action': 'approved',
                            'user': consultant1.id,
                            'date': dt.datetime.now(),
                        }
                    ]
                )
        with self.assertRaises(ReviewLogError):
            Review.delete([review])

    @with_transaction()
    def test_review_locks_rows(self):
        "Reviewing waits for the rows another transaction holds, writing nothing"
        # R: S9
        pool = Pool()
        Registration = pool.get('lieye.registration')
        transaction = Transaction()
        if not transaction.database.has_select_for():
            self.skipTest('SQLite runs one writing transaction at a time')
        # Committed, as only rows of other transactions need the lock.
        project, consultant = setup_project('LOCK')
        registration = submitted_walk_in(project, consultant)
        transaction.commit()
        table = Registration.__table__()

        with transaction.new_transaction() as holder:
            holder.connection.cursor().execute(
                *table.select(
                    table.id, where=table.id == registration.id, for_=For('UPDATE')
                )
            )
            with transaction.new_transaction() as reviewer:
                reviewer.connection.cursor().execute("SET LOCAL lock_timeout = '200ms'")
                with self.assertRaises(backend.DatabaseOperationalError):
                    Registration.approve([Registration(registration.id)])
                reviewer.rollback()
            holder.rollback()
        with transaction.new_transaction():
            Registration.approve([Registration(registration.id)])
        with transaction.new_transaction():
            self.assertEqual(Registration(registration.id).state, 'approved')
            with self.assertRaises(ReviewError):
                Registration.approve([Registration(registration.id)])

    @with_transaction()
    def test_register_header(self):
        "The review form shows the customer's main person as the paper F1"
        # R: S9, F1
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        registration = submitted_walk_in(project, consultant)
        Pool().get('lieye.customer.person').create(
            [
                {
                    'customer': registration.customer.id,
                    'relation': 'spouse',
                    'name': '王强',
                    'phone': '13700137000',
                    'sequence': 0,
                }
            ]
        )
        registration = Registration(registration.id)
        self.assertEqual(registration.customer_code, 'P1-00001')
        self.assertEqual(registration.person_name, '张三')
        self.assertEqual(registration.person_phone, '+8613800138000')

    @with_transaction()
    def test_flags(self):
        "The queue shows signs of inflated entries with their reasons"
        # R: B7, S9
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant1, consultant2, consultant3 = setup_project(consultants=3)
        other_project, other_consultant = setup_project('P2')

        def flags(registration):
            registration = Registration(registration.id)
            return registration.flagged, registration.flags or ''

        # The same phone under a consultant of another project.
        shared = submitted_walk_in(project, consultant1, phone='13800138000')
        new_customer(other_project, other_consultant, phone='13800138000')
        flagged, text = flags(shared)
        self.assertTrue(flagged)
        self.assertIn('also registered under 1 other consultant', text)

        # Two customers with the very same answers the same day.
        copies = [
            submitted_walk_in(project, consultant2, phone=phone, purpose_quote="自住")
            for phone in ['13700137000', '13700137001']
        ]
        for copy in copies:
            self.assertIn('Same answers as 1 other', flags(copy)[1])

        # An entry saved over and over before its submission.
        edited = new_registration(
            new_customer(project, consultant3, phone='13600136000'),
            residence_district=dictionary(project, 'district', 'local_core').id,
            purpose=dictionary(project, 'purpose', 'own_use').id,
        )
        for number in range(11):
            Registration.write([edited], {'remarks': f"第 {number} 次修改"})
        Registration.submit([edited])
        self.assertIn('Saved 13 times', flags(edited)[1])

        # A burst: more than ten entries of a consultant within the hour.
        burst = [
            submitted_walk_in(
                project,
                consultant3,
                phone=f'135001350{n:02d}',
                date=dt.date(2026, 11, n),
            )
            for n in range(1, 11)
        ]
        for registration in [edited, *burst]:
            self.assertIn('11 entries by the same consultant', flags(registration)[1])

        plain = submitted_walk_in(other_project, other_consultant, phone='13900139000')
        self.assertEqual(flags(plain), (False, ''))
        self.assertEqual(
            set(Registration.search([('flagged', '=', True)])),
            {shared, *copies, edited, *burst},
        )
        self.assertIn(plain, Registration.search([('flagged', '=', False)]))

        # A reviewer's warnings are computed over the sites they review only:
        # the searcher's own query, called as the ORM calls searchers
        # (without access checks), holds none of another site's entries.
        secretary, _ = site_team(other_project)
        cursor = Transaction().connection.cursor()
        with as_user(secretary):
            with without_check_access():
                ((_, _, query),) = Registration.search_flagged(
                    'flagged', ('flagged', '=', True)
                )
            cursor.execute(*query)
            self.assertEqual(list(cursor), [])
            self.assertEqual(Registration.search([('flagged', '=', True)]), [])

        # Reviewed entries leave the queue and its warnings.
        Registration.approve([shared])
        self.assertEqual(flags(shared), (False, ''))

    @with_transaction()
    def test_flag_protection_window(self):
        """An entry submitted when its customer was about to go to the pool
        is flagged, with the days that were left"""
        # R: B7, S8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Policy = pool.get('lieye.project.policy')
        Registration = pool.get('lieye.registration')
        Review = pool.get('lieye.registration.review')
        today = pool.get('ir.date').today()
        project, consultant = setup_project()

        def entry(phone, assigned_days_ago, **values):
            customer = new_customer(project, consultant, phone=phone)
            Customer.write(
                [customer],
                {'assigned_date': today - dt.timedelta(days=assigned_days_ago)},
            )
            registration = new_registration(
                customer,
                residence_district=dictionary(project, 'district', 'local_core').id,
                purpose=dictionary(project, 'purpose', 'own_use').id,
                **values,
            )
            with Transaction().set_user(consultant.id):
                Registration.submit([registration])
            return Registration(registration.id)

        # Phone inquiries stay 15 days; the warning comes 3 days before.
        late = entry('13800138001', 13)
        (submission,) = Review.search([('registration', '=', late.id)])
        self.assertEqual(submission.protection_deadline, today + dt.timedelta(days=2))
        self.assertEqual(submission.protection_days, 2)
        self.assertTrue(late.flagged)
        self.assertIn('Submitted 2 day(s) before the customer would go', late.flags)

        # (Other answers, not to look like a copy of the first.)
        early = entry(
            '13800138002',
            11,
            work_district=dictionary(project, 'district', 'local_core').id,
        )
        self.assertEqual(early.flags, None)
        self.assertIn(late, Registration.search([('flagged', '=', True)]))
        self.assertNotIn(early, Registration.search([('flagged', '=', True)]))

        # The project's own warning days set the window.
        for warning_days, flagged in [(5, {late, early}), (1, set())]:
            (policy,) = Policy.create(
                [{'project': project.id, 'warning_days': warning_days}]
            )
            Policy.submit([policy])
            Policy.approve([policy])
            self.assertEqual(
                set(Registration.search([('flagged', '=', True)])), flagged
            )
