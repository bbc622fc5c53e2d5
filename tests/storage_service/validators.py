"""DOT's validator, unchanged but for one thing: when DOT caches a token it got from
the console's introspection (oauth2_provider's AccessToken row, kept until the
answer's `exp`, or RESOURCE_SERVER_TOKEN_CACHING_SECONDS without one), the answer's
`sid` and `sub` are kept beside it (models.CachedSession), so that a session-revoked
or credential-change event can drop the row. DOT reads the answer in a private
method and hands it to no public hook but `get_or_create_user_from_content`: the
answer is taken there."""

from contextvars import ContextVar

from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.storage_service.models import CachedSession

_answer: ContextVar[dict | None] = ContextVar("introspection_answer", default=None)


class SessionValidator(OAuth2Validator):
    def get_or_create_user_from_content(self, content):
        _answer.set(content)
        return super().get_or_create_user_from_content(content)

    def _get_token_from_authentication_server(self, token, *args, **kwargs):
        _answer.set(None)
        access_token = super()._get_token_from_authentication_server(token, *args, **kwargs)
        answer = _answer.get()
        if access_token is not None and answer is not None:
            CachedSession.objects.update_or_create(
                access_token=access_token,
                defaults={"sid": str(answer.get("sid", "")), "sub": str(answer.get("sub", ""))},
            )
        return access_token
