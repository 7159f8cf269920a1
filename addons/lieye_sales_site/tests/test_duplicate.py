# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from contextlib import contextmanager
from unittest.mock import patch

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import (
    MergeError,
    MergeLockedError,
    MergeUndoError,
)
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    as_user,
    dictionary,
    new_customer,
    new_registration,
    notifications,
    setup_project,
    site_team,
)

ID_NUMBER = '330106198503151238'
PHONE = '13800138000'
# What the comparison of records before a merge and after its undo leaves out.
STAMPS = {'write_date', 'write_uid', 'last_modified_at'}


@contextmanager
def entered_twice():
    """Let a phone or ID number known in the project be saved again, as when
    two desks register the same caller at the same moment or an import
    brings the records of the old system"""
    Person = Pool().get('lieye.customer.person')
    with patch.object(Person, 'check_duplicates'):
        yield


def twice_entered(project, *owners):
    "Return a customer group of each of owners, all with the same phone"
    first = new_customer(project, owners[0], phone=PHONE)
    with entered_twice():
        return [first] + [new_customer(project, o, phone=PHONE) for o in owners[1:]]


def two_sites():
    """Return a project with two consultants, a secretary and a sales
    manager, and another project with its consultant"""
    project, consultant1, consultant2 = setup_project(consultants=2)
    other_project, consultant3 = setup_project('P2')
    secretary, manager = site_team(project)
    return (
        project,
        consultant1,
        consultant2,
        secretary,
        manager,
        other_project,
        consultant3,
    )


def approved(customer, stage='walk_in', **values):
    "Return a registration of customer submitted and approved"
    Registration = Pool().get('lieye.registration')
    project = customer.project
    registration = new_registration(
        customer,
        stage=stage,
        residence_district=dictionary(project, 'district', 'local_core').id,
        purpose=dictionary(project, 'purpose', 'own_use').id,
        **values,
    )
    Registration.submit([registration])
    Registration.approve([registration])
    return registration


def new_followup(customer, consultant, days_ago):
    Followup = Pool().get('lieye.followup')
    (followup,) = Followup.create(
        [
            {
                'customer': customer.id,
                'consultant': consultant.id,
                'date': Pool().get('ir.date').today() - dt.timedelta(days=days_ago),
                'method': 'phone',
                'content': '电话回访。',
            }
        ]
    )
    return followup


def new_merge(project, lines, kind='merge', **values):
    "Return a draft batch of project with lines of (customer, target)"
    Merge = Pool().get('lieye.customer.merge')
    (merge,) = Merge.create(
        [
            dict(
                {
                    'project': project.id,
                    'kind': kind,
                    'reason': '同一客户在两位顾问处登记。',
                    'lines': [
                        (
                            'create',
                            [
                                {'customer': c.id, 'target': t.id if t else None}
                                for c, t in lines
                            ],
                        )
                    ],
                },
                **values,
            )
        ]
    )
    return merge


def click(user, button, merge):
    "Press button on merge as user, as the web client does"
    Merge = Pool().get('lieye.customer.merge')
    with as_user(user):
        getattr(Merge, button)([Merge(merge.id)])
    return Merge(merge.id)


def snapshot(customers):
    """Return every field of the customer groups and of the records hanging
    on them"""
    pool = Pool()
    Customer = pool.get('lieye.customer')
    ids = [c.id for c in customers]
    result = {}
    with Transaction().set_context(active_test=False):
        for name, domain in [
            ('lieye.customer', [('id', 'in', ids)]),
            ('lieye.customer.person', [('customer', 'in', ids)]),
            ('lieye.registration', [('customer', 'in', ids)]),
            ('lieye.followup', [('customer', 'in', ids)]),
            ('lieye.customer.assignment', [('customer', 'in', ids)]),
        ]:
            Model = pool.get(name)
            names = [n for n in Model._fields if n not in STAMPS]
            records = Model.search(domain, order=[('id', 'ASC')])
            result[name] = Model.read([r.id for r in records], names)
    result['owners'] = [Customer(i).owner for i in ids]
    return result


