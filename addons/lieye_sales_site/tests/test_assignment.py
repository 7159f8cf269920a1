# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import json

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import AssignmentError
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    add_member,
    as_user,
    new_customer,
    new_user,
    notifications,
    setup_project,
)


def new_lead(project, phone):
    "Create a customer waiting for a consultant, as the front desk does"
    Customer = Pool().get('lieye.customer')
    (customer,) = Customer.create(
        [
            {
                'project': project.id,
                'owner': None,
                'persons': [
                    ('create', [{'relation': 'self', 'name': '李四', 'phone': phone}])
                ],
            }
        ]
    )
    return customer


def run_assign(customers, **start):
    "Run the assignment wizard on customers with the start values"
    Assign = Pool().get('lieye.customer.assign', type='wizard')
    ids = [c.id for c in customers]
    with Transaction().set_context(
        active_model='lieye.customer', active_id=ids[0], active_ids=ids
    ):
        session_id, _, _ = Assign.create()
        defaults = Assign.execute(session_id, {}, 'start')['view']['defaults']
        Assign.execute(session_id, {'start': start}, 'assign')
    Assign.delete(session_id)
    return defaults


def today():
    return Pool().get('ir.date').today()


def owners(customers):
    Customer = Pool().get('lieye.customer')
    return [Customer(c.id).owner for c in customers]


