# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model.exceptions import DomainValidationError
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.tests.test_tryton import (
    with_transaction,
)
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import SubmissionError
from trytond.modules.lieye_sales_site.model import ProjectLinkMixin, ProjectMany2One
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    dictionary,
    new_customer,
    new_registration,
    setup_project,
)


class EntryValidationTestCase(SalesSiteTestCase):
    """Test that the links of an entry checked in one query per model
    (ProjectMany2One) refuse what their domain refuses"""

    def new_room(self, project, code):
        pool = Pool()
        Building = pool.get('lieye.building')
        Room = pool.get('lieye.room')
        (building,) = Building.create(
            [
                {
                    'project': project.id,
                    'code': code,
                    'name': code,
                    'floors': 1,
                    'units_per_floor': 1,
                }
            ]
        )
        (room,) = Room.create(
            [
                {
                    'building': building.id,
                    'floor': 1,
                    'unit_number': 1,
                    'code': f'{code}-101',
                }
            ]
        )
        return building, room

    @with_transaction()
    def test_links_declared(self):
        "Every project-scoped link is checked and gives its domain to the client"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        models = 0
        for _, Model in pool.iterobject():
            if any(isinstance(f, ProjectMany2One) for f in Model._fields.values()):
                models += 1
                self.assertTrue(issubclass(Model, ProjectLinkMixin), Model.__name__)
                self.assertIn('project', Model._fields)
        self.assertGreaterEqual(models, 3)
        definition = Registration.fields_get(['purpose', 'room'])
        self.assertEqual(
            definition['purpose']['domain'],
            PYSONEncoder().encode(
                [('category', '=', 'purpose'), ('project', '=', Eval('project', -1))]
            ),
        )
        self.assertEqual(
            definition['room']['domain'],
            PYSONEncoder().encode([('project', '=', Eval('project', -1))]),
        )

    @with_transaction()
    def test_dictionary_of_other_category_refused(self):
        "A dictionary value of another category is refused on create and write"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project('P1')
        customer = new_customer(project, consultant, '13800138000')
        district = dictionary(project, 'district', 'local_core')
        with self.assertRaises(DomainValidationError) as cm:
            new_registration(customer, purpose=district.id)
        self.assertIn('Purchase Purpose', str(cm.exception))
        domain, _ = cm.exception.domain
        self.assertEqual(
            domain, [('category', '=', 'purpose'), ('project', '=', project.id)]
        )

        registration = new_registration(
            customer, purpose=dictionary(project, 'purpose', 'own_use').id
        )
        with self.assertRaises(DomainValidationError):
            Registration.write([registration], {'concern_1': district.id})
        with self.assertRaises(DomainValidationError):
            registration.how_heard = district
            registration.save()

    @with_transaction()
    def test_dictionary_of_other_project_refused(self):
        "A value of another project's dictionary or a global one is refused"
        pool = Pool()
        Dictionary = pool.get('lieye.dictionary')
        project, consultant = setup_project('P1')
        other, _ = setup_project('P2')
        customer = new_customer(project, consultant, '13800138000')
        with self.assertRaises(DomainValidationError):
            new_registration(
                customer, purpose=dictionary(other, 'purpose', 'own_use').id
            )
        (global_,) = Dictionary.search(
            [
                ('project', '=', None),
                ('category', '=', 'purpose'),
                ('code', '=', 'own_use'),
            ]
        )
        with self.assertRaises(DomainValidationError):
            new_registration(customer, purpose=global_.id)

    @with_transaction()
    def test_links_checked_when_project_changes(self):
        "Moving an entry to another project checks the values it keeps"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project('P1')
        other, other_consultant = setup_project('P2')
        customer = new_customer(project, consultant, '13800138000')
        other_customer = new_customer(other, other_consultant, '13900139000')
        registration = new_registration(
            customer,
            how_heard=None,
            purpose=dictionary(project, 'purpose', 'own_use').id,
        )
        with self.assertRaises(DomainValidationError) as cm:
            Registration.write(
                [registration],
                {
                    'project': other.id,
                    'customer': other_customer.id,
                    'consultant': other_consultant.id,
                },
            )
        self.assertIn('Purchase Purpose', str(cm.exception))
        Registration.write(
            [registration],
            {
                'project': other.id,
                'customer': other_customer.id,
                'consultant': other_consultant.id,
                'purpose': dictionary(other, 'purpose', 'own_use').id,
            },
        )

    @with_transaction()
    def test_room_and_building_of_other_project_refused(self):
        "Rooms and buildings of another project are refused"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project('P1')
        other, _ = setup_project('P2')
        customer = new_customer(project, consultant, '13800138000')
        building, room = self.new_room(project, '1')
        other_building, other_room = self.new_room(other, '2')
        registration = new_registration(
            customer,
            stage='subscribed',
            room=room.id,
            recommended_1=room.id,
            intended_building=building.id,
        )
        for field, value in [
            ('room', other_room),
            ('recommended_2', other_room),
            ('intended_building', other_building),
        ]:
            with self.subTest(field=field):
                with self.assertRaises(DomainValidationError):
                    Registration.write([registration], {field: value.id})
        with self.assertRaises(DomainValidationError):
            new_registration(customer, stage='subscribed', room=other_room.id)

    @with_transaction()
    def test_customer_of_other_project_refused(self):
        "A customer of another project keeps its own message"
        project, consultant = setup_project('P1')
        other, other_consultant = setup_project('P2')
        other_customer = new_customer(other, other_consultant, '13800138000')
        with self.assertRaises(SubmissionError):
            new_registration(
                other_customer, project=project.id, consultant=consultant.id
            )

    @with_transaction()
    def test_customer_and_person_dictionaries(self):
        "Customers and persons refuse values outside their project's dictionary"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Person = pool.get('lieye.customer.person')
        project, consultant = setup_project('P1')
        other, _ = setup_project('P2')
        with self.assertRaises(DomainValidationError):
            new_customer(
                project,
                consultant,
                '13800138000',
                values={'grade': dictionary(project, 'how_heard', 'internet').id},
            )
        customer = new_customer(
            project,
            consultant,
            '13900139000',
            values={'how_heard': dictionary(project, 'how_heard', 'internet').id},
        )
        with self.assertRaises(DomainValidationError):
            Customer.write(
                [customer], {'how_heard': dictionary(other, 'how_heard', 'internet').id}
            )
        (person,) = customer.persons
        age_band = dictionary(project, 'age_band', '31_35')
        Person.write([person], {'age_band': age_band.id})
        with self.assertRaises(DomainValidationError):
            Person.write(
                [person], {'age_band': dictionary(other, 'age_band', '31_35').id}
            )

    @with_transaction()
    def test_inactive_value_kept(self):
        "An inactive value stays valid, as with Tryton's domain validation"
        pool = Pool()
        Dictionary = pool.get('lieye.dictionary')
        project, consultant = setup_project('P1')
        customer = new_customer(project, consultant, '13800138000')
        purpose = dictionary(project, 'purpose', 'own_use')
        registration = new_registration(customer, purpose=purpose.id)
        Dictionary.write([purpose], {'active': False})
        registration.remarks = "still valid"
        registration.save()

    @with_transaction()
    def test_refused_with_access_checks(self):
        "The consultant's calls, with access checks, are refused the same"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project('P1')
        other, _ = setup_project('P2')
        customer = new_customer(project, consultant, '13800138000')
        _, room = self.new_room(project, '1')
        _, other_room = self.new_room(other, '2')
        refused = [
            {'purpose': dictionary(project, 'district', 'local_core').id},
            {'purpose': dictionary(other, 'purpose', 'own_use').id},
            {'stage': 'subscribed', 'room': other_room.id},
        ]
        with (
            Transaction().set_user(consultant.id),
            Transaction().set_context(_check_access=True),
        ):
            for values in refused:
                with self.subTest(values=values):
                    with self.assertRaises(DomainValidationError):
                        new_registration(customer, **values)
            registration = new_registration(customer, stage='subscribed', room=room.id)
            with self.assertRaises(DomainValidationError):
                Registration.write([registration], {'room': other_room.id})

    @with_transaction()
    def test_submit_stamps_the_transition(self):
        "Who submitted and when are written with the submitted state"
        pool = Pool()
        Question = pool.get('lieye.question')
        Registration = pool.get('lieye.registration')
        Question.create(
            [
                {
                    'name': 'family_members',
                    'string': '家庭人数',
                    'type_': 'integer',
                    'section': 'family',
                },
                {'name': 'hobby', 'string': '爱好', 'type_': 'char'},
            ]
        )
        project, consultant = setup_project('P1')
        customer = new_customer(project, consultant, '13800138000')
        registration = new_registration(
            customer,
            how_heard=dictionary(project, 'how_heard', 'internet').id,
            residence_district=dictionary(project, 'district', 'local_core').id,
            purpose=dictionary(project, 'purpose', 'own_use').id,
            answers={'family_members': 3, 'hobby': ''},
        )
        self.assertEqual(registration.answer_data, {'family_members': 3})
        with Transaction().set_user(consultant.id):
            Registration.submit([registration])
        registration = Registration(registration.id)
        self.assertEqual(registration.state, 'submitted')
        self.assertEqual(registration.submitted_by, consultant)
        self.assertTrue(registration.submitted_at)
        # S9: the stage waits for the review.
        self.assertEqual(registration.customer.stage, 'call')