class DuplicateTestCase(SalesSiteTestCase):
    "Test the duplicate queue, merges, transfers and their undo (S6, B6)"

    @with_transaction()
    def test_queue(self):
        "The queue lists groups sharing a phone or ID number in a project"
        # R: S6, B6
        pool = Pool()
        Duplicate = pool.get('lieye.customer.duplicate')
        project, consultant1, consultant2 = setup_project(consultants=2)
        other_project, consultant3 = setup_project('P2')
        first = new_customer(project, consultant1, phone=PHONE)
        with entered_twice():
            second = new_customer(project, consultant2, phone=PHONE)
            card = new_customer(
                project, consultant2, phone='13700137000', id_number=ID_NUMBER
            )
            visit = new_customer(
                project, consultant1, phone='13600136000', id_number=ID_NUMBER
            )
        new_customer(other_project, consultant3, phone=PHONE)
        new_customer(project, consultant1, phone='13500135000')

        rows = Duplicate.search([('scope', '=', 'project')])
        found = {
            (r.match, r.value): (r.project, r.customer_count, set(r.customers))
            for r in rows
        }
        self.assertEqual(
            found,
            {
                ('phone', '+86' + PHONE): (project, 2, {first, second}),
                ('id_number', ID_NUMBER): (project, 2, {card, visit}),
            },
        )
        phone_row = Duplicate.search(
            [('scope', '=', 'project'), ('match', '=', 'phone')]
        )[0]
        self.assertEqual(phone_row.other_projects, other_project.rec_name)

        # Across projects: each project's own group, for information.
        across = Duplicate.search([('scope', '=', 'other_projects')])
        self.assertEqual(
            sorted((r.project.code, r.customer_count) for r in across),
            [('P1', 2), ('P2', 1)],
        )
        for row in across:
            self.assertEqual(row.match, 'phone')
            self.assertNotIn(row.project.rec_name, row.other_projects)
        self.assertEqual(len({r.id for r in Duplicate.search([])}), 4)

    @with_transaction()
    def test_merge_and_undo(self):
        """A merge keeps every person, registration and follow-up, and its
        undo restores every record exactly"""
        # R: S6, B6
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        Assignment = pool.get('lieye.customer.assignment')
        Duplicate = pool.get('lieye.customer.duplicate')
        project, consultant1, consultant2 = setup_project(consultants=2)
        secretary, manager = site_team(project)
        kept = new_customer(project, consultant1, phone=PHONE)
        approved(kept, stage='call', date=dt.date(2026, 11, 10))
        new_followup(kept, consultant1, 20)
        with entered_twice():
            merged = new_customer(project, consultant2, phone=PHONE)
        Pool().get('lieye.customer.person').create(
            [
                {
                    'customer': merged.id,
                    'relation': 'spouse',
                    'name': '李四',
                    'phone': '13700137000',
                    'id_number': ID_NUMBER,
                }
            ]
        )
        approved(merged, date=dt.date(2026, 11, 1))
        waiting = new_registration(
            merged,
            stage='qualified',
            residence_district=dictionary(project, 'district', 'local_core').id,
            purpose=dictionary(project, 'purpose', 'own_use').id,
            area_need=dictionary(project, 'area_need', '90_120').id,
            payment_method=dictionary(project, 'payment_method', 'full').id,
        )
        Registration.submit([waiting])
        draft = new_registration(merged, stage='call')
        new_followup(merged, consultant2, 3)
        new_followup(merged, consultant2, 1)
        before = snapshot([kept, merged])

        merge = new_merge(project, [(merged, kept)])
        merge = click(secretary, 'propose', merge)
        self.assertEqual((merge.state, merge.proposed_by), ('proposed', secretary))
        merge = click(manager, 'approve', merge)
        self.assertEqual((merge.state, merge.decided_by), ('done', manager))

        kept, merged = Customer(kept.id), Customer(merged.id)
        self.assertFalse(merged.active)
        self.assertEqual(merged.merged_into, kept)
        self.assertEqual(Customer.search([('id', '=', merged.id)]), [])
        self.assertEqual(sorted(p.name for p in kept.persons), ['张三', '张三', '李四'])
        self.assertEqual(merged.persons, ())
        self.assertEqual(len(kept.registrations), 4)
        self.assertEqual({r.consultant for r in kept.registrations}, {consultant1})
        self.assertEqual(Registration(waiting.id).state, 'submitted')
        self.assertEqual(Registration(draft.id).customer, kept)
        self.assertEqual(
            len(pool.get('lieye.followup').search([('customer', '=', kept.id)])), 3
        )
        # Stage and dates come from the approved entries of both groups.
        self.assertEqual(kept.stage, 'walk_in')
        self.assertEqual(kept.first_contact_date, dt.date(2026, 11, 1))
        self.assertEqual(
            kept.last_followup_date,
            pool.get('ir.date').today() - dt.timedelta(days=1),
        )
        (history,) = Assignment.search(
            [('customer', '=', merged.id), ('kind', '=', 'merge')]
        )
        self.assertEqual(
            (history.from_owner, history.to_owner, history.user),
            (consultant2, consultant1, manager),
        )
        self.assertEqual(Duplicate.search([('scope', '=', 'project')]), [])
        # The consultant who lost the group is told.
        (notice,) = notifications(consultant2)
        self.assertIn(merged.code, notice.description)
        (line,) = merge.lines
        self.assertEqual(line.previous_owner, consultant2)

        merge = click(manager, 'undo', merge)
        self.assertEqual((merge.state, merge.undone_by), ('undone', manager))
        self.assertEqual(snapshot([kept, merged]), before)
        self.assertEqual(len(Duplicate.search([('scope', '=', 'project')])), 1)

    @with_transaction()
    def test_undo_refused_after_change(self):
        "A merge is not undone once a record it changed has changed again"
        # R: B6
        pool = Pool()
        Merge = pool.get('lieye.customer.merge')
        project, consultant1, consultant2 = setup_project(consultants=2)
        secretary, manager = site_team(project)
        kept, merged = twice_entered(project, consultant1, consultant2)
        followup = new_followup(merged, consultant2, 5)
        merge = new_merge(project, [(merged, kept)])
        click(secretary, 'propose', merge)
        merge = click(manager, 'approve', merge)

        new_followup(kept, consultant1, 0)
        with self.assertRaises(MergeUndoError) as cm:
            click(manager, 'undo', merge)
        self.assertIn(kept.rec_name, str(cm.exception))
        self.assertEqual(Merge(merge.id).state, 'done')
        self.assertEqual(pool.get('lieye.followup')(followup.id).customer, kept)

    @with_transaction()
    def test_refused(self):
        "Merges across projects, by the wrong role or of merged groups"
        # R: S6, B6
        pool = Pool()
        Merge = pool.get('lieye.customer.merge')
        Customer = pool.get('lieye.customer')
        (project, consultant1, consultant2, secretary, manager, other_project, c3) = (
            two_sites()
        )
        kept, merged = twice_entered(project, consultant1, consultant2)
        elsewhere = new_customer(other_project, c3, phone=PHONE)

        with self.assertRaises(MergeError) as cm:
            new_merge(project, [(elsewhere, kept)])
        self.assertIn(elsewhere.rec_name, str(cm.exception))

        merge = new_merge(project, [(merged, kept)], reason=None)
        with self.assertRaises(MergeError):
            click(secretary, 'propose', merge)
        Merge.write([merge], {'reason': '重复登记。'})
        merge = click(secretary, 'propose', merge)
        # A secretary proposes, a sales manager decides; nobody writes the
        # state or changes a proposed batch.
        with self.assertRaises(AccessButtonError):
            click(secretary, 'approve', merge)
        with self.assertRaises(AccessError):
            click(consultant1, 'approve', merge)
        with as_user(secretary):
            with self.assertRaises(MergeLockedError):
                Merge.write([merge], {'reason': '改'})
            with self.assertRaises(MergeLockedError):
                Merge.write([merge], {'state': 'done'})
            with self.assertRaises(MergeLockedError):
                Customer.write([Customer(kept.id)], {'merged_into': merged.id})

        # A group merged meanwhile: the second batch is refused.
        (late,) = Merge.copy([merge])
        Merge.write([late], {'state': 'proposed'})
        click(manager, 'approve', merge)
        with self.assertRaises(MergeError) as cm:
            click(manager, 'approve', late)
        self.assertIn(kept.rec_name, str(cm.exception))
        with self.assertRaises(MergeError) as cm:
            click(manager, 'approve', merge)
        self.assertIn('Approved and Done', str(cm.exception))

    @with_transaction()
    def test_transfer(self):
        "A batch transfer gives the groups to one consultant, once approved"
        # R: S6, S4
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Assignment = pool.get('lieye.customer.assignment')
        (project, consultant1, consultant2, secretary, manager, _, c3) = two_sites()
        first, second = twice_entered(project, consultant1, consultant2)
        registration = approved(first)

        merge = new_merge(
            project,
            [(first, None), (second, None)],
            kind='transfer',
            consultant=c3.id,
        )
        with self.assertRaises(MergeError):
            click(secretary, 'propose', merge)
        pool.get('lieye.customer.merge').write([merge], {'consultant': consultant2.id})
        click(secretary, 'propose', merge)
        merge = click(manager, 'approve', merge)
        self.assertEqual(
            [Customer(c.id).owner for c in [first, second]], [consultant2] * 2
        )
        (history,) = Assignment.search(
            [('customer', '=', first.id), ('kind', '=', 'transfer')]
        )
        self.assertEqual((history.from_owner, history.user), (consultant1, manager))
        self.assertEqual(
            [line.previous_owner for line in merge.lines], [consultant1, consultant2]
        )
        # The entries keep the consultant who made them.
        self.assertEqual(registration.consultant, consultant1)

    @with_transaction()
    def test_wizard_from_queue(self):
        "The secretary turns queue rows into a draft batch"
        # R: S6
        pool = Pool()
        Duplicate = pool.get('lieye.customer.duplicate')
        Merge = pool.get('lieye.customer.merge')
        Create = pool.get('lieye.customer.merge.create', type='wizard')
        project, consultant1, consultant2 = setup_project(consultants=2)
        secretary, _ = site_team(project)
        later = new_customer(project, consultant2, phone='13700137000')
        first = new_customer(project, consultant1, phone=PHONE)
        approved(first, date=dt.date(2026, 1, 5))
        with entered_twice():
            third = new_customer(project, consultant2, phone=PHONE, id_number=ID_NUMBER)
            Pool().get('lieye.customer.person').create(
                [
                    {
                        'customer': later.id,
                        'name': '王五',
                        'phone_declined': True,
                        'id_number': ID_NUMBER,
                    }
                ]
            )
        rows = Duplicate.search([('scope', '=', 'project')])
        self.assertEqual(len(rows), 2)

        with as_user(secretary):
            session_id, _, _ = Create.create()
            with Transaction().set_context(
                active_model='lieye.customer.duplicate',
                active_id=rows[0].id,
                active_ids=[r.id for r in rows],
            ):
                result = Create.execute(session_id, {}, 'start')
                self.assertEqual(
                    set(result['view']['defaults']['customers']),
                    {later.id, first.id, third.id},
                )
                Create.execute(
                    session_id,
                    {'start': {'kind': 'merge', 'reason': '同一客户。'}},
                    'create_',
                )
            Create.delete(session_id)
        (merge,) = Merge.search([])
        self.assertEqual(merge.state, 'draft')
        self.assertEqual(
            {(line.customer, line.target) for line in merge.lines},
            {(later, first), (third, first)},
        )
