"""How an API call is authenticated by its token (``Authorization: Token <key>``): a
hashed, expiring django-rest-knox token. Kept apart from the token views
(slaportal/tokens.py), as DRF imports it while it loads its own views."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework import exceptions


class PortalTokenAuthentication(TokenAuthentication):
    """knox's check of a hashed, expiring token, plus the portal's rule for sessions: a
    person of a deactivated customer is refused (knox alone checks only the person's
    own ``is_active``)."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        if user.customer_id is not None and not user.customer.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, token


class PortalTokenScheme(OpenApiAuthenticationExtension):
    """The schema's ``tokenAuth``: ``Authorization: Token <key>``."""

    target_class = PortalTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with the prefix "Token".',
        }
