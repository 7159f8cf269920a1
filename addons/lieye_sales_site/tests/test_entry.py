# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.modelstorage import RequiredValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase,
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import (
    AnswerError,
    DuplicateCustomerError,
    PersonError,
    PersonIdentityLockedError,
    RegistrationLockedError,
    SubmissionError,
)


def dictionary(project, category, code):
    Dictionary = Pool().get('lieye.dictionary')
    (value,) = Dictionary.search(
        [('project', '=', project.id), ('category', '=', category), ('code', '=', code)]
    )
    return value


class EntryTestCase(TestCase):
    "Test customer entry (S2)"

    # The generic module checks run in test_module; activate the module only.
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['lieye_sales_site'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def setup_project(self, code='P1'):
        pool = Pool()
        Project = pool.get('lieye.project')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        (consultant,) = User.create(
            [
                {
                    'login': f'c-{code}',
                    'name': code,
                    'groups': [
                        (
                            'add',
                            [ModelData.get_id('lieye_sales_site', 'group_consultant')],
                        )
                    ],
                }
            ]
        )
        (project,) = Project.create(
            [
                {
                    'code': code,
                    'name': code,
                    'state': 'selling',
                    'members': [
                        ('create', [{'user': consultant.id, 'role': 'consultant'}])
                    ],
                }
            ]
        )
        return project, consultant

    def new_customer(self, project, owner, phone='13800138000', **person):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        values = {'relation': 'self', 'name': '张三', 'phone': phone}
        values.update(person)
        (customer,) = Customer.create(
            [
                {
                    'project': project.id,
                    'owner': owner.id,
                    'persons': [('create', [values])],
                }
            ]
        )
        return customer

    def new_registration(self, customer, stage='walk_in', **values):
        pool = Pool()
        Registration = pool.get('lieye.registration')
        (registration,) = Registration.create(
            [
                dict(
                    {
                        'project': customer.project.id,
                        'customer': customer.id,
                        'consultant': customer.owner.id,
                        'stage': stage,
                        'how_heard': dictionary(
                            customer.project, 'how_heard', 'internet'
                        ).id,
                    },
                    **values,
                )
            ]
        )
        return registration

    @with_transaction()
    def test_customer_code_and_phone(self):
        "Customer codes follow the project; phones are normalised (S2, B6)"
        project, consultant = self.setup_project()
        customer = self.new_customer(project, consultant, phone='138 0013 8000')
        self.assertEqual(customer.code, 'P1-00001')
        (person,) = customer.persons
        self.assertEqual(person.phone, '+8613800138000')
        self.assertTrue(person.party)
        self.assertEqual(person.party.name, '张三')
        self.assertEqual(customer.rec_name, '张三 (P1-00001)')
        second = self.new_customer(project, consultant, phone='0571-88888888')
        self.assertEqual(second.code, 'P1-00002')
        self.assertEqual(second.persons[0].phone, '+8657188888888')

    @with_transaction()
    def test_bad_identity_refused(self):
        "Malformed phones and ID numbers are refused (S2.6)"
        project, consultant = self.setup_project()
        with self.assertRaises(PersonError):
            self.new_customer(project, consultant, phone='12345')
        with self.assertRaises(PersonError):
            self.new_customer(project, consultant, id_number='110105194912310021')
        customer = self.new_customer(
            project, consultant, id_number='11010519491231002x'
        )
        self.assertEqual(customer.persons[0].id_number, '11010519491231002X')

    @with_transaction()
    def test_duplicate_phone_in_project(self):
        "A known phone or ID number cannot start a second group (B6)"
        project, consultant = self.setup_project()
        other_project, other = self.setup_project('P2')
        self.new_customer(project, consultant, id_number='11010519491231002X')
        with self.assertRaises(DuplicateCustomerError) as cm:
            self.new_customer(project, consultant, phone='+86 138 0013 8000')
        self.assertIn('P1', str(cm.exception))
        with self.assertRaises(DuplicateCustomerError):
            self.new_customer(
                project, consultant, phone='13900139000', id_number='11010519491231002X'
            )
        # Another project is another market.
        self.new_customer(other_project, other)

    @with_transaction()
    def test_declined_name_and_phone(self):
        "Name and phone may stay empty only when declined (S2.6)"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = self.setup_project()
        customer = self.new_customer(
            project,
            consultant,
            phone=None,
            phone_declined=True,
            name=None,
            name_declined=True,
        )
        registration = self.new_registration(customer, stage='call')
        Registration.submit([registration])
        self.assertEqual(registration.state, 'submitted')

        with self.assertRaises(RequiredValidationError) as cm:
            self.new_customer(project, consultant, phone=None, name='李四')
        self.assertIn('Phone', str(cm.exception))

    @with_transaction()
    def test_submit_missing_items(self):
        "Submission lists every empty required item (S2.6)"
        pool = Pool()
        Registration = pool.get('lieye.registration')
        project, consultant = self.setup_project()
        customer = self.new_customer(project, consultant)
        registration = self.new_registration(customer, how_heard=None)
        with self.assertRaises(SubmissionError) as cm:
            Registration.submit([registration])
        message = str(cm.exception)
        for label in ['How They Heard', 'Residence District', 'Purchase Purpose']:
            self.assertIn(label, message)
        self.assertEqual(registration.state, 'draft')

    @with_transaction()
    def test_submit_then_locked_and_stage(self):
        "Submitted registrations are locked and drive the stage (S2.5, S2.7)"
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Registration = pool.get('lieye.registration')
        Person = pool.get('lieye.customer.person')
        project, consultant = self.setup_project()
        customer = self.new_customer(project, consultant)
        walk_in = self.new_registration(
            customer,
            residence_district=dictionary(project, 'district', 'local_core').id,
            purpose=dictionary(project, 'purpose', 'own_use').id,
            date=dt.date(2026, 11, 1),
        )
        Registration.submit([walk_in])
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
        subscribed = self.new_registration(
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
        customer = Customer(customer.id)
        self.assertEqual(customer.stage, 'subscribed')
        self.assertEqual(customer.subscription_date, dt.date(2026, 11, 20))
        self.assertEqual(walk_in.stage, 'walk_in')
        self.assertEqual(walk_in.state, 'submitted')

        # A later subscription never overwrites the first date (S2.12).
        second = self.new_registration(
            customer,
            stage='subscribed',
            purpose=dictionary(project, 'purpose', 'own_use').id,
            payment_method=dictionary(project, 'payment_method', 'full').id,
            unit_price=Decimal('31000'),
            room=room.id,
            subscription_date=dt.date(2026, 12, 1),
        )
        Registration.submit([second])
        customer = Customer(customer.id)
        self.assertEqual(customer.subscription_date, dt.date(2026, 11, 20))

    @with_transaction()
    def test_registration_consultant_is_owner(self):
        "A registration is made in the owner's name"
        pool = Pool()
        User = pool.get('res.user')
        project, consultant = self.setup_project()
        (other,) = User.create([{'login': 'other', 'name': 'Other'}])
        customer = self.new_customer(project, consultant)
        with self.assertRaises(SubmissionError):
            self.new_registration(customer, consultant=other.id)

    @with_transaction()
    def test_questionnaire_per_project(self):
        "A required question of one project blocks only that project (S2.3)"
        pool = Pool()
        Question = pool.get('lieye.question')
        Registration = pool.get('lieye.registration')
        project, consultant = self.setup_project()
        other_project, other = self.setup_project('P2')
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

        customer = self.new_customer(project, consultant)
        registration = self.new_registration(customer, stage='call')
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

        other_customer = self.new_customer(other_project, other)
        other_registration = self.new_registration(other_customer, stage='call')
        self.assertNotIn('family_size', other_registration.on_change_with_answers())
        Registration.submit([other_registration])

        # Deactivating the question keeps the old answers readable.
        question.active = False
        question.save()
        self.assertEqual(Registration(registration.id).answers, {'family_size': 4})
        new = self.new_registration(
            self.new_customer(project, consultant, phone='13700137000'), stage='call'
        )
        self.assertNotIn('family_size', new.on_change_with_answers())

    @with_transaction()
    def test_dictionary_question(self):
        "A question can take its options from the project's dictionary"
        pool = Pool()
        Question = pool.get('lieye.question')
        Dictionary = pool.get('lieye.dictionary')
        project, _ = self.setup_project()
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
