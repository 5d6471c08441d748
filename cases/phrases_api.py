"""The standard phrases API (惯用语): GET/POST /api/v1/cases/phrases and PATCH/DELETE
/api/v1/cases/phrases/{id}. Thin views over `cases.phrases`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import params
from core.errors import ErrorSerializer
from core.serializers import JsonTypes

from . import phrases
from .api import reader, valid_body
from .models import Phrase

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
ACTION_HELP = "the action or form it serves: " + ", ".join(phrases.ACTIONS)


class PhraseInputSerializer(JsonTypes, serializers.Serializer):
    action = serializers.CharField(max_length=32, help_text=ACTION_HELP)
    text = serializers.CharField(max_length=phrases.MAX_TEXT)
    system = serializers.BooleanField(
        required=False, default=False, help_text="a system phrase (system administrators only)"
    )
    sort_order = serializers.IntegerField(required=False, min_value=0, max_value=100_000)


class PhraseEditSerializer(JsonTypes, serializers.Serializer):
    action = serializers.CharField(max_length=32, required=False, help_text=ACTION_HELP)
    text = serializers.CharField(max_length=phrases.MAX_TEXT, required=False)
    sort_order = serializers.IntegerField(required=False, min_value=0, max_value=100_000)


class PhraseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    action_name = serializers.CharField()
    text = serializers.CharField()
    personal = serializers.BooleanField(help_text="the caller's own; false: a system phrase")
    sort_order = serializers.IntegerField()


class PhraseListSerializer(serializers.Serializer):
    phrases = PhraseSerializer(many=True)


def phrase_json(row: Phrase) -> dict:
    """The phrase as `PhraseSerializer` documents it."""
    return {
        "id": row.pk,
        "action": row.action,
        "action_name": phrases.ACTIONS.get(row.action, row.action),
        "text": row.text,
        "personal": row.owner_id is not None,
        "sort_order": row.sort_order,
    }


class PhrasesView(APIView):
    @extend_schema(
        operation_id="cases_phrases",
        tags=[TAG],
        summary="The standard phrases (惯用语) offered to the caller: their own first",
        parameters=[OpenApiParameter("action", str, description=ACTION_HELP)],
        responses={200: PhraseListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        key = params.text(request.query_params, "action", None)
        rows = phrases.phrases_for(scope, key)
        return Response({"phrases": [phrase_json(r) for r in rows]})

    @extend_schema(
        operation_id="cases_add_phrase",
        tags=[TAG],
        summary="Add a personal phrase (or, as a system administrator, a system one)",
        description="409 when the same text is already there for that action.",
        request=PhraseInputSerializer,
        responses={201: PhraseSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = reader(request)
        data = valid_body(PhraseInputSerializer, request)
        row = phrases.do_add_phrase(
            scope,
            data["action"],
            text=data["text"],
            system=data["system"],
            sort_order=data.get("sort_order"),
        )
        return Response(phrase_json(row), status=201)


class PhraseView(APIView):
    @extend_schema(
        operation_id="cases_edit_phrase",
        tags=[TAG],
        summary="Edit one of the caller's phrases (a system one: system administrators)",
        description="Another person's phrase is 404; a system phrase 403 for non-administrators.",
        request=PhraseEditSerializer,
        responses={200: PhraseSerializer, **ERRORS},
    )
    def patch(self, request: Request, phrase_id: int) -> Response:
        scope = reader(request)
        data = valid_body(PhraseEditSerializer, request)
        row = phrases.do_edit_phrase(
            scope,
            phrase_id,
            text=data.get("text"),
            action_key=data.get("action"),
            sort_order=data.get("sort_order"),
        )
        return Response(phrase_json(row))

    @extend_schema(
        operation_id="cases_delete_phrase",
        tags=[TAG],
        summary="Delete one of the caller's phrases (a system one: system administrators)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, phrase_id: int) -> Response:
        scope = reader(request)
        phrases.do_delete_phrase(scope, phrase_id)
        return Response(status=204)
