# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.modelstorage import RequiredValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    with_transaction,
)
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.customer import normalize_id_number
from trytond.modules.lieye_sales_site.exceptions import (
    AnswerError,
    DuplicateCustomerError,
    PersonError,
    PersonIdentityLockedError,
    RegistrationLockedError,
    SubmissionError,
)
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    dictionary,
    new_customer,
    new_registration,
    setup_project,
)


class EntryTestCase(SalesSiteTestCase):
    "Test customer entry (S2)"

    @with_transaction()
    def test_customer_code_and_phone(self):
        "Customer codes follow the project; phones are normalised (S2, B6)"
        project, consultant = setup_project()
        customer = new_customer(project, consultant, phone='138 0013 8000')
        self.assertEqual(customer.code, 'P1-00001')
        (person,) = customer.persons
        self.assertEqual(person.phone, '+8613800138000')
        self.assertTrue(person.party)
        self.assertEqual(person.party.name, '张三')
        self.assertEqual(customer.rec_name, '张三 (P1-00001)')
        second = new_customer(project, consultant, phone='0571-88888888')
        self.assertEqual(second.code, 'P1-00002')
        self.assertEqual(second.persons[0].phone, '+8657188888888')

    @with_transaction()
    def test_bad_identity_refused(self):
        "Malformed phones and ID numbers are refused (S2.6)"
        project, consultant = setup_project()
        with self.assertRaises(PersonError):
            new_customer(project, consultant, phone='12345')
        with self.assertRaises(PersonError):
            new_customer(project, consultant, id_number='110105194912310021')
        customer = new_customer(project, consultant, id_number='11010519491231002x')
        self.assertEqual(customer.persons[0].id_number, '11010519491231002X')

    def test_id_number_area_code_of_any_year(self):
        "An ID number is accepted whatever year its area code was created"
        # 西湖区 has had 330106 since 1983 only: people born before were
        # given it when they first registered there.
        self.assertEqual(
            normalize_id_number('330106197501011237'), '330106197501011237'
        )
        for wrong in [
            '330106197501011238',  # check digit
            '330106197502301236',  # birth date
            '999999197501011235',  # area code never assigned
            '33010619750101123',  # length
        ]:
            with self.subTest(wrong=wrong), self.assertRaises(ValueError):
                normalize_id_number(wrong)

    @with_transaction()
    def test_duplicate_phone_in_project(self):
        "A known phone or ID number cannot start a second group (B6)"
        project, consultant = setup_project()
        other_project, other = setup_project('P2')
        new_customer(project, consultant, id_number='11010519491231002X')
        with self.assertRaises(DuplicateCustomerError) as cm:
            new_customer(project, consultant, phone='+86 138 0013 8000')
        self.assertIn('P1', str(cm.exception))
        with self.assertRaises(DuplicateCustomerError):
            new_customer(
                project, consultant, phone='13900139000', id_number='11010519491231002X'
            )
        # Another project is another market.
        new_customer(other_project, other)

    @with_transaction()
    def test_declined_name_and_phone(self):
        "Name and phone may stay empty only when declined (S2.6)"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        customer = new_customer(
            project,
            consultant,
            phone=None,
            phone_declined=True,
            name=None,
            name_declined=True,
        )
        registration = new_registration(customer, stage='call')
        Registration.submit([registration])
        self.assertEqual(registration.state, 'submitted')

        with self.assertRaises(RequiredValidationError) as cm:
            new_customer(project, consultant, phone=None, name='李四')
        self.assertIn('Phone', str(cm.exception))

    @with_transaction()
    def test_submit_missing_items(self):
        "Submission lists every empty required item (S2.6)"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        customer = new_customer(project, consultant)
        registration = new_registration(customer, how_heard=None)
        with self.assertRaises(SubmissionError) as cm:
            Registration.submit([registration])
        message = str(cm.exception)
        for label in ['How They Heard', 'Residence District', 'Purchase Purpose']:
            self.assertIn(label, message)
        self.assertEqual(registration.state, 'draft')

    @with_transaction()
    def test_submit_then_locked_and_stage(self):
        "Submitted entries are locked, approved ones drive the stage (S2.7, S9)"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        Person = pool.get('lieye.customer.person')
        project, consultant = setup_project()
        customer = new_customer(project, consultant)
        walk_in = new_registration(
            customer,
            residence_district=dictionary(project, 'district', 'local_core').id,
            purpose=dictionary(project, 'purpose', 'own_use').id,
            date=dt.date(2026, 11, 1),
        )
        Registration.submit([walk_in])
        self.assertEqual(Customer(customer.id).stage, 'call')
        Registration.approve([walk_in])
        customer = Customer(customer.id)
        self.assertEqual(customer.stage, 'walk_in')
        self.assertEqual(customer.first_contact_date, dt.date(2026, 11, 1))

        with (
            Transaction().set_context(_check_access=True),
            Transaction().set_user(consultant.id),
        ):
            with self.assertRaises(RegistrationLockedError):
                Registration.write([walk_in], {'remarks': 'x'})
            with self.assertRaises(RegistrationLockedError):
                Registration.delete([walk_in])
            (person,) = customer.persons
            with self.assertRaises(PersonIdentityLockedError):
                Person.write([person], {'phone': '13900139000'})

        # Upgrade without confirmation: earlier entries stay as they were.
        subscribed = new_registration(
            customer,
            stage='subscribed',
            purpose=dictionary(project, 'purpose', 'own_use').id,
            payment_method=dictionary(project, 'payment_method', 'full').id,
            unit_price=Decimal('30000'),
            subscription_date=dt.date(2026, 11, 20),
        )
        with self.assertRaises(SubmissionError) as cm:
            Registration.submit([subscribed])
        self.assertIn('Room', str(cm.exception))
        (building,) = pool.get('lieye.building').create(
            [
                {
                    'project': project.id,
                    'code': '1',
                    'name': '1',
                    'floors': 1,
                    'units_per_floor': 1,
                }
            ]
        )
        (room,) = pool.get('lieye.room').create(
            [{'building': building.id, 'floor': 1, 'unit_number': 1, 'code': '1-101'}]
        )
        subscribed.room = room
        subscribed.save()
        Registration.submit([subscribed])
        Registration.approve([subscribed])
        customer = Customer(customer.id)
        self.assertEqual(customer.stage, 'subscribed')
        self.assertEqual(customer.subscription_date, dt.date(2026, 11, 20))
        self.assertEqual(walk_in.stage, 'walk_in')
        self.assertEqual(walk_in.state, 'approved')

        # A later subscription never overwrites the first date (S2.12).
        second = new_registration(
            customer,
            stage='subscribed',
            purpose=dictionary(project, 'purpose', 'own_use').id,
            payment_method=dictionary(project, 'payment_method', 'full').id,
            unit_price=Decimal('31000'),
            room=room.id,
            subscription_date=dt.date(2026, 12, 1),
        )
        Registration.submit([second])
        Registration.approve([second])
        customer = Customer(customer.id)
        self.assertEqual(customer.subscription_date, dt.date(2026, 11, 20))

    @with_transaction()
    def test_registration_consultant_is_owner(self):
        "A registration is made in the owner's name"
        pool = Pool()
        User = pool.get('res.user')
        project, consultant = setup_project()
        (other,) = User.create([{'login': 'other', 'name': 'Other'}])
        customer = new_customer(project, consultant)
        with self.assertRaises(SubmissionError):
            new_registration(customer, consultant=other.id)

    @with_transaction()
    def test_questionnaire_per_project(self):
        "A required question of one project blocks only that project (S2.3)"
        pool = Pool()
        Question = pool.get('lieye.question')
        Registration = pool.get('lieye.registration')
        project, consultant = setup_project()
        other_project, other = setup_project('P2')
        (question,) = Question.create(
            [
                {
                    'name': 'family_size',
                    'string': '家庭人数',
                    'type_': 'integer',
                    'required': True,
                    'projects': [('add', [project.id])],
                    'stages': ['call'],
                    'section': 'family',
                }
            ]
        )

        customer = new_customer(project, consultant)
        registration = new_registration(customer, stage='call')
        self.assertIn('family_size', registration.on_change_with_answers())
        with self.assertRaises(SubmissionError) as cm:
            Registration.submit([registration])
        self.assertIn('家庭人数', str(cm.exception))
        with self.assertRaises(AnswerError):
            registration.answers = {'family_size': 'four'}
            registration.save()
        with self.assertRaises(AnswerError):
            registration.answers = {'unknown_key': 1}
            registration.save()
        registration.answers = {'family_size': 4}
        registration.save()
        Registration.submit([registration])

        other_customer = new_customer(other_project, other)
        other_registration = new_registration(other_customer, stage='call')
        self.assertNotIn('family_size', other_registration.on_change_with_answers())
        Registration.submit([other_registration])

        # Deactivating the question keeps the old answers readable.
        question.active = False
        question.save()
        self.assertEqual(Registration(registration.id).answers, {'family_size': 4})
        new = new_registration(
            new_customer(project, consultant, phone='13700137000'), stage='call'
        )
        self.assertNotIn('family_size', new.on_change_with_answers())

    @with_transaction()
    def test_dictionary_question(self):
        "A question can take its options from the project's dictionary"
        pool = Pool()
        Question = pool.get('lieye.question')
        Dictionary = pool.get('lieye.dictionary')
        project, _ = setup_project()
        (question,) = Question.create(
            [
                {
                    'name': 'income',
                    'string': '家庭月收入',
                    'type_': 'selection',
                    'dictionary_category': 'household_income',
                    'section': 'needs',
                }
            ]
        )
        keys = dict(Question.get_keys([question])[0]['selection'])
        self.assertEqual(keys['lt10k'], '1万元以下')
        definition = Question.definitions(project)['income']
        Question.check_value(definition, 'lt10k')
        with self.assertRaises(UserError):
            Question.check_value(definition, 'billions')
        Dictionary.create(
            [
                {
                    'project': project.id,
                    'category': 'household_income',
                    'code': 'billions',
                    'name': '十亿以上',
                }
            ]
        )
        Question.check_value(Question.definitions(project)['income'], 'billions')