class AssignmentTestCase(SalesSiteTestCase):
    "Test the assignment of customers by the sales manager (S4, B4)"

    def setup_site(self):
        project, *consultants = setup_project(consultants=3)
        manager = add_member(
            project, new_user('manager', 'group_sales_manager'), 'sales_manager'
        )
        return project, manager, consultants

    @with_transaction()
    def test_assign_and_reassign(self):
        "The manager assigns leads, then reassigns them; each change is logged"
        # R: S4
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        project, manager, consultants = self.setup_site()
        consultant1, consultant2, _ = consultants
        leads = [new_lead(project, '13900139001'), new_lead(project, '13900139002')]
        self.assertEqual(owners(leads), [None, None])
        self.assertIsNone(leads[0].pool_deadline)

        with as_user(manager):
            defaults = run_assign(
                leads, method='consultant', consultant=consultant1.id, reason='来电分配'
            )
        self.assertEqual(defaults['project'], project.id)
        self.assertEqual(defaults['consultants'], [c.id for c in consultants])
        self.assertEqual(owners(leads), [consultant1, consultant1])
        customer = Customer(leads[0].id)
        self.assertEqual(customer.assigned_date, today())
        self.assertEqual(customer.pool_deadline, today() + dt.timedelta(days=15))
        logs = Assignment.search([('customer', 'in', [c.id for c in leads])])
        self.assertEqual(
            {(a.kind, a.from_owner, a.to_owner, a.user, a.reason) for a in logs},
            {('assign', None, consultant1, manager, '来电分配')},
        )
        (notified,) = notifications(consultant1)
        self.assertEqual(notified.model, 'lieye.customer')
        self.assertEqual(
            sorted(json.loads(notified.records)), sorted(c.id for c in leads)
        )

        with as_user(manager):
            run_assign(leads[:1], method='consultant', consultant=consultant2.id)
        self.assertEqual(owners(leads), [consultant2, consultant1])
        (log,) = Assignment.search(
            [('customer', '=', leads[0].id), ('kind', '=', 'reassign')]
        )
        self.assertEqual((log.from_owner, log.to_owner), (consultant1, consultant2))
        # The consultant who lost the customer is told, without a link.
        lost = notifications(consultant1)[-1]
        self.assertIsNone(lost.records)
        self.assertEqual(len(notifications(consultant2)), 1)

    @with_transaction()
    def test_round_robin(self):
        "Round robin serves the consultants on duty in turn, across batches"
        # R: S4
        pool = Pool()
        Member = pool.get('lieye.project.member')
        project, manager, (consultant1, consultant2, consultant3) = self.setup_site()
        (off,) = Member.search([('user', '=', consultant3.id)])
        with as_user(manager):
            Member.end_duty([off])
        leads = [new_lead(project, f'1390013900{n}') for n in range(5)]

        with as_user(manager):
            defaults = run_assign(leads[:3], method='round_robin')
            self.assertEqual(defaults['on_duty'], [consultant1.id, consultant2.id])
            run_assign(leads[3:], method='round_robin')
        self.assertEqual(
            owners(leads),
            [consultant1, consultant2, consultant1, consultant2, consultant1],
        )

        with as_user(manager):
            Member.end_duty(
                Member.search([('role', '=', 'consultant'), ('on_duty', '=', True)])
            )
            with self.assertRaises(AssignmentError):
                run_assign(leads, method='round_robin')

    @with_transaction()
    def test_release_to_pool(self):
        "The manager may release customers to the public pool"
        # R: S4, S8
        pool = Pool()
        Customer = pool.get('lieye.customer')
        project, manager, (consultant1, *_) = self.setup_site()
        customer = new_customer(project, consultant1)
        with as_user(manager):
            run_assign([customer], method='pool', reason='顾问离职')
        customer = Customer(customer.id)
        self.assertTrue(customer.in_pool)
        self.assertEqual(customer.previous_owner, consultant1)
        (notified,) = notifications(consultant1)
        self.assertTrue(notified.action)

    @with_transaction()
    def test_refusals(self):
        "Only a sales manager of the project assigns, to its consultants"
        # R: S4, B4
        project, manager, (consultant1, *_) = self.setup_site()
        other_project, outsider = setup_project('P2')
        other_manager = add_member(
            other_project, new_user('manager2', 'group_sales_manager'), 'sales_manager'
        )
        lead = new_lead(project, '13900139001')
        other_lead = new_lead(other_project, '13900139001')

        with as_user(manager):
            with self.assertRaises(AssignmentError):
                run_assign([lead], method='consultant', consultant=outsider.id)
            with self.assertRaises(AssignmentError):
                run_assign([lead], method='consultant', consultant=manager.id)
            with self.assertRaises(AccessError):
                run_assign(
                    [lead, other_lead], method='consultant', consultant=consultant1.id
                )
        with as_user(other_manager):
            with self.assertRaises(AccessError):
                run_assign([lead], method='consultant', consultant=consultant1.id)
        with as_user(consultant1):
            with self.assertRaises(AccessError):
                run_assign([lead], method='consultant', consultant=consultant1.id)
        self.assertEqual(owners([lead]), [None])

    @with_transaction()
    def test_one_project_at_a_time(self):
        "A batch mixing projects is refused with a message"
        # R: S4
        project, _, (consultant1, *_) = self.setup_site()
        other_project, _ = setup_project('P2')
        leads = [
            new_lead(project, '13900139001'),
            new_lead(other_project, '13900139001'),
        ]
        with self.assertRaises(AssignmentError):
            run_assign(leads, method='consultant', consultant=consultant1.id)

    @with_transaction()
    def test_history_access(self):
        "The history is read with the customer and written by the code only"
        # R: S4
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        project, manager, (consultant1, consultant2, _) = self.setup_site()
        lead = new_lead(project, '13900139001')
        other = new_lead(project, '13900139002')
        Customer.assign([lead], consultant1)
        Customer.assign([other], consultant2)

        with as_user(consultant1):
            (log,) = Assignment.search([])
            self.assertEqual(log.customer, lead)
            with self.assertRaises(AccessError):
                Assignment.create(
                    [{'customer': lead.id, 'project': project.id, 'kind': 'assign'}]
                )
            with self.assertRaises(AccessError):
                Assignment.write([log], {'reason': '改'})
        with as_user(manager):
            self.assertEqual({a.customer for a in Assignment.search([])}, {lead, other})

    @with_transaction()
    def test_duty_buttons(self):
        "Sales managers put consultants on and off duty; consultants cannot"
        # R: S4
        pool = Pool()
        Member = pool.get('lieye.project.member')
        project, manager, (consultant1, *_) = self.setup_site()
        (duty,) = Member.search([('user', '=', consultant1.id)])
        self.assertTrue(duty.on_duty)
        with as_user(manager):
            Member.end_duty([duty])
            self.assertFalse(Member(duty.id).on_duty)
            Member.start_duty([duty])
        self.assertTrue(Member(duty.id).on_duty)
        with as_user(consultant1):
            with self.assertRaises(AccessButtonError):
                Member.end_duty([duty])
