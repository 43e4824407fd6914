"""Lab-only paste filter for Nova's /trusted/v2.1 pipeline (no Keystone): turn a noauth-style
token "user:project" into the headers keystonecontext reads (X-User-Id, X-Project-Id, X-Roles;
role admin iff the user is "admin", as noauth2 does) and keep X-Auth-Token, so the calls Nova makes
to Glance and Cinder on the caller's behalf carry a token (noauth2 drops it: image -> volume boots
then fail with "Block Device Mapping is Invalid: failed to get image"). Explicit X-User-Id wins."""


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        def _app(environ, start_response):
            token = environ.get('HTTP_X_AUTH_TOKEN', '')
            if token and 'HTTP_X_USER_ID' not in environ:
                user, _sep, project = token.partition(':')
                environ['HTTP_X_USER_ID'] = user
                environ['HTTP_X_PROJECT_ID'] = project or user
                environ['HTTP_X_ROLES'] = 'admin,member,reader' if user == 'admin' else 'member,reader'
            return app(environ, start_response)
        return _app
    return _filter
