# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The records most tests of the module start from"

from contextlib import contextmanager

from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase, activate_module, drop_db
from trytond.transaction import Transaction


def dictionary(project, category, code):
    "Return the project's copy of the dictionary value"
    Dictionary = Pool().get('lieye.dictionary')
    (value,) = Dictionary.search(
        [('project', '=', project.id), ('category', '=', category), ('code', '=', code)]
    )
    return value


def new_user(login, group):
    "Create a user in the module's group"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    (user,) = User.create(
        [
            {
                'login': login,
                'name': login,
                'groups': [('add', [ModelData.get_id('lieye_sales_site', group)])],
            }
        ]
    )
    return user


def add_member(project, user, role):
    "Add user to the team of project with role and return user"
    Member = Pool().get('lieye.project.member')
    Member.create([{'project': project.id, 'user': user.id, 'role': role}])
    return user


def site_team(project):
    "Add a secretary and a sales manager to project and return them"
    code = project.code
    return (
        add_member(project, new_user(f's-{code}', 'group_secretary'), 'secretary'),
        add_member(
            project, new_user(f'm-{code}', 'group_sales_manager'), 'sales_manager'
        ),
    )


@contextmanager
def as_user(user, **context):
    "Run as user with the access checks of a client call"
    transaction = Transaction()
    with (
        transaction.set_user(user.id),
        transaction.set_context(_check_access=True, **context),
    ):
        yield


def setup_project(code='P1', consultants=1):
    "Return a selling project followed by its consultants"
    Project = Pool().get('lieye.project')
    users = [
        new_user(f'c{n}-{code}', 'group_consultant') for n in range(1, consultants + 1)
    ]
    (project,) = Project.create(
        [
            {
                'code': code,
                'name': code,
                'state': 'selling',
                'members': [
                    ('create', [{'user': u.id, 'role': 'consultant'} for u in users])
                ],
            }
        ]
    )
    return (project, *users)


def new_customer(project, owner, phone='13800138000', values=None, **person):
    """Create a customer group of one person; values are the group's,
    the keywords the person's"""
    Customer = Pool().get('lieye.customer')
    person = dict({'relation': 'self', 'name': '张三', 'phone': phone}, **person)
    (customer,) = Customer.create(
        [
            dict(
                {
                    'project': project.id,
                    'owner': owner.id,
                    'persons': [('create', [person])],
                },
                **(values or {}),
            )
        ]
    )
    return customer


def new_registration(customer, stage='walk_in', **values):
    "Create a draft registration of the customer by its owner"
    Registration = Pool().get('lieye.registration')
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


def submitted_walk_in(project, consultant, phone='13800138000', **values):
    "Return a complete walk-in registration submitted by its consultant"
    Registration = Pool().get('lieye.registration')
    customer = new_customer(project, consultant, phone=phone)
    registration = new_registration(
        customer,
        residence_district=dictionary(project, 'district', 'local_core').id,
        purpose=dictionary(project, 'purpose', 'own_use').id,
        **values,
    )
    with Transaction().set_user(consultant.id):
        Registration.submit([registration])
    return registration


def notifications(user):
    "Return the notifications to user the transaction sends at commit"
    return [n for n in Transaction().user_notifications if n.user == user]


class SalesSiteTestCase(TestCase):
    "A test case on a database with the module activated"

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
