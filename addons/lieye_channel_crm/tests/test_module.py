# This file is part of lieye_channel_crm.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class LieyeChannelCrmTestCase(ModuleTestCase):
    "Test lieye_channel_crm module"

    module = 'lieye_channel_crm'


del ModuleTestCase
