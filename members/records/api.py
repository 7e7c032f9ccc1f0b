"""学习记录 in the headless API: the reading beacon and the member's own study records.

Callers are members with a bearer token (apps) or, on the members' pages the CMS serves, their
session: the beacon then needs the CSRF token (``csrfmiddlewaretoken`` in the form body, which
``navigator.sendBeacon`` can carry where it cannot set headers). Nobody reads another member's records
here; branch administrators see participation in the admin (``views``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.http import QueryDict
from django.urls import path
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.authentication import BearerTokenAuthentication
from cms.api.views import ApiViewMixin
from cms.visibility import is_member

from . import services

MAX_LIMIT = 100


class _StudyView(ApiViewMixin, APIView):
    # Bearer first: an unauthenticated caller gets 401 with WWW-Authenticate: Bearer.
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def member(self, request):
        user = request.user
        if not user.is_authenticated:
            raise exceptions.NotAuthenticated(
                "Send 'Authorization: Bearer <access token>' (or sign in on the members' pages)."
            )
        if not is_member(user):
            raise exceptions.PermissionDenied("只有会员有学习记录。")
        return user


class BeaconView(_StudyView):
    """POST ``page`` (a study material's id), ``seconds`` (read since the last beacon) and optionally
    ``opened`` (1 on the first beacon of a visit): 204 when recorded."""

    def post(self, request):
        user = self.member(request)
        data = request.data
        form = isinstance(data, QueryDict)  # a form, or parsed JSON
        if not hasattr(data, "get"):
            return Response({"message": "请求体须为表单或 JSON 对象。"}, status=400)
        try:
            if "page" not in data:
                raise services.Refused("缺少 page（学习资料页面的编号）。")
            page_id = services.parse_page_id(data.get("page"), form)
            seconds = services.parse_seconds(data.get("seconds", "0" if form else 0), form)
            opened = services.parse_opened(data.get("opened"), form)
            services.record_reading(user, page_id, seconds, opened=opened)
        except services.Refused as exc:
            return Response({"message": str(exc)}, status=exc.status)
        return Response(status=204)


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise exceptions.ValidationError({"message": f"{name} must be an integer"}) from exc
    if not low <= value <= high:
        raise exceptions.ValidationError({"message": f"{name} must be between {low} and {high}"})
    return value


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_param(request, name: str, default: date) -> date:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        if not ISO_DATE.match(raw):
            raise ValueError(raw)
        return min(date.fromisoformat(raw), date.max - timedelta(days=2))
    except ValueError as exc:
        raise exceptions.ValidationError({"message": f"{name} must be a date (YYYY-MM-DD)"}) from exc


KNOWN_PARAMS = {"since", "until", "offset", "limit"}


class MeView(_StudyView):
    """GET the member's own summary (points for ``since``–``until``, default this year) and history
    (newest first, ``offset``/``limit``)."""

    def get(self, request):
        user = self.member(request)
        unknown = sorted(set(request.GET) - KNOWN_PARAMS)
        if unknown:
            raise exceptions.ValidationError({"message": f"unknown parameter: {unknown[0]}"})
        default = services.Period.this_year()
        since = _date_param(request, "since", default.since)
        until = _date_param(request, "until", default.until)
        # since after until is an empty period: zeros, not an error
        offset = _int_param(request, "offset", 0, 0, 10000)
        limit = _int_param(request, "limit", 20, 1, MAX_LIMIT)
        total, items = services.history(user, offset, limit)
        return Response(
            {
                "meta": {"total_count": total},
                "summary": services.summary(user, services.Period(since, until)),
                "items": items,
            }
        )


urlpatterns = [
    path("api/v2/study/beacon/", BeaconView.as_view(), name="api_study_beacon"),
    path("api/v2/study/me/", MeView.as_view(), name="api_study_me"),
]


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_paths() -> dict:
    """OpenAPI path items of this part, merged into cms.api.openapi.build_schema."""
    security = [{"bearerAuth": []}]
    return {
        "/api/v2/study/beacon/": {
            "post": {
                "operationId": "study_beacon",
                "tags": ["study"],
                "summary": "Record reading time on a study material (members only).",
                "description": (
                    "Send every N seconds while the material is visible, and on pagehide (navigator.sendBeacon). "
                    f"At most {services.MAX_BEACON_SECONDS} seconds count per beacon (and no more than the time "
                    f"since the previous one), at most {services.MAX_DAILY_SECONDS} per material and day."
                ),
                "security": security,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/StudyBeacon"}},
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/StudyBeacon"}
                        },
                    },
                },
                "responses": {
                    "204": {"description": "Recorded."},
                    "400": _error("Malformed page or seconds."),
                    "401": _error("No or a bad access token."),
                    "403": _error("Not a member, or not a study material the member may read."),
                    "429": {
                        **_error("Too many requests from this client; see Retry-After."),
                        "headers": {
                            "Retry-After": {
                                "description": "seconds to wait",
                                "schema": {"type": "integer", "minimum": 0},
                            }
                        },
                    },
                },
            }
        },
        "/api/v2/study/me/": {
            "get": {
                "operationId": "study_me",
                "tags": ["study"],
                "summary": "The member's own study records and 学习积分.",
                "security": security,
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                        "description": "Points from this day (default: 1 January).",
                    },
                    {
                        "name": "until",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                        "description": "Points until this day (default: today).",
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Summary and history.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StudyMe"}}},
                    },
                    "400": _error("A bad parameter."),
                    "401": _error("No or a bad access token."),
                    "403": _error("Not a member."),
                    "429": {
                        **_error("Too many requests from this client; see Retry-After."),
                        "headers": {
                            "Retry-After": {
                                "description": "seconds to wait",
                                "schema": {"type": "integer", "minimum": 0},
                            }
                        },
                    },
                },
            }
        },
    }


def openapi_components() -> dict:
    """OpenAPI component schemas of this part (names must not clash with the core's)."""
    ref = {
        "type": "object",
        "required": ["id", "title"],
        "properties": {"id": {"type": ["integer", "null"]}, "title": {"type": "string"}},
    }
    return {
        "StudyBeacon": {
            "type": "object",
            "required": ["page"],
            "properties": {
                "page": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": services.MAX_ID,
                    "description": "The study material page's id.",
                },
                "seconds": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": services.MAX_ID,
                    "description": "Seconds read since the previous beacon.",
                },
                "opened": {
                    "type": "boolean",
                    "description": "True on the first beacon of a visit (counts an opening).",
                },
                "csrfmiddlewaretoken": {"type": "string", "description": "Members' pages (session) only."},
            },
        },
        "StudyMe": {
            "type": "object",
            "required": ["meta", "summary", "items"],
            "properties": {
                "meta": {"type": "object", "properties": {"total_count": {"type": "integer"}}},
                "summary": {
                    "type": "object",
                    "properties": {
                        "period": {
                            "type": "object",
                            "properties": {
                                "since": {"type": "string", "format": "date"},
                                "until": {"type": "string", "format": "date"},
                            },
                        },
                        "reading_seconds": {"type": "integer"},
                        "reading_minutes": {"type": "integer"},
                        "materials_read": {"type": "integer"},
                        "quizzes_taken": {"type": "integer"},
                        "quizzes_passed": {"type": "integer"},
                        "points": {"type": "integer"},
                        "points_by_action": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "action": {"type": "string"},
                                    "label": {"type": "string"},
                                    "points": {"type": "integer"},
                                },
                            },
                        },
                    },
                },
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "date"],
                        "properties": {
                            "type": {"type": "string", "enum": ["reading", "quiz"]},
                            "date": {"type": "string", "format": "date"},
                            "page": ref,
                            "seconds": {"type": "integer"},
                            "opens": {"type": "integer"},
                            "quiz": ref,
                            "finished_at": {"type": "string", "format": "date-time"},
                            "score": {"type": "number"},
                            "max_score": {"type": "number"},
                            "passed": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    }
