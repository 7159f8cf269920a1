# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.cache import Cache
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.transaction import without_check_access

DEFAULT_IDLE_MINUTES = 30


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'lieye.configuration'

    idle_timeout = fields.Integer(
        "Idle Lock (minutes)",
        required=True,
        domain=[('idle_timeout', '>=', 1), ('idle_timeout', '<=', 24 * 60)],
        help="After this many minutes without any action the window locks "
        "and the user must enter the password again.",
    )
    _idle_timeout_cache = Cache(__name__ + '.get_idle_timeout', context=False)

    @classmethod
    def default_idle_timeout(cls):
        return DEFAULT_IDLE_MINUTES

    @classmethod
    def get_idle_timeout(cls):
        "Return the idle time after which sessions are refused"
        minutes = cls._idle_timeout_cache.get(None, -1)
        if minutes == -1:
            with without_check_access():
                minutes = cls(1).idle_timeout
            cls._idle_timeout_cache.set(None, minutes)
        return dt.timedelta(minutes=minutes) if minutes else None

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._idle_timeout_cache.clear()
