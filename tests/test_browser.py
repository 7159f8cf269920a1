"""Browser tests: the sao web client driven by Playwright on Debian's
Chromium, against the SQLite demo server of conftest.py.

Chromium is never downloaded (no `playwright install`): the tests use
/usr/bin/chromium (apt-get install chromium fonts-noto-cjk). Without it
they are skipped, except under CI=true where they fail."""

import datetime as dt
import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import DEMO_PASSWORD

CHROMIUM = Path('/usr/bin/chromium')
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
]
TIMEOUT = 60_000  # ms, for every Playwright wait and expect
DESKTOP = {'width': 1280, 'height': 800}
IPAD = {'width': 1024, 'height': 768}


def require_chromium():
    if not CHROMIUM.exists():
        reason = f'no Chromium at {CHROMIUM} (apt-get install chromium)'
        if os.environ.get('CI') == 'true':
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope='module')
def browser():
    require_chromium()
    expect.set_options(timeout=TIMEOUT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def new_page(browser, viewport=DESKTOP):
    "A page in a fresh context (no sao session in local storage)"
    context = browser.new_context(
        viewport=viewport, locale='zh-CN', timezone_id='Asia/Shanghai'
    )
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def login(page, server, user, password=DEMO_PASSWORD):
    """Log in through sao's dialogs: database and user name, then password.
    Return once the main menu is shown."""
    # The database in the URL fragment is the one sao logs in to.
    page.goto(f'{server.url}/#{server.database}')
    dialog = page.locator('.login-dialog')
    # sao shows the database as a select (several databases) or an input
    # (readonly when the server lists only that one).
    database = dialog.locator('#database:visible')
    expect(database).to_have_value(server.database)
    dialog.locator('#login').fill(user)
    dialog.locator('button[type=submit]').click()
    enter_password(page, password)
    expect(page.locator('#menu table.tree > tbody > tr').first).to_be_visible()


def password_prompt(page):
    "sao's password prompt (at login and when the server ends the session)"
    return page.locator('.ask-dialog').filter(has=page.locator('input[type=password]'))


def enter_password(page, password=DEMO_PASSWORD):
    "Answer sao's password prompt"
    ask = password_prompt(page)
    ask.locator('input[type=password]').fill(password)
    ask.locator('.modal-footer .btn-primary').click()


def click_menu(page, *path):
    """Click the menu entries of path in turn, as a user does: a click
    expands an entry and runs its action (which opens a tab)."""
    menu = page.locator('#menu')
    for name in path:
        menu.locator('table.tree > tbody > tr').filter(
            has=page.get_by_text(name, exact=True)
        ).click()


def open_menu(page, *path):
    """Click the menu entries of path and return the tab pane of the last
    entry, once its tab is shown."""
    click_menu(page, *path)
    tab = page.locator('#tablist li.active')
    expect(tab).to_contain_text(path[-1])
    return page.locator('#tabcontent > .tab-pane.active')


def list_rows(pane):
    "The record rows of the list in a tab pane"
    return pane.locator('table.tree > tbody > tr:not(.more-row)')


def show_all_rows(pane, total):
    """Draw the total rows of the list: sao draws 20 rows, then a "More"
    button for each next 20."""
    rows = list_rows(pane)
    drawn = rows.count()
    while drawn < total:
        pane.locator('tr.more-row button').click()
        expect(rows).not_to_have_count(drawn)
        drawn = rows.count()
    expect(rows).to_have_count(total)


def session_key(page):
    "The server's session key of the page, from trytond's session cookie"
    (cookie,) = [c for c in page.context.cookies() if c['name'] == 'tryton_session']
    # The cookie is "login:user id:key".
    return unquote(cookie['value']).rsplit(':', 2)[2]


def age_sessions(server, login, minutes):
    "Pretend the user's sessions were last used minutes ago (test_session.py)"
    past = dt.datetime.now() - dt.timedelta(minutes=minutes)
    server.sql(
        'UPDATE ir_session SET write_date = %s, create_date = %s '
        'WHERE create_uid = (SELECT id FROM res_user WHERE login = %s)',
        (past, past, login),
    )


def session_exists(server, key):
    return bool(server.sql('SELECT 1 FROM ir_session WHERE key = %s', (key,)))


def count_rooms(server, project_code):
    return server.sql(
        'SELECT COUNT(*) FROM lieye_room AS r '
        'JOIN lieye_project AS p ON p.id = r.project '
        'WHERE p.code = %s',
        (project_code,),
    )[0][0]


# R: S1.3, S2.2
@pytest.mark.parametrize(
    'viewport, screenshot',
    [
        (DESKTOP, 'secretary1-rooms.png'),
        (IPAD, 'secretary1-rooms-ipad.png'),
    ],
    ids=['desktop', 'ipad'],
)
def test_secretary_sees_own_project_rooms(
    browser, sqlite_server, artifacts, viewport, screenshot
):
    "secretary1, member of DEMO1 only, lists the rooms of DEMO1 only"
    page = new_page(browser, viewport)
    errors = []  # uncaught JavaScript exceptions of sao
    page.on('pageerror', lambda error: errors.append(error))
    try:
        login(page, sqlite_server, 'secretary1')
        expect(
            page.locator('#menu').get_by_text('销售信息系统', exact=True)
        ).to_be_visible()

        rooms = open_menu(page, '销售信息系统', '案场', '房源')
        expect(list_rows(rooms).first).to_be_visible()
        expect(rooms.get_by_text('1-101', exact=True)).to_be_visible()
        # The tab's badge counts the records of the list ("_/124"), drawn
        # or not.
        total = count_rooms(sqlite_server, 'DEMO1')
        expect(rooms.locator('.badge').first).to_have_text(f'_/{total}')
        show_all_rows(rooms, total)
        expect(rooms.get_by_text('3-2602', exact=True)).to_be_visible()
        expect(rooms.get_by_text('5-101', exact=True)).to_have_count(0)
        list_rows(rooms).first.scroll_into_view_if_needed()

        page.screenshot(path=artifacts / screenshot, full_page=True)
        assert not errors, errors
    finally:
        page.context.close()


# R: S2.1, C1.1
def test_idle_lock_asks_password_and_resumes(browser, sqlite_server, artifacts):
    """After the idle time the server ends the session; sao asks for the
    password and, once given, carries on with what the user was doing."""
    page = new_page(browser)
    errors = []  # uncaught JavaScript exceptions of sao
    page.on('pageerror', lambda error: errors.append(error))
    try:
        login(page, sqlite_server, 'consultant1')
        projects = open_menu(page, '销售信息系统', '案场')
        expect(projects.get_by_text('立业·江悦府', exact=True)).to_be_visible()
        old_key = session_key(page)
        assert session_exists(sqlite_server, old_key)

        # Two hours without a call, beyond the 30 minutes of idle time.
        age_sessions(sqlite_server, 'consultant1', 120)
        click_menu(page, '房源')

        prompt = password_prompt(page)
        expect(prompt).to_be_visible()
        # The prompt's text is the server's: English ("Password for
        # consultant1") as at login, since sao sends its language as
        # "zh-CN" and trytond only knows "zh_CN". Its buttons are sao's.
        expect(prompt.locator('label')).to_contain_text('consultant1')
        expect(prompt.locator('.modal-footer .btn-primary')).to_have_text('确定')
        expect(prompt.locator('input[type=password]')).to_be_focused()
        assert not session_exists(sqlite_server, old_key), (
            'the idle session is deleted on the server'
        )
        page.screenshot(path=artifacts / 'idle-lock-password-prompt.png')

        enter_password(page)
        expect(prompt).to_be_hidden()
        # The refused call is replayed: the rooms open, next to the
        # projects' tab, without going back to the start page.
        rooms = page.locator('#tabcontent > .tab-pane.active')
        expect(page.locator('#tablist li.active')).to_contain_text('房源')
        expect(rooms.get_by_text('1-101', exact=True)).to_be_visible()
        expect(page.locator('#tablist li')).to_have_count(2)
        expect(page.locator('#tablist li').first).to_contain_text('案场')

        new_key = session_key(page)
        assert new_key != old_key
        assert session_exists(sqlite_server, new_key)
        assert not session_exists(sqlite_server, old_key)
        assert not errors, errors
    finally:
        page.context.close()
