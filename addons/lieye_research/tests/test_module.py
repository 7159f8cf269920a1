# This file is part of lieye_research.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class LieyeResearchTestCase(ModuleTestCase):
    "Test lieye_research module"

    module = 'lieye_research'


del ModuleTestCase
