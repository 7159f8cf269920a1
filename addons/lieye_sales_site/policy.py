# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from .exceptions import PolicyError, PolicyLockedError
from .model import ValueTypeMixin, WorkflowStepMixin, step_fields

# The site's protection period of a customer, in days without contact, by
# category. A project without an approved policy follows these, so that
# the pool works from the first day of sales.
DEFAULT_DAYS = {
    'call': 15,
    'walk_in': 7,
    'followed': 30,
    'qualified': 45,
    'card_holder': 60,
}
DAY_FIELDS = [f'{category}_days' for category in DEFAULT_DAYS]
DEFAULT_WARNING_DAYS = 3
# Customers who subscribed or signed stay with their consultant.
DEAL_STAGES = {'subscribed', 'signed'}


def days_field(name, string, help):
    return fields.Integer(
        string,
        domain=['OR', (name, '=', None), (name, '>=', 1)],
        states={'readonly': Eval('state') != 'draft'},
        help=help + "\nLeave empty for never.",
    )


class Policy(ValueTypeMixin, WorkflowStepMixin, Workflow, ModelSQL, ModelView):
    "Public pool policy of a project (公客池规则)"

    __name__ = 'lieye.project.policy'
    _history = True
    _steps = {
        'submitted': ('submitted_by', 'submitted_at'),
        'approved': ('decided_by', 'decided_at'),
        'rejected': ('decided_by', 'decided_at'),
    }

    project = fields.Many2One(
        'lieye.project',
        "Project",
        required=True,
        ondelete='CASCADE',
        states={'readonly': Eval('state') != 'draft'},
    )
    call_days = days_field(
        'call_days',
        "Phone Inquiries (days)",
        "Days a phone inquiry without follow-up stays with its consultant.",
    )
    walk_in_days = days_field(
        'walk_in_days',
        "Walk-in Prospects (days)",
        "Days a walk-in prospect without follow-up stays with its consultant.",
    )
    followed_days = days_field(
        'followed_days',
        "Followed-up Prospects (days)",
        "Days after the last follow-up for phone inquiries and walk-in "
        "prospects followed up at least once.",
    )
    qualified_days = days_field(
        'qualified_days',
        "Qualified Customers (days)",
        "Days after the last contact for qualified customers.",
    )
    card_holder_days = days_field(
        'card_holder_days',
        "Card Holders (days)",
        "Days after the last contact for card holders.",
    )
    warning_days = fields.Integer(
        "Warning (days before)",
        required=True,
        domain=[('warning_days', '>=', 0)],
        states={'readonly': Eval('state') != 'draft'},
        help="How many days before the deadline the consultant is warned; "
        "0 for no warning.",
    )
    note = fields.Text("Note", states={'readonly': Eval('state') != 'draft'})
    state = fields.Selection(
        [
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('superseded', "Superseded"),
        ],
        "State",
        readonly=True,
        required=True,
        sort=False,
    )
    state_string = state.translated('state')
    submitted_by, submitted_at = step_fields("Submitted")
    decided_by, decided_at = step_fields(
        "Decided", help="The project director who approved or rejected the policy."
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.project, Index.Equality()), where=t.state == 'approved')
        )
        cls._order.insert(0, ('create_date', 'DESC'))
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('rejected', 'draft'),
            ('approved', 'superseded'),
        }
        cls._buttons.update(
            {
                'draft': {
                    'invisible': ~Eval('state').in_(['submitted', 'rejected']),
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                },
                'approve': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                },
                'reject': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                },
            }
        )

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_call_days(cls):
        return DEFAULT_DAYS['call']

    @classmethod
    def default_walk_in_days(cls):
        return DEFAULT_DAYS['walk_in']

    @classmethod
    def default_followed_days(cls):
        return DEFAULT_DAYS['followed']

    @classmethod
    def default_qualified_days(cls):
        return DEFAULT_DAYS['qualified']

    @classmethod
    def default_card_holder_days(cls):
        return DEFAULT_DAYS['card_holder']

    @classmethod
    def default_warning_days(cls):
        return DEFAULT_WARNING_DAYS

    @classmethod
    def default_project(cls):
        return Pool().get('lieye.registration').default_project()

    def get_rec_name(self, name):
        return f'{self.project.rec_name} · {self.state_string}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('project.rec_name',) + tuple(clause[1:])]

    @classmethod
    def check_modification(cls, mode, policies, values=None, external=False):
        super().check_modification(mode, policies, values=values, external=external)
        # Only the workflow moves a policy on, and a submitted one is the
        # text the director decides on: it changes only as a draft.
        if not external or mode == 'create':
            return
        if mode == 'write' and set(values) & cls.workflow_fields():
            raise PolicyLockedError(gettext('lieye_sales_site.msg_policy_workflow'))
        for policy in policies:
            if policy.state != 'draft':
                raise PolicyLockedError(
                    gettext(
                        'lieye_sales_site.msg_policy_locked', policy=policy.rec_name
                    )
                )

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, policies):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, policies):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, policies):
        projects = [p.project for p in policies]
        if len(set(projects)) < len(projects):
            raise PolicyError(gettext('lieye_sales_site.msg_policy_approve_one'))
        # One policy rules a project: the one approved last.
        cls.supersede(
            cls.search(
                [
                    ('project', 'in', [p.id for p in projects]),
                    ('state', '=', 'approved'),
                ]
            )
        )

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, policies):
        pass

    @classmethod
    @Workflow.transition('superseded')
    def supersede(cls, policies):
        pass

    @classmethod
    def on_modification(cls, mode, policies, field_names=None):
        pool = Pool()
        Customer = pool.get('lieye.customer')
        super().on_modification(mode, policies, field_names=field_names)
        if mode == 'write' and 'state' in field_names:
            projects = [p.project.id for p in policies if p.state == 'approved']
            if projects:
                with without_check_access():
                    Customer.update_pool_deadline(
                        Customer.search([('project', 'in', projects)], order=[])
                    )

    @classmethod
    def in_force(cls, project_ids):
        "Return the policy ruling each project: its approved one or the defaults"
        project_ids = set(project_ids)
        with without_check_access():
            approved = cls.search(
                [('project', 'in', list(project_ids)), ('state', '=', 'approved')]
            )
        policies = dict.fromkeys(
            project_ids,
            cls(**cls.default_get(['warning_days', *DAY_FIELDS], with_rec_name=False)),
        )
        policies.update((p.project.id, p) for p in approved)
        return policies

    def pool_days(self, stage, followed):
        """Return the days a customer of stage stays with its consultant
        without contact, or None if it never goes to the pool"""
        if stage in DEAL_STAGES:
            return None
        if stage in {'call', 'walk_in'} and followed:
            return self.followed_days
        return getattr(self, f'{stage}_days')

    def deadline(self, stage, followed, last_contact):
        "Return the last day the customer stays with its consultant"
        days = self.pool_days(stage, followed)
        if days is not None:
            return last_contact + dt.timedelta(days=days)
