# This file is part of lieye_channel_crm.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
