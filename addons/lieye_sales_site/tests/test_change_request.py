# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import (
    ChangeRequestAccessError,
    ChangeRequestError,
    ChangeValueError,
    PersonError,
    PersonIdentityLockedError,
    RegistrationLockedError,
)
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    as_user,
    dictionary,
    new_customer,
    new_registration,
    setup_project,
    site_team,
    submitted_walk_in,
)


def field_id(model, name):
    ModelField = Pool().get('ir.model.field')
    (field,) = ModelField.search([('model', '=', model), ('name', '=', name)])
    return field.id


def new_lines(model, **changes):
    "The lines changing the fields of model to the values typed as text"
    return [
        (
            'create',
            [
                {'field': field_id(model, name), 'new_value': value}
                for name, value in changes.items()
            ],
        )
    ]


def draft_request(record, reason='客户要求更正', lines=None, **changes):
    """Return a draft change request of record with changes as typed text,
    or with lines"""
    Request = Pool().get('lieye.change.request')
    (request,) = Request.create(
        [
            {
                'record': str(record),
                'reason': reason,
                'lines': lines or new_lines(record.__name__, **changes),
            }
        ]
    )
    return request


def lines_of(request):
    return [
        (
            (line.field or line.question).name,
            line.old_value,
            line.new_value,
            line.sensitive,
        )
        for line in Pool().get('lieye.change.request')(request.id).lines
    ]


