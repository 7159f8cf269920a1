# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import json
from decimal import Decimal

from sql import Column
from trytond.model.exceptions import AccessButtonError, RequiredValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from trytond.modules.lieye_sales_site.exceptions import (
    ChangeRequestError,
    ChangeValueError,
)
from trytond.modules.lieye_sales_site.tests.test_change_request import (
    draft_request,
    field_id,
    lines_of,
)
from trytond.modules.lieye_sales_site.tests.tools import (
    SalesSiteTestCase,
    as_user,
    setup_project,
    site_team,
    submitted_walk_in,
)

# The answers of the walk-in the tests change.
ANSWERS = {
    'family_size': 3,
    'visit_purpose': 'own_use',
    'hobby': '钓鱼',
    'has_car': False,
}


def new_questions(project, other_project):
    "Create the questionnaire of project, and questions it does not ask"
    Question = Pool().get('lieye.question')
    Question.create(
        [
            {
                'name': 'family_size',
                'string': '家庭人数',
                'type_': 'integer',
                'projects': [('add', [project.id])],
                'stages': ['walk_in'],
                'section': 'family',
            },
            {
                'name': 'visit_purpose',
                'string': '来访目的',
                'type_': 'selection',
                'selection': 'own_use:自住\ninvest:投资\nupgrade:改善',
            },
            {
                'name': 'concerns',
                'string': '关注点',
                'type_': 'multiselection',
                'selection': 'school:学区\nmetro:地铁\nview:景观',
            },
            {'name': 'hobby', 'string': '爱好', 'type_': 'char'},
            {'name': 'has_car', 'string': '是否有车', 'type_': 'boolean'},
            {'name': 'move_in', 'string': '预计入住日期', 'type_': 'date'},
            {'name': 'wished_price', 'string': '意向单价', 'type_': 'numeric'},
            {
                'name': 'income',
                'string': '家庭月收入',
                'type_': 'selection',
                'dictionary_category': 'household_income',
            },
            {
                'name': 'other_project_only',
                'string': '外项目问题',
                'type_': 'char',
                'projects': [('add', [other_project.id])],
            },
            {
                'name': 'signing_only',
                'string': '签约问题',
                'type_': 'char',
                'stages': ['signed'],
            },
        ]
    )


def question_id(name):
    Question = Pool().get('lieye.question')
    (question,) = Question.search([('name', '=', name)])
    return question.id


def answer_lines(**answers):
    "The lines changing the answers to the values typed as text"
    return [
        (
            'create',
            [
                {'question': question_id(name), 'new_value': value}
                for name, value in answers.items()
            ],
        )
    ]


def requested(consultant, registration, **answers):
    "Return the request of consultant changing the answers, sent"
    Request = Pool().get('lieye.change.request')
    with as_user(consultant):
        request = draft_request(registration, lines=answer_lines(**answers))
        Request.submit([request])
    return Request(request.id)


def stored_answers(registration):
    "Return the answers of each saved version of registration, oldest first"
    Registration = Pool().get('lieye.registration')
    history = Registration.__table_history__()
    cursor = Transaction().connection.cursor()
    cursor.execute(
        *history.select(
            history.answer_data,
            where=history.id == registration.id,
            order_by=Column(history, '__id'),
        )
    )
    # PostgreSQL returns its JSON column decoded, SQLite the text.
    return [
        data if isinstance(data, dict) else json.loads(data or '{}')
        for (data,) in cursor
    ]


