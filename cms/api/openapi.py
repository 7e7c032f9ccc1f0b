"""The OpenAPI 3.1 description of the API, built from the page models' ``api_fields``.

``build_schema()`` is the source of truth; ``openapi.json`` next to this module is its committed
output, served at ``/api/v2/schema/`` and compared with a fresh build by the tests, so a model change
that alters the API shows up in review as a schema diff. Regenerate it with::

    DJANGO_SETTINGS_MODULE=cms.settings.dev python -m cms.api.openapi
"""

from __future__ import annotations

import json
from functools import cache
from importlib import import_module

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from wagtail import fields as wagtail_fields
from wagtail.images import get_image_model

from cms.provinces import Province
from members import PARTS

from .conf import api_setting

JSON_PATH = "cms/api/openapi.json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}




# A text parameter: any characters but NUL (which databases refuse).
NO_NUL = "^[^\\x00]*$"


@cache
def nonblank_pattern() -> str:
    """Text with a character that isn't whitespace (the server trims those values). The whitespace is
    what Python's ``str.strip()`` removes, spelled out: regex engines disagree on ``\\s`` (some leave
    out U+001C to U+001F)."""
    spaces = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace())
    return f"^[^\\x00]*[^\\x00{spaces}][^\\x00]*$"


def error_responses(*codes: int, lockout: bool = False) -> dict:
    """Error answers, all ``{"message"}``. ``lockout``: a 429 may also be the lockout of an account
    or address after repeated failed sign-ins (``{"message", "code": "locked"}``, django-axes)."""
    text = {
        400: "A parameter is wrong; the message says which and why.",
        401: "The bearer token is invalid, expired or revoked.",
        403: "The preview token is not valid or has expired; preview again from the admin.",
        404: "No such item, or not one the caller may read.",
        429: "Too many requests from this client; see Retry-After.",
        503: "The search engine is unavailable right now; see Retry-After.",
    }
    if lockout:
        text[429] = "Too many requests, or too many failed sign-ins (the account or address is locked); see Retry-After."
    retry = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 0}}}
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": ref("Error")}},
            **({"headers": retry} if code in (429, 503) else {}),
        }
        for code in codes
    }


