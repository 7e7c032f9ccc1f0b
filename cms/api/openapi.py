"""The OpenAPI 3.1 description of the API, built from the page models' ``api_fields``.

``build_schema()`` is the source of truth; ``openapi.json`` next to this module is its committed
output, served at ``/api/v2/schema/`` and compared with a fresh build by the tests, so a model change
that alters the API shows up in review as a schema diff. Regenerate it with::

    DJANGO_SETTINGS_MODULE=cms.settings.dev python -m cms.api.openapi
"""

from __future__ import annotations

import json

from django.db import models
from wagtail import fields as wagtail_fields
from wagtail.images import get_image_model

from cms.provinces import Province

from .conf import api_setting

JSON_PATH = "cms/api/openapi.json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


def error_responses(*codes: int) -> dict:
    text = {
        400: "A parameter is wrong; the message says which and why.",
        401: "The bearer token is invalid, expired or revoked.",
        404: "No such item, or not one the caller may read.",
        429: "Too many requests from this client; see Retry-After.",
        503: "The search engine is unavailable right now; see Retry-After.",
    }
    retry = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": ref("Error")}},
            **({"headers": retry} if code in (429, 503) else {}),
        }
        for code in codes
    }


def ok(schema: dict, description: str = "OK") -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def field_schema(model, name: str) -> dict:
    from cms.models.snippets import _Term

    if name == "audience":
        return {"type": "string", "enum": ["public", "members"]}
    if name == "tags":
        return {"type": "array", "items": {"type": "string"}}
    if name == "attachments":
        return {"type": "array", "items": ref("Attachment")}
    if name == "translations":
        return {
            "type": "array",
            "items": ref("Translation"),
            "description": "this page in the other languages the caller may read",
        }
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a property: any JSON
        return {}
    related = getattr(field, "related_model", None)
    if isinstance(field, wagtail_fields.StreamField):
        schema = {"type": "array", "items": ref("Block")}
    elif isinstance(field, wagtail_fields.RichTextField):
        schema = {"type": "string", "description": "HTML"}
    elif field.many_to_one and related is get_image_model():
        return nullable(ref("Image"))
    elif field.many_to_one and related is not None and issubclass(related, _Term):
        return nullable(ref("Term"))
    elif field.many_to_many and related is not None and issubclass(related, _Term):
        return {"type": "array", "items": ref("Term")}
    elif isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, models.DecimalField):
        schema = {"type": "string", "description": "decimal number"}
    elif isinstance(field, models.IntegerField | models.AutoField):
        schema = {"type": "integer"}
    else:
        schema = {"type": "string"}
        if field.choices:
            schema["enum"] = [value for value, _label in field.flatchoices]
    if field.verbose_name:
        schema["title"] = str(field.verbose_name)
    return nullable(schema) if field.null else schema


def page_models():
    from django.apps import apps
    from wagtail.models import Page

    return sorted(
        (m for m in apps.get_models() if issubclass(m, Page) and m is not Page and m._meta.app_label == "cms"),
        key=lambda m: m.__name__,
    )


