"""A minimal JSON-RPC client speaking to trytond the way sao does."""

import base64
import gzip
import json
import urllib.error
import urllib.request

GZIP_MAGIC = b'\x1f\x8b'


class RPCError(Exception):
    "The server answered with an error (a Tryton exception)"

    def __init__(self, error):
        self.error = error
        kind, args = (
            (error + [None])[:2] if isinstance(error, list) else (str(error), None)
        )
        self.kind = kind
        self.message = args[0] if isinstance(args, list) and args else ''
        super().__init__(f'{kind}: {self.message}')


class HTTPError(Exception):
    "The server refused the request (401 session expired, 429 throttled …)"

    def __init__(self, status):
        self.status = status
        super().__init__(f'HTTP {status}')


class Client:
    def __init__(self, base_url, database, language='zh_CN'):
        self.url = f'{base_url}/{database}/rpc/'
        self.language = language
        self.authorization = None
        self.login_name = None
        self.user_id = None
        self.context = {'language': language}

    def _post(self, method, params):
        data = json.dumps({'id': 1, 'method': method, 'params': params})
        # As browsers do: trytond streams a large answer gzipped in a few
        # chunks, and token by token otherwise.
        headers = {'Content-Type': 'application/json', 'Accept-Encoding': 'gzip'}
        if self.authorization:
            headers['Authorization'] = self.authorization
        request = urllib.request.Request(self.url, data=data.encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                body = response.read()
                if body[:2] == GZIP_MAGIC:
                    body = gzip.decompress(body)
                result = json.loads(body)
        except urllib.error.HTTPError as e:
            raise HTTPError(e.code) from None
        if 'error' in result:
            raise RPCError(result['error'])
        return result['result']

    def login(self, login, password):
        user_id, token = self._post(
            'common.db.login', [login, {'password': password}, self.language]
        )[:2]
        self.login_name, self.user_id, self.token = login, user_id, token
        credentials = f'{login}:{user_id}:{token}'.encode()
        self.authorization = 'Session ' + base64.b64encode(credentials).decode()
        self.context = self.call('model.res.user.get_preferences', True, {})
        return self

    def call(self, method, *params):
        return self._post(method, list(params))

    # Shortcuts for model methods, with the user's context appended.
    def model(self, model, method, *args):
        return self.call(f'model.{model}.{method}', *args, self.context)

    def search(self, model, domain, limit=None, order=None):
        return self.model(model, 'search', domain, 0, limit, order)

    def search_count(self, model, domain):
        return self.model(model, 'search_count', domain)

    def read(self, model, ids, fields):
        return self.model(model, 'read', ids, fields)

    def search_read(self, model, domain, fields):
        return self.model(model, 'search_read', domain, 0, None, None, fields)

    def create(self, model, values):
        return self.model(model, 'create', values)

    def write(self, model, ids, values):
        return self.model(model, 'write', ids, values)

    def delete(self, model, ids):
        return self.model(model, 'delete', ids)

    def button(self, model, name, ids):
        return self.model(model, name, ids)

    def run_wizard(self, wizard, model, ids, state_values, button):
        "Run a wizard on records and press button in its start form"
        session_id, start_state, _ = self.call(f'wizard.{wizard}.create', self.context)
        context = dict(
            self.context, active_model=model, active_id=ids[0], active_ids=ids
        )
        try:
            return self.call(
                f'wizard.{wizard}.execute', session_id, state_values, button, context
            )
        finally:
            self.call(f'wizard.{wizard}.delete', session_id, self.context)