class ChangeRequestTestCase(SalesSiteTestCase):
    "Test change requests of submitted records (S2.7, S6, S15, B3)"

    @with_transaction()
    def test_changeable_fields(self):
        "Only the record's own data change by request, never its workflow"
        # R: S2.7, S15
        pool = Pool()
        Line = pool.get('lieye.change.request.line')
        Request = pool.get('lieye.change.request')
        project, consultant = setup_project()
        registration = submitted_walk_in(project, consultant)
        request = draft_request(registration)
        names = {f.name for f in request.changeable_fields}
        self.assertGreaterEqual(
            names, {'residence_place', 'intent', 'unit_price', 'room', 'remarks'}
        )
        self.assertFalse(
            names
            & {'state', 'customer', 'consultant', 'project', 'stage', 'answer_data'}
        )
        for record, name in [
            (registration, 'state'),
            (registration, 'consultant'),
            (registration.customer, 'owner'),
            (registration.customer, 'stage'),
        ]:
            with self.subTest(field=name), self.assertRaises(ChangeRequestError):
                draft_request(record, **{name: 'x'})
        # A field of another model is refused too.
        with self.assertRaises(ChangeRequestError):
            Line.create(
                [
                    {
                        'request': request.id,
                        'field': field_id('lieye.customer.person', 'phone'),
                        'new_value': '13900139000',
                    }
                ]
            )
        self.assertEqual(Request.search([('sensitive', '=', True)]), [])

    @with_transaction()
    def test_registration_change_applied(self):
        "A consultant requests, the secretary applies, everything is kept"
        # R: S2.7, S6, S15, B3
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        project, consultant = setup_project()
        secretary, _ = site_team(project)
        registration = submitted_walk_in(project, consultant)
        with self.assertRaises(RegistrationLockedError):
            Registration.write([registration], {'residence_place': '西湖区文三路'})

        with as_user(consultant):
            action = Registration.request_change([registration])
        (request,) = Request.browse(action['res_id'])
        self.assertEqual(
            (request.state, request.requester, request.customer, request.project),
            ('draft', consultant, registration.customer, project),
        )
        district = dictionary(project, 'district', 'local_core')
        with as_user(consultant):
            Request.write(
                [request],
                {
                    'reason': '客户搬到西湖区',
                    'lines': new_lines(
                        'lieye.registration',
                        residence_place='西湖区文三路',
                        intent='High',
                        work_district=district.name,
                        from_call='是',
                    ),
                },
            )
            Request.submit([request])
        request = Request(request.id)
        self.assertEqual(request.state, 'requested')
        self.assertIsNotNone(request.requested_at)
        self.assertFalse(request.sensitive)
        self.assertEqual(
            lines_of(request),
            [
                ('residence_place', None, '西湖区文三路', False),
                ('intent', None, 'High', False),
                ('work_district', None, district.name, False),
                ('from_call', 'No', 'Yes', False),
            ],
        )
        self.assertEqual(Request.search([('sensitive', '=', False)]), [request])

        history = Registration.__table_history__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*history.select(history.id, where=history.id == registration.id))
        versions = len(cursor.fetchall())
        with as_user(secretary):
            Request.apply([request])
        registration = Registration(registration.id)
        self.assertEqual(
            (
                registration.residence_place,
                registration.intent,
                registration.work_district,
                registration.from_call,
                registration.state,
            ),
            ('西湖区文三路', 'high', district, True, 'submitted'),
        )
        request = Request(request.id)
        self.assertEqual(
            (request.state, request.applied_by, request.approved_by),
            ('applied', secretary, None),
        )
        # B3: the record's history and log keep the change and who made it.
        cursor.execute(*history.select(history.id, where=history.id == registration.id))
        self.assertEqual(len(cursor.fetchall()), versions + 1)
        self.assertIn(
            ('write', secretary.id),
            [
                (log.event, log.user.id)
                for log in Transaction().log_records
                if log.resource == registration
            ],
        )
        (notification,) = [
            n for n in Transaction().user_notifications if n.user == consultant
        ]
        self.assertIn(request.rec_name, notification.label)

        # Applied once only.
        with as_user(secretary), self.assertRaises(ChangeRequestError) as cm:
            Request.apply([request])
        self.assertIn('Applied', str(cm.exception))
        with as_user(consultant), self.assertRaises(ChangeRequestError):
            Request.write([request], {'reason': '改'})
        with as_user(consultant), self.assertRaises(ChangeRequestError):
            Request.delete([request])

    @with_transaction()
    def test_person_phone_needs_manager_approval(self):
        "A locked phone changes after the sales manager's approval only"
        # R: S2.7, S15
        pool = Pool()
        Person = pool.get('lieye.customer.person')
        Request = pool.get('lieye.change.request')
        Line = pool.get('lieye.change.request.line')
        project, consultant = setup_project()
        secretary, manager = site_team(project)
        registration = submitted_walk_in(project, consultant)
        (person,) = registration.customer.persons
        with as_user(consultant), self.assertRaises(PersonIdentityLockedError):
            Person.write([person], {'phone': '13900139000'})

        with as_user(consultant):
            (request,) = Request.browse(Person.request_change([person])['res_id'])
            Request.write(
                [request],
                {
                    'reason': '客户换了手机号',
                    'lines': new_lines('lieye.customer.person', phone='139 0013 9000'),
                },
            )
            # What the request computes is computed again when it is sent.
            Line.write(list(request.lines), {'sensitive': False, 'old_data': 'x'})
            Request.submit([request])
        request = Request(request.id)
        self.assertTrue(request.sensitive)
        self.assertEqual(
            lines_of(request), [('phone', '+8613800138000', '+8613900139000', True)]
        )
        self.assertEqual(
            Request.search([('sensitive', '=', True), ('state', '=', 'requested')]),
            [request],
        )

        with as_user(secretary):
            with self.assertRaises(ChangeRequestError) as cm:
                Request.apply([request])
            self.assertIn('sales manager', str(cm.exception))
            with self.assertRaises(AccessButtonError):
                Request.approve([request])
        with as_user(consultant), self.assertRaises(AccessButtonError):
            Request.approve([request])
        self.assertEqual(Request(request.id).state, 'requested')
        self.assertEqual(Person(person.id).phone, '+8613800138000')

        with as_user(manager):
            Request.approve([request])
        request = Request(request.id)
        self.assertEqual((request.state, request.approved_by), ('approved', manager))
        with as_user(secretary):
            Request.apply([request])
        request = Request(request.id)
        self.assertEqual((request.state, request.applied_by), ('applied', secretary))
        self.assertEqual(Person(person.id).phone, '+8613900139000')

        # The manager may approve and apply at once; both are recorded.
        with as_user(consultant):
            second = draft_request(person, name='张叁')
            Request.submit([second])
        with as_user(manager):
            Request.apply([second])
        second = Request(second.id)
        self.assertEqual(
            (second.state, second.approved_by, second.applied_by),
            ('applied', manager, manager),
        )
        person = Person(person.id)
        self.assertEqual((person.name, person.party.name), ('张叁', '张叁'))

    @with_transaction()
    def test_bad_new_values(self):
        "A value that does not convert is refused at submission, saying why"
        # R: S15, DESIGN §6 bad input
        pool = Pool()
        Request = pool.get('lieye.change.request')
        project, consultant = setup_project()
        registration = submitted_walk_in(project, consultant)
        (person,) = registration.customer.persons
        for record, name, value, error in [
            (registration, 'date', '2026/11/02', 'YYYY-MM-DD'),
            (registration, 'date', '2026-02-30', 'YYYY-MM-DD'),
            (registration, 'intent', 'urgent', 'High'),
            (registration, 'work_district', 'Mars', 'code or the name'),
            (registration, 'from_call', 'maybe', 'yes or no'),
            (registration, 'area', '98 m²', 'number'),
            (registration, 'unit_price', 'NaN', 'number'),
            (person, 'phone', '12345', None),
            (person, 'id_number', '110101199003071234', None),
        ]:
            with self.subTest(field=name, value=value):
                request = draft_request(record, **{name: value})
                with self.assertRaises((ChangeValueError, PersonError)) as cm:
                    Request.submit([request])
                self.assertIn(value, str(cm.exception))
                if error:
                    self.assertIsInstance(cm.exception, ChangeValueError)
                    self.assertIn(error, str(cm.exception))
                self.assertEqual(Request(request.id).state, 'draft')

        # Keys, labels, codes and ISO dates convert.
        request = draft_request(
            registration,
            date='2020-01-02',
            intent='low',
            work_district='local_core',
            area='1,098.5',
        )
        Request.submit([request])
        self.assertEqual(
            [(n, new) for n, _, new, _ in lines_of(request)],
            [
                ('date', '2020-01-02'),
                ('intent', 'Low'),
                ('work_district', dictionary(project, 'district', 'local_core').name),
                ('area', '1098.5'),
            ],
        )
        self.assertTrue(Request(request.id).sensitive)

        for changes in [{}, {'intent': 'High', 'remarks': ''}]:
            request = draft_request(registration, **changes)
            with self.subTest(changes=changes), self.assertRaises(ChangeRequestError):
                Request.submit([request])
        unchanged = draft_request(registration, residence_district='local_core')
        with self.assertRaises(ChangeRequestError):
            Request.submit([unchanged])
        twice = draft_request(registration, intent='High')
        Request.write(
            [twice],
            {'lines': new_lines('lieye.registration', intent='Low')},
        )
        with self.assertRaises(ChangeRequestError):
            Request.submit([twice])
        no_reason = draft_request(registration, reason=' ', intent='High')
        with self.assertRaises(ChangeRequestError):
            Request.submit([no_reason])

    @with_transaction()
    def test_stale_old_value_refused(self):
        "A record changed since the request is not overwritten"
        # R: S15
        pool = Pool()
        Customer = pool.get('lieye.customer')
        Request = pool.get('lieye.change.request')
        project, consultant = setup_project()
        secretary, _ = site_team(project)
        customer = new_customer(project, consultant, values={'intent': 'medium'})
        with as_user(consultant):
            request = draft_request(customer, intent='High')
            Request.submit([request])
            Customer.write([customer], {'intent': 'low'})
        with as_user(secretary), self.assertRaises(ChangeRequestError) as cm:
            Request.apply([request])
        self.assertIn('Medium', str(cm.exception))
        self.assertIn('Low', str(cm.exception))
        self.assertEqual(Request(request.id).state, 'requested')
        self.assertEqual(Customer(customer.id).intent, 'low')

    @with_transaction()
    def test_roles(self):
        "Consultants request for their own records only and never handle"
        # R: S2.7, S2.8, S15
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        Reject = pool.get('lieye.change.request.reject', type='wizard')
        project, consultant, other = setup_project(consultants=2)
        secretary, _ = site_team(project)
        registration = submitted_walk_in(project, consultant)
        draft = new_registration(
            new_customer(project, consultant, phone='13700137000'), stage='call'
        )

        with as_user(other):
            with self.assertRaises(ChangeRequestAccessError):
                draft_request(registration, intent='High')
            with self.assertRaises(AccessError):
                Registration.request_change([registration])
        with as_user(consultant), self.assertRaises(ChangeRequestError):
            draft_request(draft, remarks='改')

        with as_user(consultant):
            # The client's values of the steps are ignored.
            (request,) = Request.create(
                [
                    {
                        'record': str(registration),
                        'reason': '意向变化',
                        'state': 'applied',
                        'requester': other.id,
                        'lines': new_lines('lieye.registration', intent='High'),
                    }
                ]
            )
            self.assertEqual((request.state, request.requester), ('draft', consultant))
            with self.assertRaises(ChangeRequestError):
                Request.write([request], {'state': 'applied'})
            Request.submit([request])
            for button in [Request.apply, Request.approve, Request.reject]:
                with self.subTest(button=button.__name__):
                    with self.assertRaises(AccessButtonError):
                        button([request])
        with as_user(other):
            self.assertEqual(Request.search([('id', '=', request.id)]), [])
            with self.assertRaises(AccessError):
                Request.cancel([request])

        # Rejection takes a reason; the secretary does not cancel for others.
        with as_user(secretary):
            with self.assertRaises(ChangeRequestError):
                Request.cancel([request])
            session_id, _, _ = Reject.create()
            with Transaction().set_context(
                active_model='lieye.change.request',
                active_id=request.id,
                active_ids=[request.id],
            ):
                with self.assertRaises(ChangeRequestError):
                    Reject.execute(session_id, {'start': {'reason': '  '}}, 'reject')
                Reject.execute(
                    session_id, {'start': {'reason': '意向以回访为准'}}, 'reject'
                )
            Reject.delete(session_id)
        request = Request(request.id)
        self.assertEqual(
            (request.state, request.rejected_by, request.rejection_reason),
            ('rejected', secretary, '意向以回访为准'),
        )
        self.assertIsNone(Registration(registration.id).intent)

        # The requester withdraws a request not yet handled.
        with as_user(consultant):
            withdrawn = draft_request(registration, intent='Low')
            Request.submit([withdrawn])
            Request.cancel([withdrawn])
        withdrawn = Request(withdrawn.id)
        self.assertEqual(
            (withdrawn.state, withdrawn.cancelled_by), ('cancelled', consultant)
        )
        with as_user(secretary), self.assertRaises(ChangeRequestError):
            Request.apply([withdrawn])

    @with_transaction()
    def test_deal_price(self):
        "A price on a subscription is a sensitive change"
        # R: S15, S12
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        project, consultant = setup_project()
        _, manager = site_team(project)
        registration = submitted_walk_in(project, consultant)
        cursor = Transaction().connection.cursor()
        table = Registration.__table__()
        # A price without the whole deal register: set it in SQL.
        cursor.execute(
            *table.update(
                [table.unit_price],
                [Decimal('32000')],
                where=table.id == registration.id,
            )
        )
        with as_user(consultant):
            request = draft_request(registration, unit_price='31800.00')
            Request.submit([request])
        ((name, old, new, sensitive),) = lines_of(request)
        self.assertEqual((name, Decimal(old), new), ('unit_price', 32000, '31800.00'))
        self.assertTrue(sensitive)
        with as_user(manager):
            Request.apply([request])
        self.assertEqual(Registration(registration.id).unit_price, Decimal('31800'))
