"""The demo database opens in Chinese and lands on the menu."""


def test_default_language_and_menus(server):
    # R: G1, DESIGN §7
    client = server.client('consultant1')
    assert client.context['language'] == 'zh_CN'
    menus = client.search_read('ir.ui.menu', [('parent', '=', None)], ['name'])
    assert '销售信息系统' in {m['name'] for m in menus}
    admin = server.client('admin')
    assert admin.context['language'] == 'zh_CN'
    fields = admin.model('lieye.room', 'fields_get', ['code', 'state'])
    assert fields['code']['string'] == '房号'
    assert dict(fields['state']['selection'])['available'] == '可售'


def test_module_configuration_done(server):
    "The module configuration wizard does not stop the first login"
    admin = server.client('admin')
    assert (
        admin.search_count('ir.module.config_wizard.item', [('state', '!=', 'done')])
        == 0
    )


def test_core_strings_overridden(server):
    "Core strings our users meet are Chinese (locale/override)"
    client = server.client('admin')
    fields = client.model('party.party', 'fields_get', ['email'])
    assert fields['email']['string'] == '电子邮箱'


def test_every_role_has_its_menu(server):
    # R: DESIGN §4
    expected = {
        'consultant1': '销售信息系统',
        'secretary1': '销售信息系统',
        'manager1': '销售信息系统',
        'pm1': '销售信息系统',
        'gm1': '销售信息系统',
        'research1': '研究院',
        'channel1': '渠道端 CRM',
        'loyalty1': '渠道端 CRM',
        'channelmgr1': '渠道端 CRM',
        'kam1': '渠道端 CRM',
    }
    for login, menu in expected.items():
        client = server.client(login)
        names = {
            m['name']
            for m in client.search_read('ir.ui.menu', [('parent', '=', None)], ['name'])
        }
        assert menu in names, (login, names)
    consultant = server.client('consultant1')
    names = {m['name'] for m in consultant.search_read('ir.ui.menu', [], ['name'])}
    assert '回款指标' not in names
    assert '设置' not in names