class ChangeRequestAnswerTestCase(SalesSiteTestCase):
    "Test change requests of a registration's questionnaire answers"

    def walk_in(self):
        """Return a walk-in answered as ANSWERS, its consultant, secretary and
        sales manager"""
        project, consultant = setup_project()
        other_project, _ = setup_project('P2')
        secretary, manager = site_team(project)
        new_questions(project, other_project)
        registration = submitted_walk_in(project, consultant, answers=ANSWERS)
        return registration, consultant, secretary, manager

    @with_transaction()
    def test_answer_change_applied(self):
        "A consultant requests, the secretary applies, the other answers stay"
        # R: S2.7, S6, S15, B3
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        Line = pool.get('lieye.change.request.line')
        registration, consultant, secretary, _ = self.walk_in()

        with as_user(consultant):
            action = Registration.request_change([registration])
            (request,) = Request.browse(action['res_id'])
            # Its project's and stage's questions, not the others.
            self.assertEqual(
                {q.name for q in request.changeable_questions},
                {
                    'family_size',
                    'visit_purpose',
                    'concerns',
                    'hobby',
                    'has_car',
                    'move_in',
                    'wished_price',
                    'income',
                },
            )
            # The draft shows the current answer as the user reads it.
            line = Line(request=request, question=question_id('visit_purpose'))
            line.on_change_question()
            self.assertEqual(line.old_value, '自住')
            Request.write(
                [request],
                {
                    'reason': '客户家里添了孩子，改为投资',
                    'lines': answer_lines(family_size='4', visit_purpose='投资'),
                },
            )
            Request.submit([request])
            # R: S15 the consultant never applies.
            with self.assertRaises(AccessButtonError):
                Request.apply([request])
        request = Request(request.id)
        self.assertEqual((request.state, request.sensitive), ('requested', False))
        self.assertEqual(
            lines_of(request),
            [
                ('family_size', '3', '4', False),
                ('visit_purpose', '自住', '投资', False),
            ],
        )
        self.assertEqual(request.changed_fields, '家庭人数、来访目的')
        self.assertEqual(Registration(registration.id).answer_data, ANSWERS)

        versions = len(stored_answers(registration))
        with as_user(secretary):
            Request.apply([request])
        registration = Registration(registration.id)
        self.assertEqual(
            registration.answer_data,
            dict(ANSWERS, family_size=4, visit_purpose='invest'),
        )
        self.assertEqual(registration.state, 'submitted')
        request = Request(request.id)
        self.assertEqual((request.state, request.applied_by), ('applied', secretary))
        # B3: the history keeps the answers before and after, the log who.
        history = stored_answers(registration)
        self.assertEqual(len(history), versions + 1)
        self.assertEqual(history[-2]['visit_purpose'], 'own_use')
        self.assertEqual(history[-1]['visit_purpose'], 'invest')
        self.assertIn(
            ('write', secretary.id),
            [
                (log.event, log.user.id)
                for log in Transaction().log_records
                if log.resource == registration
            ],
        )

    @with_transaction()
    def test_answer_types(self):
        "Each question type converts from the text typed"
        # R: S2.7
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        registration, consultant, secretary, _ = self.walk_in()
        request = requested(
            consultant,
            registration,
            concerns='学区, 地铁',
            has_car='是',
            move_in='2026-03-08',
            income='1万元以下',
            hobby=' 爬山 ',
        )
        self.assertEqual(
            lines_of(request),
            [
                ('concerns', None, '学区、地铁', False),
                ('has_car', 'No', 'Yes', False),
                ('move_in', None, '2026-03-08', False),
                ('income', None, '1万元以下', False),
                ('hobby', '钓鱼', '爬山', False),
            ],
        )
        with as_user(secretary):
            Request.apply([request])
        self.assertEqual(
            Registration(registration.id).answer_data,
            dict(
                ANSWERS,
                concerns=('metro', 'school'),
                has_car=True,
                move_in=dt.date(2026, 3, 8),
                income='lt10k',
                hobby='爬山',
            ),
        )

    @with_transaction()
    def test_bad_answers(self):
        "A wrong value or an unknown option is refused, saying what is expected"
        # R: S2.7, DESIGN §6 bad input
        pool = Pool()
        Request = pool.get('lieye.change.request')
        registration, consultant, _, _ = self.walk_in()
        for name, value, expected in [
            ('family_size', 'four', 'whole number'),
            ('family_size', '3.5', 'whole number'),
            ('move_in', '2026/03/08', 'YYYY-MM-DD'),
            ('has_car', 'maybe', 'yes or no'),
            ('wished_price', '三万', 'number'),
            ('visit_purpose', '火星', '自住、投资、改善'),
            ('concerns', '学区、火星', '学区、地铁、景观'),
            ('income', '十亿以上', '1万元以下'),
        ]:
            with self.subTest(question=name, value=value), as_user(consultant):
                request = draft_request(
                    registration, lines=answer_lines(**{name: value})
                )
                with self.assertRaises(ChangeValueError) as cm:
                    Request.submit([request])
                self.assertIn(value, str(cm.exception))
                self.assertIn(expected, str(cm.exception))
                self.assertEqual(Request(request.id).state, 'draft')

        # The current answer, by key or label, and an empty answer cleared.
        for answers in [{'visit_purpose': 'own_use'}, {'move_in': ''}]:
            with self.subTest(answers=answers), as_user(consultant):
                request = draft_request(registration, lines=answer_lines(**answers))
                with self.assertRaises(ChangeRequestError):
                    Request.submit([request])
        with as_user(consultant):
            twice = draft_request(registration, lines=answer_lines(hobby='爬山'))
            Request.write([twice], {'lines': answer_lines(hobby='游泳')})
            with self.assertRaises(ChangeRequestError):
                Request.submit([twice])

    @with_transaction()
    def test_question_outside_questionnaire_refused(self):
        "Only the questions of the registration's project and stage change"
        # R: S2.7
        pool = Pool()
        Line = pool.get('lieye.change.request.line')
        registration, consultant, _, _ = self.walk_in()
        with as_user(consultant):
            for name in ['other_project_only', 'signing_only']:
                with self.subTest(question=name):
                    with self.assertRaises(ChangeRequestError) as cm:
                        draft_request(registration, lines=answer_lines(**{name: 'x'}))
                    self.assertIn(registration.rec_name, str(cm.exception))
            # A customer has no questionnaire.
            with self.assertRaises(ChangeRequestError):
                draft_request(registration.customer, lines=answer_lines(hobby='x'))
            request = draft_request(registration, lines=answer_lines(hobby='爬山'))
            # A line names a field or a question.
            with self.assertRaises(ChangeRequestError):
                Line.create(
                    [
                        {
                            'request': request.id,
                            'field': field_id('lieye.registration', 'intent'),
                            'question': question_id('family_size'),
                            'new_value': '4',
                        }
                    ]
                )
            (line,) = request.lines
            with self.assertRaises(ChangeRequestError):
                Line.write([line], {'field': field_id('lieye.registration', 'intent')})
            with self.assertRaises(RequiredValidationError):
                Line.create([{'request': request.id, 'new_value': '4'}])

    @with_transaction()
    def test_stale_answer_refused(self):
        "An answer changed since the request is not overwritten"
        # R: S15
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        registration, consultant, secretary, _ = self.walk_in()
        first = requested(consultant, registration, visit_purpose='投资')
        second = requested(consultant, registration, visit_purpose='upgrade')
        with as_user(secretary):
            Request.apply([first])
            with self.assertRaises(ChangeRequestError) as cm:
                Request.apply([second])
        self.assertIn('"自住"', str(cm.exception))
        self.assertIn('"投资"', str(cm.exception))
        self.assertIn('来访目的', str(cm.exception))
        self.assertEqual(Request(second.id).state, 'requested')
        self.assertEqual(
            Registration(registration.id).answer_data['visit_purpose'], 'invest'
        )

    @with_transaction()
    def test_clear_answer(self):
        "An answer typed empty is removed; a no is not an empty answer"
        # R: S2.7
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        registration, consultant, secretary, _ = self.walk_in()
        request = requested(consultant, registration, hobby='', has_car=' ')
        self.assertEqual(
            lines_of(request),
            [('hobby', '钓鱼', None, False), ('has_car', 'No', None, False)],
        )
        with as_user(secretary):
            Request.apply([request])
        self.assertEqual(
            Registration(registration.id).answer_data,
            {'family_size': 3, 'visit_purpose': 'own_use'},
        )

    @with_transaction()
    def test_price_answer_needs_manager_approval(self):
        "An answer stating a price is applied after the manager's approval"
        # R: S15, S12
        pool = Pool()
        Registration = pool.get('lieye.registration')
        Request = pool.get('lieye.change.request')
        registration, consultant, secretary, manager = self.walk_in()
        request = requested(
            consultant, registration, wished_price='31,800.50', family_size='4'
        )
        self.assertTrue(request.sensitive)
        self.assertEqual(
            lines_of(request),
            [
                ('wished_price', None, '31800.50', True),
                ('family_size', '3', '4', False),
            ],
        )
        with as_user(secretary), self.assertRaises(ChangeRequestError) as cm:
            Request.apply([request])
        self.assertIn('意向单价', str(cm.exception))
        with as_user(manager):
            Request.approve([request])
        with as_user(secretary):
            Request.apply([request])
        answers = Registration(registration.id).answer_data
        self.assertEqual(
            (answers['wished_price'], answers['family_size']),
            (Decimal('31800.50'), 4),
        )
