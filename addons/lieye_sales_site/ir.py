# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "lieye_projects" as list of ids of the projects '
            'the current user is a member of'
            '\n- "lieye_pool" as True when the user looks at the public pool'
        )

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (
            *key,
            Transaction().user,
            User.get_lieye_projects(),
            bool(Transaction().context.get('lieye_pool')),
        )

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        context['lieye_projects'] = list(User.get_lieye_projects())
        context['user_id'] = Transaction().user
        # Consultants read the public pool of their projects from its
        # own list only, so that elsewhere they keep seeing their own.
        context['lieye_pool'] = bool(Transaction().context.get('lieye_pool'))
        return context


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('lieye.customer|update_pool', "Update the Public Pool of Customers")
        )


class Session(metaclass=PoolMeta):
    __name__ = 'ir.session'

    @classmethod
    def check(cls, user, key, domain=None):
        # S2.1: the core only enforces the absolute max_age, so the idle time
        # set by the administrator is enforced here, on every call.
        # Deleting the session makes the client ask for the password again
        # and replay the refused call.
        find = super().check(user, key, domain=domain)
        if not find:
            return find
        pool = Pool()
        Configuration = pool.get('lieye.configuration')
        idle_timeout = Configuration.get_idle_timeout()
        if not idle_timeout:
            return find
        # The core check has just stored when the session was last used.
        last_used = cls._session_reset_cache.get(key)
        if last_used and dt.datetime.now() - last_used > idle_timeout:
            with without_check_access():
                cls.delete(cls.search([('create_uid', '=', user), ('key', '=', key)]))
            return False
        return find

    @classmethod
    def reset(cls, key, domain=None):
        # The core refreshes only sessions active within [session] timeout,
        # at most every tenth of it; the idle time set in the back office
        # rules instead so an active user is never locked out.
        pool = Pool()
        Configuration = pool.get('lieye.configuration')
        idle_timeout = Configuration.get_idle_timeout()
        if not idle_timeout:
            return super().reset(key, domain=domain)
        last_reset = cls._session_reset_cache.get(key)
        now = dt.datetime.now()
        if last_reset is None or now - last_reset > idle_timeout / 10:
            with without_check_access():
                sessions = cls.search([('key', '=', key), domain or []])
                cls.write(sessions, {})
