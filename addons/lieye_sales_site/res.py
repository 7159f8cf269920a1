# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from sql import Literal
from trytond.cache import Cache
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    _get_lieye_projects_cache = Cache(__name__ + '.get_lieye_projects', context=False)

    @classmethod
    def get_login(cls, login, parameters):
        # The web client sends the browser's form of the language (zh-CN)
        # while messages are stored under Tryton's code (zh_CN): without
        # this the password prompt and login errors would be in English.
        language = Transaction().language
        if language and '-' in language:
            with Transaction().set_context(language=language.replace('-', '_')):
                return super().get_login(login, parameters)
        return super().get_login(login, parameters)

    @classmethod
    def get_lieye_projects(cls):
        "Return a sorted tuple of the ids of the user's active projects"
        pool = Pool()
        Member = pool.get('lieye.project.member')
        transaction = Transaction()
        user_id = transaction.user
        projects = cls._get_lieye_projects_cache.get(user_id)
        if projects is not None:
            return projects
        member = Member.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(
            *member.select(
                member.project,
                where=(member.user == user_id) & (member.active == Literal(True)),
                group_by=[member.project],
            )
        )
        projects = tuple(sorted(p for (p,) in cursor))
        return cls._get_lieye_projects_cache.set(user_id, projects)
