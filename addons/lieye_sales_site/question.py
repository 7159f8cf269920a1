# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import json
from decimal import Decimal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin,
    DictSchemaMixin,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .customer import INTENTS, STAGES
from .dictionary import CATEGORIES
from .exceptions import AnswerError
from .model import ValueTypeMixin

SECTIONS = [
    ('identity', "Identity"),
    ('residence_work', "Residence and Work"),
    ('needs', "Needs"),
    ('concerns', "Concerns"),
    ('channel', "Channel"),
    ('notes', "Consultant's Notes"),
    ('family', "Family"),
    ('other', "Other"),
]
DIMENSIONS = [
    (None, ""),
    ('age_band', "Age Band"),
    ('income', "Income"),
    ('position', "Position"),
    ('occupation', "Occupation"),
    ('purpose', "Purchase Purpose"),
    ('area_need', "Area Need"),
    ('budget', "Budget"),
    ('family_structure', "Family Structure"),
    ('district', "District"),
    ('how_heard', "How They Heard"),
    ('concern', "Concern"),
]


class Question(
    ValueTypeMixin,
    DictSchemaMixin,
    DeactivableMixin,
    sequence_ordered(),
    ModelSQL,
    ModelView,
):
    "Questionnaire item (问卷题目)"

    __name__ = 'lieye.question'

    dictionary_category = fields.Selection(
        [(None, "")] + CATEGORIES,
        "Options from Dictionary",
        states={
            'invisible': ~Eval('type_').in_(['selection', 'multiselection']),
        },
        help="Take the options from the project's dictionary instead of "
        "the list below.",
    )
    required = fields.Boolean(
        "Required", help="Submission is refused while the answer is empty."
    )
    projects = fields.Many2Many(
        'lieye.question-lieye.project',
        'question',
        'project',
        "Projects",
        help="Leave empty to ask in every project.",
    )
    stages = fields.MultiSelection(
        STAGES, "Stages", help="Leave empty to ask at every stage."
    )
    grades = fields.Many2Many(
        'lieye.question-lieye.dictionary',
        'question',
        'grade',
        "Grades",
        domain=[('category', '=', 'grade')],
        help="Leave empty to ask for every grade.",
    )
    intents = fields.MultiSelection(
        INTENTS[1:], "Intents", help="Leave empty to ask for every intent."
    )
    section = fields.Selection(
        SECTIONS,
        "Section",
        required=True,
        help="Where the question appears in the questionnaire.",
    )
    dimension = fields.Selection(
        DIMENSIONS,
        "Profile Dimension",
        help="The canonical customer-profile dimension the answer feeds, "
        "so that reports compare projects.",
    )
    _applicable_cache = Cache(__name__ + '.applicable', context=False)
    _definitions_cache = Cache(__name__ + '.definitions', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.name.string = "Key"
        cls.string.string = "Question"

    @classmethod
    def default_section(cls):
        return 'other'

    def get_selection_json(self, name):
        pool = Pool()
        Dictionary = pool.get('lieye.dictionary')
        Project = pool.get('lieye.project')
        if name == 'selection_json' and self.dictionary_category:
            project_id = Transaction().context.get('lieye_project')
            project = Project(project_id) if project_id else None
            values = Dictionary.values_for(project, self.dictionary_category)
            return json.dumps(
                [[v.code, v.name] for v in values],
                separators=(',', ':'),
                ensure_ascii=False,
            )
        return super().get_selection_json(name)

    def applies(self, project, stage, grade, intent):
        return (
            (not self.projects or project in self.projects)
            and (not self.stages or stage in self.stages)
            and (
                not self.grades
                or (grade and grade.code in {g.code for g in self.grades})
            )
            and (not self.intents or intent in self.intents)
        )

    @classmethod
    def applicable(cls, project, stage, grade=None, intent=None):
        "Return the active questions asked for this entry, in order"
        key = (project.id, stage, grade.code if grade else None, intent)
        ids = cls._applicable_cache.get(key)
        if ids is None:
            ids = [
                q.id for q in cls.search([]) if q.applies(project, stage, grade, intent)
            ]
            cls._applicable_cache.set(key, ids)
        return cls.browse(ids)

    @classmethod
    def on_modification(cls, mode, questions, field_names=None):
        super().on_modification(mode, questions, field_names=field_names)
        cls._applicable_cache.clear()
        cls._definitions_cache.clear()

    @classmethod
    def definitions(cls, project):
        """Return {key: (type, label, option keys or None)} of every question,
        active or not, with the options of project's dictionaries"""
        definitions = cls._definitions_cache.get(project.id)
        if definitions is None:
            definitions = {}
            with Transaction().set_context(lieye_project=project.id):
                for question in cls.search([('active', 'in', [True, False])]):
                    options = None
                    if question.type_ in {'selection', 'multiselection'}:
                        options = sorted(question.option_keys())
                    definitions[question.name] = (
                        question.type_,
                        question.string,
                        options,
                    )
            cls._definitions_cache.set(project.id, definitions)
        return {
            k: (t, s, set(o) if o is not None else None)
            for k, (t, s, o) in definitions.items()
        }

    @staticmethod
    def is_empty(value):
        return value is None or value == '' or value == []

    @classmethod
    def check_value(cls, definition, value):
        "Raise AnswerError if value does not fit the question definition"
        type_, label, options = definition
        if cls.is_empty(value):
            return
        number = isinstance(value, (int, float, Decimal)) and not isinstance(
            value, bool
        )
        valid = {
            'boolean': lambda v: isinstance(v, bool),
            'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
            'float': lambda v: number,
            'numeric': lambda v: number,
            'char': lambda v: isinstance(v, str),
            'date': lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
            'datetime': lambda v: isinstance(v, dt.datetime),
            'selection': lambda v: isinstance(v, str) and v in options,
            'multiselection': lambda v: (
                isinstance(v, (list, tuple)) and set(v) <= options
            ),
        }[type_]
        if not valid(value):
            raise AnswerError(
                gettext(
                    'lieye_sales_site.msg_answer_invalid', question=label, value=value
                )
            )

    def option_keys(self):
        return {k for k, _ in json.loads(self.selection_json)}


class QuestionProject(ModelSQL):
    "Question - Project"

    __name__ = 'lieye.question-lieye.project'
    question = fields.Many2One(
        'lieye.question', "Question", required=True, ondelete='CASCADE'
    )
    project = fields.Many2One(
        'lieye.project', "Project", required=True, ondelete='CASCADE'
    )


class QuestionGrade(ModelSQL):
    "Question - Grade"

    __name__ = 'lieye.question-lieye.dictionary'
    question = fields.Many2One(
        'lieye.question', "Question", required=True, ondelete='CASCADE'
    )
    grade = fields.Many2One(
        'lieye.dictionary', "Grade", required=True, ondelete='CASCADE'
    )
