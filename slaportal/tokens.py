"""API tokens for scripts: create one (``POST``), see whether one exists (``GET``), revoke
it (``DELETE``) at /api/v1/auth/token/.

A person has at most one token. Creating a token replaces the one they had, and the key
is shown once, in the answer to that ``POST``: nothing shows it again. The database keeps
only a hash of it (django-rest-knox). A token expires API_TOKEN_TTL_DAYS after it was made
and is revoked when its owner's password changes (contracts.models.User.save).

Creating needs the person's username and password, unless they are already signed in
(session or token); staff who need a second factor (slaportal/twofactor.py) also give a
code from their app or a recovery code. Failed sign-ins count towards the same lockout as
the login page (django-axes), so a script cannot guess passwords here faster than a
browser could.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django_otp import match_token
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from slaportal.api import ErrorDetailSerializer, ErrorResponsesAutoSchema
from slaportal.token_auth import PortalTokenAuthentication
from slaportal.twofactor import needs_second_factor

SIGN_IN_FAILED = "Unable to sign in with that username and password."
CODE_NEEDED = (
    "Your role needs a second factor: give the code from your authenticator app, or one "
    "of your recovery codes, as otp_code."
)
CODE_WRONG = "That code is not right (or too many wrong codes were tried: wait a moment)."


def api_token_issue(user) -> tuple[AuthToken, str]:
    """A new token for ``user``, replacing any they had: the row and the key (shown once)."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user).delete()
        return AuthToken.objects.create(user=user)


class TokenCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(
        required=False, help_text="Needed unless you are signed in already."
    )
    password = serializers.CharField(
        required=False, write_only=True, style={"input_type": "password"}
    )
    otp_code = serializers.CharField(
        required=False,
        write_only=True,
        max_length=16,
        help_text="For account managers and administrators signing in with a password: "
        "the code from their authenticator app, or a recovery code.",
    )


class TokenCreatedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField(help_text="After this, the token answers 401.")


class TokenStateSerializer(serializers.Serializer):
    exists = serializers.BooleanField()
    created = serializers.DateTimeField(allow_null=True)
    expires = serializers.DateTimeField(allow_null=True)


class TooManyAttempts(exceptions.Throttled):
    default_detail = (
        "Too many failed sign-ins for this username. Wait a few minutes and try again, "
        "or reset the password from the login page."
    )


class TokenView(APIView):
    authentication_classes = [PortalTokenAuthentication, SessionAuthentication]
    schema = ErrorResponsesAutoSchema()

    def get_permissions(self):
        # Creating a token is how a script signs in; the rest is for signed-in callers.
        if self.request is not None and self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenCreateInputSerializer,
        responses={
            201: TokenCreatedSerializer,
            400: OpenApiResponse(description="Missing or wrong username or password."),
            429: OpenApiResponse(
                ErrorDetailSerializer, description="Locked out after too many failed sign-ins."
            ),
        },
        auth=[{"tokenAuth": []}, {"cookieAuth": []}, {}],
        description="Create an API token, replacing the one you had. Give your username "
        "and password, or call it signed in. The key is shown only in this answer.",
    )
    def post(self, request: Request) -> Response:
        data = TokenCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        if user is None:
            user = self._sign_in(request, **data.validated_data)
        token, key = api_token_issue(user)
        body = {"token": key, "created": token.created, "expires": token.expiry}
        return Response(TokenCreatedSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="auth_token_retrieve",
        responses=TokenStateSerializer,
        description="Whether you have an API token, and since when (never its key).",
    )
    def get(self, request: Request) -> Response:
        token = AuthToken.objects.filter(user=request.user, expiry__gt=timezone.now()).first()
        body = {
            "exists": token is not None,
            "created": token.created if token else None,
            "expires": token.expiry if token else None,
        }
        return Response(TokenStateSerializer(body).data)

    @extend_schema(
        operation_id="auth_token_destroy",
        responses={204: None},
        description="Revoke your API token: it stops working at once (401).",
    )
    def delete(self, request: Request) -> Response:
        AuthToken.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _sign_in(request: Request, username: str = "", password: str = "", otp_code: str = ""):
        missing = {
            name: ["This field is required."]
            for name, value in (("username", username), ("password", password))
            if not value
        }
        if missing:
            raise exceptions.ValidationError(missing)
        django_request = request._request
        user = authenticate(django_request, username=username, password=password)
        if getattr(django_request, "axes_locked_out", False):
            # Answered here, as this API's JSON 429; left set, axes' middleware would
            # swap in the login page's HTML lockout page.
            django_request.axes_locked_out = False
            raise TooManyAttempts()
        if user is None:
            raise exceptions.ValidationError({"non_field_errors": [SIGN_IN_FAILED]})
        if needs_second_factor(user):
            if not otp_code:
                raise exceptions.ValidationError({"otp_code": [CODE_NEEDED]})
            if match_token(user, "".join(otp_code.split()).lower()) is None:
                raise exceptions.ValidationError({"otp_code": [CODE_WRONG]})
        return user