def page_schema(model) -> dict:
    from .views import PagesViewSet

    properties = {"id": {"type": "integer"}, "meta": ref("PageMeta"), "title": {"type": "string"}}
    for name in PagesViewSet.get_body_fields_names(model):
        if name not in properties:
            properties[name] = field_schema(model, name)
    return {
        "type": "object",
        "description": str(model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.__name__,
        "properties": properties,
        "additionalProperties": False,
    }


def components() -> dict:
    renditions = {
        name: {
            "type": "object",
            "required": ["url", "width", "height"],
            "properties": {"url": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"}},
        }
        for name in api_setting("RENDITIONS")
    }
    item_meta = {
        "type": "object",
        "properties": {"type": {"type": "string"}, "detail_url": {"type": "string"}},
    }
    schemas = {
        "Error": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
        "ListingMeta": {
            "type": "object",
            "required": ["total_count"],
            "properties": {"total_count": {"type": "integer", "minimum": 0}},
        },
        "PageRef": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "meta": {"type": "object"}, "title": {"type": "string"}},
        },
        "PageMeta": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "detail_url": {"type": "string"},
                "html_url": nullable({"type": "string"}),
                "slug": {"type": "string"},
                "show_in_menus": {"type": "boolean"},
                "seo_title": {"type": "string"},
                "search_description": {"type": "string"},
                "first_published_at": nullable({"type": "string", "format": "date-time"}),
                "alias_of": nullable(ref("PageRef")),
                "parent": nullable(ref("PageRef")),
                "locale": {"type": "string"},
                "preview": {"type": "object"},
            },
            "additionalProperties": False,
        },
        "Block": {
            "type": "object",
            "description": "One StreamField block: images and documents are resolved objects (or null "
            "when the caller may not read them), rich text is HTML.",
            "required": ["type", "value"],
            "properties": {"type": {"type": "string"}, "id": nullable({"type": "string"}), "value": {}},
        },
        "Term": {
            "type": "object",
            "required": ["id", "name", "slug"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "slug": {"type": "string"}},
        },
        "Renditions": {"type": "object", "properties": renditions},
        "Translation": {
            "type": "object",
            "description": "The same page in another language.",
            "required": ["id", "locale", "title", "html_url", "detail_url"],
            "properties": {
                "id": {"type": "integer"},
                "locale": {"type": "string"},
                "title": {"type": "string"},
                "html_url": nullable({"type": "string"}),
                "detail_url": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "Image": {
            "type": "object",
            "required": ["id", "title", "renditions"],
            "properties": {
                "id": {"type": "integer"},
                "meta": item_meta,
                "title": {"type": "string"},
                "alt": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "source": {"type": "string"},
                "credit": {"type": "string"},
                "renditions": ref("Renditions"),
            },
        },
        "DocumentRef": {
            "type": "object",
            "required": ["id", "title"],
            "properties": {
                "id": {"type": "integer"},
                "meta": item_meta,
                "title": {"type": "string"},
                "file_extension": {"type": "string"},
                "file_size": nullable({"type": "integer"}),
                "audience": {"type": "string", "enum": ["public", "members"]},
                "download_url": nullable({"type": "string"}),
            },
        },
        "Attachment": {
            "type": "object",
            "required": ["id", "title", "document"],
            "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "document": ref("DocumentRef")},
        },
        "ImageItem": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "meta": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "detail_url": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "download_url": {"type": "string"},
                    },
                },
                "title": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "alt": {"type": "string"},
                "source": {"type": "string"},
                "credit": {"type": "string"},
                "renditions": ref("Renditions"),
            },
            "additionalProperties": False,
        },
        "DocumentItem": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "meta": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "detail_url": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "download_url": {"type": "string"},
                    },
                },
                "title": {"type": "string"},
                "audience": {"type": "string", "enum": ["public", "members"]},
                "file_extension": {"type": "string"},
                "file_size": nullable({"type": "integer"}),
            },
            "additionalProperties": False,
        },
        "TokenRequest": {
            "type": "object",
            "required": ["username", "password"],
            "properties": {
                "username": {"type": "string", "maxLength": 150},
                "password": {"type": "string", "maxLength": 256},
                "client": {"type": "string", "maxLength": 120, "description": "a name for this device"},
            },
        },
        "TokenPair": {
            "type": "object",
            "required": ["token_type", "access_token", "expires_in", "refresh_token", "refresh_expires_in"],
            "properties": {
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "access_token": {"type": "string"},
                "expires_in": {"type": "integer"},
                "refresh_token": {"type": "string"},
                "refresh_expires_in": {"type": "integer"},
            },
        },
        "Me": {
            "type": "object",
            "required": ["username", "is_member", "audiences"],
            "properties": {
                "username": {"type": "string"},
                "is_member": {"type": "boolean"},
                "audiences": {"type": "array", "items": {"type": "string", "enum": ["public", "members"]}},
            },
        },
    }
    schemas.update(search_components())
    page_refs = []
    for model in page_models():
        name = f"{model.__name__}"
        schemas[name] = page_schema(model)
        page_refs.append(ref(name))
    schemas["BasePage"] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "meta": ref("PageMeta"),
            "title": {"type": "string"},
            "translations": field_schema(None, "translations"),
        },
        "additionalProperties": False,
    }
    schemas["Page"] = {"anyOf": [ref("BasePage"), *page_refs], "description": "A page of any type."}
    return schemas


