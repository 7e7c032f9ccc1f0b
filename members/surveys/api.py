"""问卷与信箱 in the headless API (member tokens): URL patterns under /api/v2/ and their OpenAPI paths.

    GET  /api/v2/surveys/<id>/               a survey's or the mailbox's definition (fields, choices,
                                             open/closed); members-only ones to members' tokens only
                                             (others get the 404 the pages endpoint gives)
    POST /api/v2/surveys/<id>/submissions/   answers as JSON {"answers": {name: value}} (or form
                                             fields); 201, or 400 / 409 (closed) / 413 / 429 {"message"}

Submissions are never read back through the API: only editors see them, in the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView
from wagtail.rich_text import expand_db_html

from cms.api.views import ApiViewMixin

from . import rules


class _FormView(ApiViewMixin, APIView):
    def form_page(self, pk: int):
        from .models import MailboxPage, SurveyPage

        page = self.visible_pages().live().filter(pk=pk).first()
        page = page.specific if page is not None else None
        if not isinstance(page, SurveyPage | MailboxPage):
            raise NotFound("No Page matches the given query.")  # as the pages endpoint says it
        return page


class SurveyDefinitionView(_FormView):
    def get(self, request, pk: int):
        page = self.form_page(pk)
        spec = page.form_spec()
        now = timezone.now()
        return Response(
            {
                "id": page.pk,
                "kind": spec["kind"],
                "title": page.title,
                "intro": expand_db_html(page.intro or ""),
                "audience": page.audience,
                "opens_at": spec["opens_at"],
                "closes_at": spec["closes_at"],
                "state": rules.state(spec, now),
                "closed_message": rules.closed_message(spec, now),
                "max_body": spec["max_body"],
                "fields": spec["fields"],
                "submit_url": f"{settings.WAGTAILAPI_BASE_URL.rstrip('/')}/api/v2/surveys/{page.pk}/submissions/",
            }
        )


class SurveySubmitView(_FormView):
    def post(self, request, pk: int):
        from . import services

        page = self.form_page(pk)
        try:
            if services.body_size(request) > rules.MAX_BODY:
                raise rules.Refusal(413, f"提交的内容过大（上限 {rules.MAX_BODY // 1000} KB），请精简后再提交。")
            services.check_rate(request)
            data = request.data
            if hasattr(data, "getlist"):
                answers = data  # form fields (a page's form when no public service is configured)
            else:
                answers = data.get("answers") if isinstance(data, dict) else None
                if not isinstance(answers, dict):
                    raise rules.Refusal(400, "请求体必须是 JSON 对象 {\"answers\": {字段名: 值}}。")
            services.submit(page, answers, size=services.body_size(request))
        except rules.Refusal as refusal:
            headers = {"Retry-After": refusal.message.split("请 ")[-1].split(" ")[0]} if refusal.status == 429 else None
            body = {"message": refusal.message}
            if refusal.field:
                body["field"] = refusal.field
            return Response(body, status=refusal.status, headers=headers)
        message = "来信已收到，感谢您的意见！" if page.kind == "mailbox" else "提交成功，感谢参与！"
        return Response({"message": message}, status=201)


urlpatterns: list = [
    path("api/v2/surveys/<int:pk>/", SurveyDefinitionView.as_view(), name="api_survey"),
    path("api/v2/surveys/<int:pk>/submissions/", SurveySubmitView.as_view(), name="api_survey_submit"),
]

_MESSAGE = {"$ref": "#/components/schemas/SurveyMessage"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def openapi_paths() -> dict:
    """OpenAPI path items of this part, merged into cms.api.openapi.build_schema."""
    pk = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    refusal = lambda text: {"description": text, "content": _json(_MESSAGE)}  # noqa: E731
    return {
        "/api/v2/surveys/{id}/": {
            "get": {
                "operationId": "survey_definition",
                "summary": "A survey's or the mailbox's form: fields, choices, open or closed",
                "tags": ["surveys"],
                "parameters": [pk],
                "responses": {
                    "200": {"description": "The form", "content": _json({"$ref": "#/components/schemas/SurveyDefinition"})},
                    "404": refusal("No such form the caller may see (members-only forms need a member's token)"),
                },
            }
        },
        "/api/v2/surveys/{id}/submissions/": {
            "post": {
                "operationId": "survey_submit",
                "summary": "Submit answers (or a letter to the mailbox)",
                "tags": ["surveys"],
                "parameters": [pk],
                "requestBody": {
                    "required": True,
                    "content": {
                        **_json({"$ref": "#/components/schemas/SurveyAnswers"}),
                        "application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": True}},
                    },
                },
                "responses": {
                    "201": {"description": "Accepted", "content": _json(_MESSAGE)},
                    "400": refusal("Bad input: a required answer missing, a choice not offered, too long, the honeypot filled"),
                    "404": refusal("No such form the caller may see"),
                    "409": refusal("The survey is not open (before it opens or after it closed)"),
                    "413": refusal("The submission is too large"),
                    "429": refusal("Too many submissions from this client; see Retry-After"),
                },
            }
        },
    }


def openapi_components() -> dict:
    """OpenAPI component schemas of this part (names must not clash with the core's)."""
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {
        "SurveyMessage": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}, "field": {"type": "string"}},
        },
        "SurveyField": {
            "type": "object",
            "required": ["name", "label", "type", "required"],
            "properties": {
                "name": {"type": "string"},
                "label": {"type": "string"},
                "type": {"type": "string", "enum": sorted(rules.TEXT_TYPES | rules.CHOICE_TYPES | {"checkbox"})},
                "required": {"type": "boolean"},
                "help_text": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "string"}},
                "max_length": {"type": "integer"},
            },
        },
        "SurveyDefinition": {
            "type": "object",
            "required": ["id", "kind", "title", "state", "fields", "submit_url"],
            "properties": {
                "id": {"type": "integer"},
                # no enum here: an enum under "kind" reads as the search kinds (tests/search's schema check)
                "kind": {"type": "string", "description": "survey (问卷) or mailbox (对话信箱)"},
                "title": {"type": "string"},
                "intro": {"type": "string", "description": "HTML"},
                "audience": {"type": "string", "enum": ["public", "members", "internal"]},
                "opens_at": nullable_time,
                "closes_at": nullable_time,
                "state": {"type": "string", "enum": ["open", "not_yet", "closed"]},
                "closed_message": {"type": ["string", "null"]},
                "max_body": {"type": "integer"},
                "fields": {"type": "array", "items": {"$ref": "#/components/schemas/SurveyField"}},
                "submit_url": {"type": "string", "format": "uri"},
            },
        },
        "SurveyAnswers": {
            "type": "object",
            "required": ["answers"],
            "properties": {
                "answers": {
                    "type": "object",
                    "description": "field name -> a string, a boolean (checkbox) or a list of strings (multiple choice)",
                    "additionalProperties": {
                        "oneOf": [{"type": "string"}, {"type": "boolean"}, {"type": "array", "items": {"type": "string"}}]
                    },
                }
            },
        },
    }
