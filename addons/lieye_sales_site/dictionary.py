# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin,
    Index,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.wizard import StateTransition, Wizard

from .model import ProjectMany2One, ValueTypeMixin

CATEGORIES = [
    ('how_heard', "How They Heard"),
    ('district', "District"),
    ('industry', "Industry"),
    ('position', "Position"),
    ('purchase_count', "Home Purchases"),
    ('purpose', "Purchase Purpose"),
    ('payment_method', "Payment Method"),
    ('concern_factor', "Concern Factor"),
    ('age_band', "Age Band"),
    ('household_income', "Household Monthly Income"),
    ('family_structure', "Family Structure"),
    ('area_need', "Required Area"),
    ('grade', "Customer Grade"),
    ('followup_method', "Follow-up Method"),
    ('member_tier', "Member Tier"),
]


def dictionary_field(string, category, **kwargs):
    "Return a field for a value of category of the record's project"
    return ProjectMany2One(
        'lieye.dictionary', string, where={'category': category}, **kwargs
    )


class Dictionary(
    ValueTypeMixin, DeactivableMixin, sequence_ordered(), ModelSQL, ModelView
):
    "Dictionary value (字典)"

    __name__ = 'lieye.dictionary'

    category = fields.Selection(CATEGORIES, "Category", required=True)
    category_string = category.translated('category')
    code = fields.Char(
        "Code",
        required=True,
        strip=True,
        help="Stable key of the value; keep it when the label changes.",
    )
    name = fields.Char("Label", required=True)
    project = fields.Many2One(
        'lieye.project',
        "Project",
        ondelete='CASCADE',
        help="Leave empty for the global value that new projects copy.",
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(
                t,
                (t.project, Index.Equality()),
                (t.category, Index.Equality()),
                (t.code, Index.Equality()),
            )
        )
        cls._order.insert(0, ('category', 'ASC'))
        cls._order.insert(0, ('project', 'ASC NULLS FIRST'))

    @classmethod
    def on_modification(cls, mode, values, field_names=None):
        pool = Pool()
        Question = pool.get('lieye.question')
        super().on_modification(mode, values, field_names=field_names)
        # Questions may take their options from the dictionaries.
        Question._definitions_cache.clear()

    @classmethod
    def validate(cls, values):
        super().validate(values)
        for value in values:
            value.check_unique()

    def check_unique(self):
        # A SQL unique constraint would let several global values share a
        # code because NULL projects are distinct.
        project = self.project.id if self.project else None
        duplicates = self.search(
            [
                ('project', '=', project),
                ('category', '=', self.category),
                ('code', '=', self.code),
                ('id', '!=', self.id),
                ('active', 'in', [True, False]),
            ],
            limit=1,
        )
        if duplicates:
            raise ValidationError(
                gettext(
                    'lieye_sales_site.msg_dictionary_code_unique',
                    category=self.category_string,
                    code=self.code,
                )
            )

    @classmethod
    def copy_globals(cls, projects):
        "Give projects a copy of the global values they do not have yet"
        globals_ = cls.search([('project', '=', None)])
        for project in projects:
            existing = {
                (d.category, d.code)
                for d in cls.search(
                    [
                        ('project', '=', project.id),
                        ('active', 'in', [True, False]),
                    ]
                )
            }
            to_copy = [d for d in globals_ if (d.category, d.code) not in existing]
            cls.copy(to_copy, default={'project': project.id})

    @classmethod
    def values_for(cls, project, category):
        """Return the active values of category for project:
        the project's own copy if it has one, otherwise the global set"""
        values = cls.search(
            [
                ('project', '=', project.id if project else None),
                ('category', '=', category),
            ]
        )
        if not values and project:
            values = cls.search(
                [
                    ('project', '=', None),
                    ('category', '=', category),
                ]
            )
        return values


class CopyDictionaries(Wizard):
    "Copy the global dictionaries into a project"

    __name__ = 'lieye.project.copy_dictionaries'

    start = StateTransition()

    def transition_start(self):
        pool = Pool()
        Dictionary = pool.get('lieye.dictionary')
        Dictionary.copy_globals(self.records)
        return 'end'

    def end(self):
        return 'reload'
