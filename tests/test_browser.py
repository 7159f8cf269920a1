"""Browser tests: the sao web client driven by Playwright on Debian's
Chromium, against the SQLite demo server of conftest.py.

Chromium is never downloaded (no `playwright install`): the tests use
/usr/bin/chromium (apt-get install chromium fonts-noto-cjk). Without it
they are skipped, except under CI=true where they fail."""

import datetime as dt
import os
import re
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


def field(scope, name):
    "The input (or select) of the field name in a sao form"
    return scope.locator(f'[name="{name}"]')


def selected_text(select):
    "The option shown by a sao selection field"
    return select.locator('option:checked')


def open_page(pane, title):
    "Show the notebook page title of the form in pane"
    pane.get_by_role('tab', name=title, exact=True).click()
    # sao marks every tab aria-expanded; the shown one is li.active.
    expect(pane.locator('.nav-tabs > li.active')).to_have_text(title)


def fill_integer(scope, label, value):
    """Enter value in the integer field labelled label. sao shows integers
    in a text box and swaps in a number box when it gets the focus."""
    scope.get_by_role('textbox', name=label).click()
    number = scope.get_by_role('spinbutton', name=label)
    expect(number).to_be_focused()
    number.fill(str(value))
    number.press('Tab')  # sao takes the value on leaving the field
    expect(scope.get_by_role('textbox', name=label)).to_have_value(str(value))


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


WALK_IN_PHONE = '13912345678'  # the database is built afresh for each run


# R: S2.2, S2.10, S2.11, G1, G3
def test_consultant_registers_walk_in_on_ipad(browser, sqlite_server, artifacts):
    """On an iPad, consultant1 registers a new walk-in from the phone number,
    is told in Chinese which required items are missing, fills them in and
    submits the registration."""
    page = new_page(browser, IPAD)
    errors = []  # uncaught JavaScript exceptions of sao
    page.on('pageerror', lambda error: errors.append(error))
    try:
        login(page, sqlite_server, 'consultant1')

        # The entry wizard opens as a dialog, on the consultant's project.
        click_menu(page, '销售信息系统', '客户', '客户登记')
        wizard = page.locator('.wizard-dialog').filter(has_text='客户登记')
        expect(field(wizard, 'project')).to_have_value('[DEMO1] 立业·江悦府')
        phone = field(wizard, 'phone')
        # The click waits for the dialog to stop moving (its opening
        # animation): sao moves the focus to the first field until then,
        # and text typed meanwhile would land there.
        phone.click()
        phone.fill(WALK_IN_PHONE)
        phone.press('Tab')  # sao checks the phone on leaving the field
        expect(wizard.get_by_text('客户判重')).to_be_visible()
        expect(field(wizard, 'known')).to_have_value(re.compile('^新客户'))
        stage = field(wizard, 'stage')
        stage.select_option(label='泛客户')
        name = field(wizard, 'name')
        name.fill('测试客户')
        # Leave the name before pressing 登记: when a click both ends an edit
        # and presses a button, sao redraws its selections meanwhile and
        # sends their first option (来电) instead of the chosen stage.
        name.press('Tab')
        expect(selected_text(stage)).to_have_text('泛客户')
        page.screenshot(path=artifacts / 'walk-in-entry-start.png')
        wizard.get_by_role('button', name='登记').click()
        expect(wizard).to_be_hidden()

        # The new draft registration opens in its form.
        expect(page.locator('#tablist li.active')).to_contain_text('录入单')
        form = page.locator('#tabcontent > .tab-pane.active')
        expect(field(form, 'customer')).to_have_value(
            re.compile(r'^测试客户 \(DEMO1-\d+\)$')
        )
        expect(selected_text(field(form, 'stage'))).to_have_text('泛客户')
        state = field(form, 'state')
        expect(selected_text(state)).to_have_text('草稿')

        # Submitting too early lists the empty required items in Chinese.
        submit = form.get_by_role('button', name='提交')
        submit.click()
        warning = page.locator('.warning-dialog')
        expect(warning).to_contain_text('必填项')
        for label in ('知晓途径', '居住区域', '购买目的', '家庭成员人数'):
            expect(warning).to_contain_text(label)
        # sao focuses 确定 once the dialog has faded in.
        ok = warning.get_by_role('button', name='确定')
        expect(ok).to_be_focused()
        page.screenshot(path=artifacts / 'walk-in-missing-items.png')
        ok.click()
        expect(warning).to_be_hidden()
        expect(selected_text(state)).to_have_text('草稿')

        # The dictionaries are selections (each value is listed twice, the
        # global one and the project's copy: the first is taken).
        for page_title, item, value in (
            ('渠道', 'how_heard', '网络'),
            ('居住与工作', 'residence_district', '本区核心'),
            ('置业需求', 'purpose', '自住'),
        ):
            open_page(form, page_title)
            field(form, item).select_option(label=value)
            expect(selected_text(field(form, item))).to_have_text(value)
        open_page(form, '问卷')
        fill_integer(form, '家庭成员人数', 3)  # left with Tab, as the name
        save = form.get_by_role('button', name='保存')
        save.click()
        expect(save).to_be_disabled()  # nothing left to save

        submit.click()
        expect(selected_text(state)).to_have_text('已提交')
        expect(field(form, 'submitted_by')).to_have_value('置业顾问 张伟')
        expect(submit).to_be_hidden()
        expect(page.locator('.warning-dialog')).to_have_count(0)
        page.screenshot(path=artifacts / 'walk-in-submitted-ipad.png')
        assert not errors, errors
    finally:
        page.context.close()

    # The server has the customer, with the phone in E.164, and its
    # submitted registration.
    client = sqlite_server.client('consultant1')
    (person,) = client.search_read(
        'lieye.customer.person',
        [('phone', '=', '+86' + WALK_IN_PHONE)],
        ['customer', 'name', 'relation'],
    )
    assert (person['name'], person['relation']) == ('测试客户', 'self')
    (customer,) = client.read(
        'lieye.customer', [person['customer']], ['stage', 'registrations']
    )
    # Only an approved entry moves the customer's stage (S9).
    assert customer['stage'] == 'call'
    (registration,) = client.read(
        'lieye.registration',
        customer['registrations'],
        [
            'state',
            'stage',
            'how_heard.name',
            'residence_district.name',
            'purpose.name',
            'answers',
            'grade',
            'work_district',
        ],
    )
    assert registration['state'] == 'submitted'
    assert registration['stage'] == 'walk_in'
    assert registration['how_heard.']['name'] == '网络'
    assert registration['residence_district.']['name'] == '本区核心'
    assert registration['purpose.']['name'] == '自住'
    assert registration['answers']['family_members'] == 3
    # Selections left alone stay empty (sao can send their first option).
    assert registration['grade'] is None
    assert registration['work_district'] is None
    secretary = sqlite_server.client('secretary1')
    secretary.button('lieye.registration', 'approve', customer['registrations'])
    (customer,) = client.read('lieye.customer', [person['customer']], ['stage'])
    assert customer['stage'] == 'walk_in'
