# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import json
from contextlib import contextmanager

from trytond.pool import Pool
from trytond.transaction import Transaction


@contextmanager
def recipient_language(user):
    """Render messages and dates in the language of user, who reads the
    notification, not in that of whoever acted; yield the ir.lang"""
    Lang = Pool().get('ir.lang')
    language = user.language.code if user.language else None
    with Transaction().set_context(language=language):
        yield Lang.get()


def notify(user, icon, label, description=None, records=(), **extra):
    """Send user a notification when the transaction commits, as the core
    notify_user does, opening records (of one model) if any

    The core one needs records: it cannot tell a consultant about customers
    they may no longer read."""
    Notification = Pool().get('res.notification')
    Transaction().user_notifications.append(
        Notification(
            user=user,
            icon=icon,
            label=label,
            description=description,
            model=records[0].__name__ if records else None,
            records=json.dumps([r.id for r in records]) if records else None,
            **extra,
        )
    )