def or_empty(schema: dict) -> dict:
    """A query parameter whose empty value means "not given"."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def text_param(max_length: int | None = None, *, nonblank: bool = False) -> dict:
    schema = {"type": "string", "pattern": nonblank_pattern() if nonblank else NO_NUL}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def page_id_param(root: bool = False) -> dict:
    from .views import MAX_NUMBER

    number = {"type": "integer", "minimum": 1, "maximum": MAX_NUMBER}
    return {"anyOf": [number, {"type": "string", "enum": ["root"]}]} if root else number


def names_pattern(names, *, wildcards: bool = False, alone: tuple[str, ...] = ()) -> str:
    """Wagtail's syntax for ``fields`` and ``order``: names separated by commas, each may be negated
    with ``-``; empty means the default. ``wildcards`` (``fields``): ``*`` (all fields) first, then
    only negated names, or ``_`` (no fields) first, then only names. ``alone``: values allowed only on
    their own (``random``)."""
    name = "(?:" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + ")"
    forms = [*alone, f"-?{name}(?:,-?{name})*"]
    if wildcards:
        forms += [f"\\*(?:,-{name})*", f"_(?:,{name})*"]
    return "^(?:" + "|".join(forms) + ")?$"


def field_names(viewset, model, *, listing: bool) -> list[str]:
    names = viewset.get_available_fields(model)
    if listing:
        names = [n for n in names if n not in viewset.detail_only_fields]
    return names


def order_names(viewset, model) -> list[str]:
    """Fields ``order`` accepts, with or without ``search``: database fields the search index can
    sort by (not relations)."""
    from wagtail.search.index import FilterField

    indexed = {f.field_name for f in model.get_search_fields() if isinstance(f, FilterField)}
    names = []
    for name in viewset.get_available_fields(model, db_fields_only=True):
        field = model._meta.get_field(name)
        if name in indexed and not field.is_relation:
            names.append(name)
    return names


def ok(schema: dict, description: str = "OK") -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


#: Fields whose API form isn't their model field's (serialised by the API itself).
SPECIAL_FIELDS = {
    "audience": lambda: {"type": "string", "enum": ["public", "members"]},
    "tags": lambda: {"type": "array", "items": {"type": "string"}},
    "attachments": lambda: {"type": "array", "items": ref("Attachment")},
    "translations": lambda: {
        "type": "array",
        "items": ref("Translation"),
        "description": "this page in the other languages the caller may read",
    },
}

#: Model field classes -> their JSON form; the first that matches (a DateTimeField is a DateField).
FIELD_SCHEMAS = (
    (wagtail_fields.StreamField, lambda: {"type": "array", "items": ref("Block")}),
    (wagtail_fields.RichTextField, lambda: {"type": "string", "description": "HTML"}),
    (models.BooleanField, lambda: {"type": "boolean"}),
    (models.DateTimeField, lambda: {"type": "string", "format": "date-time"}),
    (models.DateField, lambda: {"type": "string", "format": "date"}),
    (models.DecimalField, lambda: {"type": "string", "description": "decimal number"}),
    (models.IntegerField | models.AutoField, lambda: {"type": "integer"}),
)


def relation_schema(field) -> dict | None:
    """An image or a taxonomy term the API resolves into an object; None for other fields."""
    from cms.models.snippets import _Term

    related = getattr(field, "related_model", None)
    if related is None:
        return None
    if field.many_to_one and related is get_image_model():
        return nullable(ref("Image"))
    if issubclass(related, _Term) and (field.many_to_one or field.many_to_many):
        return nullable(ref("Term")) if field.many_to_one else {"type": "array", "items": ref("Term")}
    return None


def value_schema(field) -> dict:
    for field_class, schema in FIELD_SCHEMAS:
        if isinstance(field, field_class):
            return schema()
    if field.choices:
        return {"type": "string", "enum": [value for value, _label in field.flatchoices]}
    return {"type": "string"}


def field_schema(model, name: str) -> dict:
    if name in SPECIAL_FIELDS:
        return SPECIAL_FIELDS[name]()
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a property: any JSON
        return {}
    related = relation_schema(field)
    if related is not None:
        return related
    schema = value_schema(field)
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
            "properties": {
                "message": {"type": "string"},
                "code": {
                    "type": "string",
                    "description": "for some errors, what a client can act on: `locked` (too many failed "
                    "sign-ins), `otp_required`, `otp_invalid` (two-factor sign-in)",
                },
            },
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
                "username": {**text_param(150, nonblank=True), "minLength": 1},
                "password": {**text_param(256), "minLength": 1},
                "client": {**text_param(120), "description": "a name for this device"},
                "otp": {**text_param(16), "description": "for accounts with two-factor sign-in: the code from "
                        "the authenticator app, or a recovery code"},
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


def fields_param(viewset, model, *, listing: bool) -> dict:
    names = field_names(viewset, model, listing=listing)
    return query(
        "fields",
        {"type": "string", "pattern": names_pattern(names, wildcards=True), "maxLength": api_setting("MAX_PARAM_LENGTH")},
        "fields to add (`title,slug`), remove (`-title`), all (`*`) or start empty (`_`); those listed "
        "here always, and with a page type, that type's own fields",
    )


def listing_parameters(limit_max: int, viewset, model) -> list[dict]:
    orderable = order_names(viewset, model)
    return [
        query("limit", {"type": "integer", "minimum": 0, "maximum": limit_max}, "items per page (default 20)"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": 100_000}, "items to skip"),
        fields_param(viewset, model, listing=True),
        query(
            "order",
            {"type": "string", "pattern": names_pattern(orderable, alone=("random",)), "maxLength": api_setting("MAX_PARAM_LENGTH")},
            "fields to order by, `-` for descending (with a page type, its own fields too, unless searching), "
            "or `random` (then `offset` is ignored; with `search`, matches come in no particular order)",
        ),
        query("search", {**text_param(api_setting("MAX_PARAM_LENGTH"), nonblank=True), "minLength": 1}, "full-text search"),
        query("search_operator", {"type": "string", "enum": ["and", "or"]}, "with `search`: all words, or any"),
    ]


def click_doc_pattern() -> str:
    from .params import CLICK_DOC_RE

    return CLICK_DOC_RE.pattern


def search_window() -> int:
    from search.service import MAX_RESULT_WINDOW

    return MAX_RESULT_WINDOW


def kind_description(description: str) -> str:
    """``description`` followed by each search kind's code and label (the page models say them)."""
    from django.conf import settings
    from django.utils import translation

    from search.documents import all_kinds

    with translation.override(settings.LANGUAGE_CODE):  # the committed schema is the same everywhere
        labels = ", ".join(f"`{code}` {label}" for code, label in all_kinds())
    return f"{description}: {labels}"


