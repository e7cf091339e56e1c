"""A customer's people through the API (/api/v1/people/): what the portal's people pages
do, for that organisation's customer admins only. Add a person (they are e-mailed a link
to choose a password), change a role, deactivate or reactivate, send the invitation
again. Staff and customer users get a 403; a person of another organisation is a 404.
The rules (no demoting or deactivating yourself, unique addresses) are the services'.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import selectors, services
from contracts.models import User
from contracts.serializers import (
    PersonChangeInputSerializer,
    PersonInputSerializer,
    PersonSerializer,
)
from slaportal.viewsets import BaseViewSet

# The services name model fields; the API names its own.
ERROR_FIELDS = {"customer_role": "role", "username": "email"}
ADMINS_ONLY = OpenApiResponse(description="Not an admin of a customer organisation.")


class PersonInvitedSerializer(serializers.Serializer):
    email = serializers.EmailField()
    detail = serializers.CharField()


class IsCustomerAdmin(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_customer_admin)


def _service_call(call, *args, **kwargs):
    """A service's refusal as a 400 naming the API's fields."""
    try:
        return call(*args, **kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            detail = {ERROR_FIELDS.get(k, k): v for k, v in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": exc.messages}
        if "__all__" in detail:
            detail["non_field_errors"] = detail.pop("__all__")
        raise exceptions.ValidationError(detail) from exc


def _invite(request: Request, person: User) -> None:
    from contracts.views import _send_invitation  # the pages' one way to send it

    _send_invitation(request._request, person)


class PersonViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, BaseViewSet
):
    """Your organisation's people: active first, then by name."""

    permission_classes = [IsCustomerAdmin]
    serializer_class = PersonSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[User]:
        customer = getattr(self.request.user, "customer", None)
        if customer is None:
            return User.objects.none()
        return self.scope(selectors.customer_people(customer))

    @extend_schema(
        request=PersonInputSerializer,
        responses={202: PersonInvitedSerializer, 403: ADMINS_ONLY},
        description="Add a person; they are e-mailed a link to choose a password, and "
        "appear in the list. The answer is the same when the address already has an "
        "account elsewhere (its owner is told by e-mail instead), so it never tells "
        "whether an address has an account; an address among your own people is a 400.",
    )
    def create(self, request: Request) -> Response:
        from contracts.views import added_message

        data = self.parse(PersonInputSerializer)
        person = _service_call(
            services.customer_person_add,
            customer=request.user.customer,
            email=data["email"],
            role=data["role"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            actor=request.user,
        )
        if person is not None:
            _invite(request, person)
        body = {
            "email": data["email"],
            "detail": added_message(data["email"], request.user.customer),
        }
        return Response(PersonInvitedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=PersonChangeInputSerializer,
        responses={200: PersonSerializer, 403: ADMINS_ONLY},
        description="Change a person's role, or deactivate (is_active false) or reactivate "
        "them. You cannot demote or deactivate yourself.",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        person = self.get_object()
        changes = self.parse(PersonChangeInputSerializer)
        person = _service_call(
            services.customer_user_update,
            actor=request.user,
            user=person,
            role=changes.get("role"),
            is_active=changes.get("is_active"),
        )
        return self.respond(person)

    @extend_schema(
        request=None,
        responses={204: None, 400: OpenApiResponse(description="The person is deactivated.")},
        description="E-mail the person a new link to choose a password.",
    )
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        person = self.get_object()
        if not person.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": ["This person is deactivated; reactivate them first."]}
            )
        _invite(request, person)
        return Response(status=status.HTTP_204_NO_CONTENT)
