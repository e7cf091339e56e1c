"""API tokens for scripts: create one (``POST``), see whether one exists (``GET``), revoke
it (``DELETE``) at /api/v1/auth/token/.

A person has at most one token. Creating a token replaces the one they had, and the key
is shown once, in the answer to that ``POST``: nothing shows it again. Creating needs the
person's username and password, unless they are already signed in (session or token).
Failed sign-ins count towards the same lockout as the login page (django-axes), so a
script cannot guess passwords here faster than a browser could.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from slaportal.api import ErrorDetailSerializer, ErrorResponsesAutoSchema

SIGN_IN_FAILED = "Unable to sign in with that username and password."


class PortalTokenAuthentication(TokenAuthentication):
    """DRF's token check, plus the portal's rule for sessions: a person of a deactivated
    customer is refused (DRF alone checks only the person's own ``is_active``)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if user.customer_id is not None and not user.customer.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, token


class TokenCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(
        required=False, help_text="Needed unless you are signed in already."
    )
    password = serializers.CharField(
        required=False, write_only=True, style={"input_type": "password"}
    )


class TokenCreatedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    created = serializers.DateTimeField()


class TokenStateSerializer(serializers.Serializer):
    exists = serializers.BooleanField()
    created = serializers.DateTimeField(allow_null=True)


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
        with transaction.atomic():
            Token.objects.filter(user=user).delete()
            token = Token.objects.create(user=user)
        body = TokenCreatedSerializer({"token": token.key, "created": token.created}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="auth_token_retrieve",
        responses=TokenStateSerializer,
        description="Whether you have an API token, and since when (never its key).",
    )
    def get(self, request: Request) -> Response:
        token = Token.objects.filter(user=request.user).first()
        body = {"exists": token is not None, "created": token.created if token else None}
        return Response(TokenStateSerializer(body).data)

    @extend_schema(
        operation_id="auth_token_destroy",
        responses={204: None},
        description="Revoke your API token: it stops working at once (401).",
    )
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _sign_in(request: Request, username: str = "", password: str = ""):
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
        return user