def query(name, schema, description="", **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def listing_parameters(limit_max: int) -> list[dict]:
    text = {"type": "string", "maxLength": api_setting("MAX_PARAM_LENGTH")}
    return [
        query("limit", {"type": "integer", "minimum": 0, "maximum": limit_max}, "items per page (default 20)"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": 100_000}, "items to skip"),
        query("fields", text, "fields to add (`title,body`), remove (`-title`), all (`*`) or start empty (`_`)"),
        query("order", text, "field to order by, `-` for descending, or `random`"),
        query("search", {**text, "minLength": 1}, "full-text search"),
        query("search_operator", {"type": "string", "enum": ["and", "or"]}),
    ]


def click_doc_pattern() -> str:
    from search.service import CLICK_DOC_RE

    return CLICK_DOC_RE.pattern


def search_window() -> int:
    from search.service import MAX_RESULT_WINDOW

    return MAX_RESULT_WINDOW


def search_parameters() -> list[dict]:
    from search import service as svc

    free = {"type": "string", "minLength": 1, "maxLength": svc.MAX_FILTER_LENGTH}

    def many(name, items, description):
        schema = {"type": "array", "items": items, "maxItems": svc.MAX_FILTER_VALUES}
        return query(name, schema, description, style="form", explode=True)

    provinces = svc.province_names()
    return [
        query("q", {"type": "string", "maxLength": svc.MAX_QUERY_LENGTH},
              "the words to find; any text (empty: an empty page, or with a filter or date range every match of those, newest first)"),
        query("page", {"type": "integer", "minimum": 1, "maximum": svc.MAX_PAGE, "default": 1},
              f"page number; `page * page_size` at most {svc.MAX_RESULT_WINDOW}"),
        query("page_size", {"type": "integer", "minimum": 1, "maximum": svc.MAX_PAGE_SIZE,
                            "default": svc.DEFAULT_PAGE_SIZE}, "results per page"),
        query("sort", {"type": "string", "enum": list(svc.SORTS), "default": "relevance"},
              "best matches first (word matching; for questions of 5 letters or more the best 100 are "
              "re-ranked by meaning), or newest first"),
        query("locale", {"type": "string", "enum": list(svc.locale_codes())}, "only content in this language"),
        query("date_from", {"type": "string", "format": "date"}, "content dated on or after (YYYY-MM-DD)"),
        query("date_to", {"type": "string", "format": "date"}, "content dated on or before (YYYY-MM-DD)"),
        many("kind", {"type": "string", "enum": list(svc.kinds())}, "kind of content (facet `kind`)"),
        many("type", free, "study materials of a material type, by name (facet `material_type`)"),
        many("topic", free, "study materials of a topic, by name (facet `topics`)"),
        many("year", {"type": "string", "pattern": "^[0-9]{4}$"}, "content of a year (facet `year`)"),
        many("column", free, "articles of a column, by its title (facet `column`)"),
        many("category", free, "red exhibitions of a category, by name"),
        many("province", {"type": "string", "enum": [*provinces, *provinces.values()]},
             "red exhibitions of a province, by code (`beijing`) or name (`北京市`)"),
    ]


def suggest_parameters() -> list[dict]:
    from search import service as svc

    return [
        query("q", {"type": "string", "maxLength": svc.MAX_SUGGEST_LENGTH}, "what the user typed so far"),
        query("locale", {"type": "string", "enum": list(svc.locale_codes())}, "only titles in this language"),
    ]


def search_components() -> dict:
    from search import service as svc

    facet_value = {
        "type": "object",
        "required": ["value", "count"],
        "properties": {"value": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    }
    return {
        "SearchHit": {
            "type": "object",
            "description": "One result. `title_html` and `snippet_html` are HTML-escaped text in which "
            "only `<mark>` elements (the matched words) are markup.",
            "required": ["id", "kind", "title", "title_html", "snippet_html", "score", "url", "date", "source", "page"],
            "properties": {
                "id": {"type": "string", "pattern": "^page:[0-9]+$", "description": "`page:<page id>`"},
                "kind": {"type": "string", "enum": list(svc.kinds())},
                "title": {"type": "string"},
                "title_html": {"type": "string"},
                "snippet_html": {"type": "string"},
                "score": {"type": "number"},
                "url": {"type": "string", "description": "the page on the site"},
                "date": nullable({"type": "string", "format": "date"}),
                "source": nullable({"type": "string", "description": "the attachment the snippet is from"}),
                "page": nullable({"type": "integer", "description": "the attachment page the snippet is from"}),
            },
            "additionalProperties": False,
        },
        "SearchFacetValue": facet_value,
        "SearchResults": {
            "type": "object",
            "required": ["total", "page", "page_size", "num_pages", "results", "facets", "query", "sort", "log_id"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1, "maximum": svc.MAX_PAGE},
                "page_size": {"type": "integer", "minimum": 1, "maximum": svc.MAX_PAGE_SIZE},
                "num_pages": {"type": "integer", "minimum": 1},
                "results": {"type": "array", "items": ref("SearchHit"), "maxItems": svc.MAX_PAGE_SIZE},
                "facets": {
                    "type": "object",
                    "description": "Counts of each value among all matches (not just this page), most "
                    "frequent first; pass a value back as the filter of the same name.",
                    "required": list(svc.DEFAULT_FACETS),
                    "properties": {
                        name: {"type": "array", "items": ref("SearchFacetValue")} for name in svc.DEFAULT_FACETS
                    },
                    "additionalProperties": False,
                },
                "query": {"type": "string", "description": "`q` as searched (trimmed)"},
                "sort": {"type": "string", "enum": list(svc.SORTS)},
                "log_id": nullable({"type": "integer", "description": "for click reporting (first pages only)"}),
            },
            "additionalProperties": False,
        },
    }


def build_schema() -> dict:
    from django.conf import settings

    limit_max = getattr(settings, "WAGTAILAPI_LIMIT_MAX", 20)
    text = {"type": "string", "maxLength": api_setting("MAX_PARAM_LENGTH")}
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    page_filters = [
        query("type", text, "page type(s), e.g. `cms.ArticlePage`; enables that type's fields and filters"),
        query("child_of", {"type": "integer", "minimum": 1}, "pages whose parent is this page"),
        query("descendant_of", {"type": "integer", "minimum": 1}, "pages below this page"),
        query("ancestor_of", {"type": "integer", "minimum": 1}, "pages above this page"),
        query("translation_of", {"type": "integer", "minimum": 1}, "translations of this page"),
        query("locale", text, "language code: zh-hans, zh-hant or en"),
        query("column", text, "articles of a column (id or slug)"),
        query("topic", text, "study materials of a topic (id or slug)"),
        query("material_type", text, "study materials of a type (id or slug)"),
        query("province", {"type": "string", "enum": list(Province.values)}, "red exhibitions of a province"),
        query("category", text, "red exhibitions of a category (id or slug)"),
        query("tag", text, "articles with this tag"),
        query("date_from", {"type": "string", "format": "date"}, "content date on or after (YYYY-MM-DD)"),
        query("date_to", {"type": "string", "format": "date"}, "content date on or before (YYYY-MM-DD)"),
        query("rich_text_format", {"type": "string", "enum": ["html"]}),
    ]
    listing = {
        "type": "object",
        "required": ["meta", "items"],
        "properties": {"meta": ref("ListingMeta")},
    }
    json_body = {"required": True, "content": {"application/json": {"schema": None}}}

    def body(name):
        return {**json_body, "content": {"application/json": {"schema": ref(name)}}}

    paths = {
        "/api/v2/pages/": {
            "get": {
                "operationId": "listPages",
                "tags": ["pages"],
                "summary": "Pages the caller may read",
                "parameters": listing_parameters(limit_max) + page_filters,
                "responses": {
                    **ok({**listing, "properties": {**listing["properties"], "items": {"type": "array", "items": ref("Page")}}}),
                    **error_responses(400, 401, 429),
                },
            }
        },
        "/api/v2/pages/{id}/": {
            "get": {
                "operationId": "getPage",
                "tags": ["pages"],
                "summary": "One page with every field of its type",
                "parameters": [id_param, query("fields", text), query("rich_text_format", {"type": "string", "enum": ["html"]})],
                "responses": {**ok(ref("Page")), **error_responses(400, 401, 404, 429)},
            }
        },
        "/api/v2/images/": {
            "get": {
                "operationId": "listImages",
                "tags": ["images"],
                "summary": "Images used by pages the caller may read",
                "parameters": listing_parameters(limit_max),
                "responses": {
                    **ok({**listing, "properties": {**listing["properties"], "items": {"type": "array", "items": ref("ImageItem")}}}),
                    **error_responses(400, 401, 429),
                },
            }
        },
        "/api/v2/images/{id}/": {
            "get": {
                "operationId": "getImage",
                "tags": ["images"],
                "parameters": [id_param, query("fields", text)],
                "responses": {**ok(ref("ImageItem")), **error_responses(400, 401, 404, 429)},
            }
        },
        "/api/v2/documents/": {
            "get": {
                "operationId": "listDocuments",
                "tags": ["documents"],
                "summary": "Documents whose audience the caller may read",
                "parameters": listing_parameters(limit_max),
                "responses": {
                    **ok({**listing, "properties": {**listing["properties"], "items": {"type": "array", "items": ref("DocumentItem")}}}),
                    **error_responses(400, 401, 429),
                },
            }
        },
        "/api/v2/documents/{id}/": {
            "get": {
                "operationId": "getDocument",
                "tags": ["documents"],
                "parameters": [id_param, query("fields", text)],
                "responses": {**ok(ref("DocumentItem")), **error_responses(400, 401, 404, 429)},
            }
        },
        "/api/v2/documents/{id}/download/": {
            "get": {
                "operationId": "downloadDocument",
                "tags": ["documents"],
                "summary": "The file, for callers who may read it",
                "parameters": [id_param],
                "responses": {
                    "200": {"description": "The file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "302": {"description": "Redirect to the file in remote storage"},
                    **error_responses(400, 401, 404, 429),
                },
            }
        },
        "/api/v2/auth/token/": {
            "post": {
                "operationId": "obtainToken",
                "tags": ["auth"],
                "security": [],
                "requestBody": body("TokenRequest"),
                "responses": {**ok(ref("TokenPair")), **error_responses(400, 401, 429)},
            }
        },
        "/api/v2/auth/token/refresh/": {
            "post": {
                "operationId": "refreshToken",
                "tags": ["auth"],
                "security": [],
                "description": "Rotates the refresh token; replaying an old one signs the session out.",
                "requestBody": {**json_body, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["refresh_token"],
                    "properties": {"refresh_token": {"type": "string", "maxLength": 128}},
                }}}},
                "responses": {**ok(ref("TokenPair")), **error_responses(400, 401, 429)},
            }
        },
        "/api/v2/auth/token/revoke/": {
            "post": {
                "operationId": "revokeToken",
                "tags": ["auth"],
                "security": [],
                "description": "Signs out the session of an access or refresh token.",
                "requestBody": {**json_body, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token"],
                    "properties": {"token": {"type": "string", "maxLength": 128}},
                }}}},
                "responses": {
                    **ok({"type": "object", "required": ["revoked"], "properties": {"revoked": {"type": "boolean"}}}),
                    **error_responses(400, 429),
                },
            }
        },
        "/api/v2/auth/me/": {
            "get": {
                "operationId": "me",
                "tags": ["auth"],
                "responses": {**ok(ref("Me")), **error_responses(401, 429)},
            }
        },
        "/api/v2/preview/": {
            "get": {
                "operationId": "previewPage",
                "tags": ["preview"],
                "summary": "A draft, given the short-lived token an editor's preview link carries",
                "security": [],
                "parameters": [{**query("token", {"type": "string", "maxLength": 1000}), "required": True}],
                "responses": {**ok(ref("Page")), **error_responses(400, 404, 429)},
            }
        },
        "/api/v2/schema/": {
            "get": {
                "operationId": "schema",
                "tags": ["schema"],
                "security": [],
                "responses": {**ok({"type": "object"}), **error_responses(429)},
            }
        },
        "/api/v2/search/": {
            "get": {
                "operationId": "search",
                "tags": ["search"],
                "summary": "Full-text search with highlights and facets (served by the search app)",
                "description": "Public content for anonymous callers, members' content too with a member's "
                "bearer token; internal content never. Any text is a valid `q` (it is split into words, "
                "never parsed as query syntax); an empty `q` gives an empty page, unless a filter or date range "
                "is given: then every item it allows, newest first, with facet counts. Filters match facet "
                "values exactly; several values of one filter mean any of them. Pages reach at most "
                f"result {search_window()}: `page * page_size` must not exceed it.",
                "parameters": search_parameters(),
                "responses": {
                    **ok(ref("SearchResults")),
                    **error_responses(400, 401, 429, 503),
                },
            }
        },
        "/api/v2/search/suggest/": {
            "get": {
                "operationId": "search_suggest",
                "tags": ["search"],
                "summary": "Autocomplete: titles and terms that start with what was typed",
                "description": "Only from content the caller may read (as for search). It has a rate limit of "
                "its own, since apps ask as people type. Nothing typed, or nothing found: an empty list.",
                "parameters": suggest_parameters(),
                "responses": {
                    **ok({
                        "type": "object",
                        "required": ["query", "suggestions"],
                        "additionalProperties": False,
                        "properties": {
                            "query": {"type": "string", "description": "`q` as used"},
                            "suggestions": {"type": "array", "items": {"type": "string"}},
                        },
                    }),
                    **error_responses(400, 401, 429),
                },
            }
        },
        "/api/v2/search/click/": {
            "post": {
                "operationId": "search_click",
                "tags": ["search"],
                "summary": "Report a click on a search result (click-through in the editors' search report)",
                "description": "Send it when a reader opens a result (the static site uses `navigator.sendBeacon`). "
                "`log` is the `log_id` of the search's first page; clicks on later pages report the same "
                "`log`. No CSRF token is needed. (A GET with `log`, `doc`, `pos` and a local `to` records "
                "the click and redirects: the members' search page links through it.)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["log", "doc", "pos"],
                                "properties": {
                                    "log": {"type": "integer", "minimum": 0, "description": "`log_id` of the search"},
                                    "doc": {"type": "string", "pattern": f"^{click_doc_pattern()}$",
                                            "description": "the result's `id`"},
                                    "pos": {"type": "integer", "minimum": 1, "maximum": search_window(),
                                            "description": "the result's position, 1 for the first of page 1"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "204": {"description": "Recorded."},
                    **error_responses(400, 401, 404, 429),
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "书苑 Shuyuan headless API",
            "version": "2.0.0",
            "description": "Pages, images, documents, search and draft previews for apps, mini programs and "
            "displays. Anonymous callers read public content; send `Authorization: Bearer <access token>` "
            "(from /api/v2/auth/token/) to read members-only content as a member. Internal content is "
            "never served. Errors are `{\"message\": ...}` with a 4xx status.",
        },
        "security": [{}, {"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": components(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def render(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    django.setup()
    from django.conf import settings

    path = settings.BASE_DIR / JSON_PATH
    path.write_text(render(build_schema()), encoding="utf-8")
    print(f"wrote {path}")