def search_parameters() -> list[dict]:
    from search.service import DEFAULT_PAGE_SIZE

    from . import params as p

    # Filter values: an empty one is ignored, so each item schema admits "" (in its own terms, not
    # through anyOf, which schemathesis's negative generation misreads inside arrays).
    free = text_param(p.MAX_FILTER_LENGTH)

    def many(name, items, description):
        schema = {"type": "array", "items": items, "maxItems": p.MAX_FILTER_VALUES}
        return query(name, schema, description + "; empty values are ignored", style="form", explode=True)

    provinces = p.province_names()
    return [
        query("q", text_param(p.MAX_QUERY_LENGTH),
              "the words to find; any text (empty: an empty page, or with a filter or date range every match of those, newest first)"),
        query("page", or_empty({"type": "integer", "minimum": 1, "maximum": p.MAX_PAGE, "default": 1}),
              f"page number; results stop at result {search_window()}: a page past it is empty, like a page "
              "past the last result"),
        query("page_size", or_empty({"type": "integer", "minimum": 1, "maximum": p.MAX_PAGE_SIZE,
                                     "default": DEFAULT_PAGE_SIZE}), "results per page"),
        query("sort", or_empty({"type": "string", "enum": list(p.SORTS), "default": "relevance"}),
              "best matches first (word matching; for questions of 5 letters or more the best 100 are "
              "re-ranked by meaning), or newest first"),
        query("locale", or_empty({"type": "string", "enum": list(p.locale_codes())}), "only content in this language"),
        query("date_from", or_empty({"type": "string", "format": "date"}), "content dated on or after (YYYY-MM-DD)"),
        query("date_to", or_empty({"type": "string", "format": "date"}),
              "content dated on or before (YYYY-MM-DD); before `date_from`: nothing"),
        many("kind", {"type": "string", "enum": ["", *p.kinds()]}, kind_description("kind of content (facet `kind`)")),
        many("type", free, "study materials of a material type, by name (facet `material_type`)"),
        many("topic", free, "study materials of a topic, by name (facet `topics`)"),
        many("year", {"type": "string", "pattern": "^(?:[0-9]{4})?$"}, "content of a year (facet `year`)"),
        many("column", free, "articles of a column, by its title (facet `column`)"),
        many("category", free, "red exhibitions of a category, by name"),
        many("province", {"type": "string", "enum": ["", *provinces, *provinces.values()]},
             "red exhibitions of a province, by code (`beijing`) or name (`北京市`)"),
    ]


def suggest_parameters() -> list[dict]:
    from . import params as p

    return [
        query("q", text_param(p.MAX_SUGGEST_LENGTH), "what the user typed so far"),
        query("locale", or_empty({"type": "string", "enum": list(p.locale_codes())}), "only titles in this language"),
    ]


def search_components() -> dict:
    from search.service import DEFAULT_FACETS

    from . import params as p

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
            "required": ["id", "kind", "title", "title_html", "snippet_html", "score", "url", "html_url", "date", "source", "page"],
            "properties": {
                "id": {"type": "string", "pattern": "^(page|document):[0-9]+$",
                       "description": "`page:<page id>`, or `document:<document id>` for a library document (kind `document`)"},
                "kind": {"type": "string", "enum": list(p.kinds()), "description": kind_description("the kind of content")},
                "title": {"type": "string"},
                "title_html": {"type": "string"},
                "snippet_html": {"type": "string"},
                "score": {"type": "number"},
                "url": {"type": "string", "description": "the page on the site, or the document's download view (`/documents/<id>/<name>`)"},
                "html_url": nullable({"type": "string", "description": "`url` made absolute from the configured base URLs: "
                                      "a public page on the static site, anything else on the CMS (members' pages, download view)"}),
                "date": nullable({"type": "string", "format": "date"}),
                "source": nullable({"type": "string", "description": "the attachment (or document file) the snippet is from"}),
                "page": nullable({"type": "integer", "description": "the attachment's or document's page the snippet is from"}),
            },
            "additionalProperties": False,
        },
        "SearchFacetValue": facet_value,
        "SearchResults": {
            "type": "object",
            "required": ["total", "page", "page_size", "num_pages", "results", "facets", "query", "sort", "log_id"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1, "maximum": p.MAX_PAGE},
                "page_size": {"type": "integer", "minimum": 1, "maximum": p.MAX_PAGE_SIZE},
                "num_pages": {"type": "integer", "minimum": 1},
                "results": {"type": "array", "items": ref("SearchHit"), "maxItems": p.MAX_PAGE_SIZE},
                "facets": {
                    "type": "object",
                    "description": "Counts of each value among all matches (not just this page), most "
                    "frequent first; pass a value back as the filter of the same name.",
                    "required": list(DEFAULT_FACETS),
                    "properties": {
                        name: {"type": "array", "items": ref("SearchFacetValue")} for name in DEFAULT_FACETS
                    },
                    "additionalProperties": False,
                },
                "query": {"type": "string", "description": "`q` as searched (trimmed)"},
                "sort": {"type": "string", "enum": list(p.SORTS)},
                "log_id": nullable({"type": "integer", "description": "for click reporting (first pages only)"}),
            },
            "additionalProperties": False,
        },
    }


