"""API plumbing shared by every app: errors from services become 400s with field errors,
and every operation's schema documents the errors it can answer."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler

# A 400's body: each refused field (or non_field_errors) with its messages, nested as the
# input is (a list of messages, or an object per nested field or row).
VALIDATION_ERRORS = {
    "type": "object",
    "additionalProperties": {},
    "description": "Field name -> list of messages (nested for nested input).",
}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        if "__all__" in detail:
            detail = dict(detail)
            detail["non_field_errors"] = detail.pop("__all__")
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class ErrorDetailSerializer(serializers.Serializer):
    """The body of every 401, 403, 404, 415 and 429 answer."""

    detail = serializers.CharField()


class ErrorResponsesAutoSchema(AutoSchema):
    """Documents the errors every operation can answer, where a view has not said more.

    Any operation: 401 (no or a bad credential) and 403 (a role or rule that refuses it). An operation with a path parameter or a
    page: 404 (another customer's object, or a page past the end). An operation that
    takes a body or query parameters: 400 with a message per field; one that takes a
    body: 415 for a body in a media type it does not read (or with none named).
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        parameters = operation.get("parameters", [])
        detail = self._get_response_for_code(ErrorDetailSerializer, "401")
        refused = self._get_response_for_code(
            OpenApiResponse(
                response=VALIDATION_ERRORS, description="Refused input, with a message per field."
            ),
            "400",
        )
        wanted: dict[str, tuple[str, dict]] = {
            "401": ("Not signed in, or a credential that is not valid.", detail)
        }
        wanted["403"] = ("Not something you may do.", detail)
        if any(p["in"] == "path" for p in parameters) or any(
            p["name"] == "page" for p in parameters
        ):
            wanted["404"] = ("No such object among those you may see (or no such page).", detail)
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            wanted["400"] = ("Refused input, with a message per field.", refused)
        if "requestBody" in operation:
            wanted["415"] = ("A body in a media type this operation does not read.", detail)
        for code, (description, response) in wanted.items():
            if code not in responses:
                responses[code] = {**response, "description": description}
        return operation