def build_schema() -> dict:
    from django.conf import settings
    from wagtail.documents import get_document_model
    from wagtail.models import Page

    from .params import locale_codes
    from .views import MAX_NUMBER, DocumentsViewSet, ImagesViewSet, PagesViewSet

    limit_max = getattr(settings, "WAGTAILAPI_LIMIT_MAX", 20)
    text = text_param(api_setting("MAX_PARAM_LENGTH"))
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_NUMBER}}
    image_model, document_model = get_image_model(), get_document_model()
    page_filters = [
        query("type", or_empty({"type": "string", "enum": [f"{m._meta.app_label}.{m.__name__}" for m in page_models()]}),
              "a page type; enables that type's fields, filters and orderings"),
        query("child_of", page_id_param(root=True), "pages whose parent is this page (`root`: the site's home page); "
              "a page that doesn't exist or that the caller can't read has no children"),
        query("descendant_of", page_id_param(root=True), "pages below this page"),
        query("ancestor_of", page_id_param(), "pages above this page"),
        query("translation_of", page_id_param(), "translations of this page"),
        query("locale", {"type": "string", "enum": list(locale_codes())}, "language of the pages"),
        query("column", text, "articles of a column (id or slug); an unknown one matches nothing"),
        query("topic", text, "study materials of a topic (id or slug)"),
        query("material_type", text, "study materials of a type (id or slug)"),
        query("province", {"type": "string", "enum": list(Province.values)}, "red exhibitions of a province"),
        query("category", text, "red exhibitions of a category (id or slug)"),
        query("tag", text, "articles with this tag"),
        query("date_from", {"type": "string", "format": "date"}, "content date on or after (YYYY-MM-DD)"),
        query("date_to", {"type": "string", "format": "date"}, "content date on or before (YYYY-MM-DD); before "
              "`date_from`: nothing"),
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
                "parameters": listing_parameters(limit_max, PagesViewSet, Page) + page_filters,
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
                "parameters": [
                    id_param,
                    fields_param(PagesViewSet, Page, listing=False),
                    query("rich_text_format", {"type": "string", "enum": ["html"]}),
                ],
                "responses": {**ok(ref("Page")), **error_responses(400, 401, 404, 429)},
            }
        },
        "/api/v2/images/": {
            "get": {
                "operationId": "listImages",
                "tags": ["images"],
                "summary": "Images used by pages the caller may read",
                "parameters": listing_parameters(limit_max, ImagesViewSet, image_model),
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
                "parameters": [id_param, fields_param(ImagesViewSet, image_model, listing=False)],
                "responses": {**ok(ref("ImageItem")), **error_responses(400, 401, 404, 429)},
            }
        },
        "/api/v2/documents/": {
            "get": {
                "operationId": "listDocuments",
                "tags": ["documents"],
                "summary": "Documents whose audience the caller may read",
                "parameters": listing_parameters(limit_max, DocumentsViewSet, document_model),
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
                "parameters": [id_param, fields_param(DocumentsViewSet, document_model, listing=False)],
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
                    "200": {
                        "description": "The file, with its own media type (PDF, Word, audio ...)",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
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
                "responses": {**ok(ref("TokenPair")), **error_responses(400, 401, 429, lockout=True)},
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
                    "properties": {"refresh_token": {**text_param(128, nonblank=True), "minLength": 1}},
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
                    "properties": {"token": {**text_param(128, nonblank=True), "minLength": 1}},
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
                "parameters": [
                    {
                        **query("token", {"type": "string", "pattern": "^[A-Za-z0-9_:.-]+$", "minLength": 1,
                                          "maxLength": api_setting("MAX_PARAM_LENGTH")}, "the token of the preview link"),
                        "required": True,
                    }
                ],
                "responses": {**ok(ref("Page")), **error_responses(400, 403, 404, 429)},
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
                "summary": "Full-text search with highlights and facets",
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
            "get": {
                "operationId": "search_click_link",
                "tags": ["search"],
                "summary": "Follow a result link of the members' search page, counting the click",
                "description": "Records the click when `log`, `doc` and `pos` are valid, then redirects to `to` "
                "(a local path; anything else goes to `/`). Never an error: a link always leads somewhere.",
                "parameters": [
                    query("to", {"type": "string"}, "where to go: a path on this site"),
                    query("log", {"type": "string"}, "`log_id` of the search"),
                    query("doc", {"type": "string"}, "the result's `id`"),
                    query("pos", {"type": "string"}, "the result's position"),
                ],
                "responses": {
                    "302": {"description": "To `to`.", "headers": {"Location": {"schema": {"type": "string"}}}},
                    **error_responses(401),
                },
            },
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
                                    "log": {"type": "integer", "minimum": 0, "maximum": 999_999_999,
                                            "description": "`log_id` of the search"},
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
    schemas = components()
    for part in PARTS:  # members' participation (issue #16): surveys, quizzes, study records
        module = import_module(f"{part}.api")
        paths.update(module.openapi_paths())
        schemas.update(module.openapi_components())
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
            "schemas": schemas,
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
