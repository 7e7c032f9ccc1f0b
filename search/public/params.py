"""The public search service's parameters: the CMS search API's names and limits, without Django.

The names, limits and messages are those of ``cms.api.params`` (the service answers the same
static page); that module needs Django's settings, so the numbers are restated here and a test
(``tests/search/test_public_service.py``) keeps the two equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 200
MAX_SUGGEST_LENGTH = 50
MAX_PAGE_SIZE = 50
MAX_RESULT_WINDOW = 10_000
MAX_PAGE = MAX_RESULT_WINDOW
MAX_FILTER_VALUES = 10
MAX_FILTER_LENGTH = 100
DEFAULT_PAGE_SIZE = 10
SORTS: tuple[str, ...] = ("relevance", "date")
FILTER_PARAMS: dict[str, str] = {
    "type": "material_type",
    "topic": "topics",
    "year": "year",
    "column": "column",
    "kind": "kind",
    "province": "province",
    "category": "category",
}
SINGLE_PARAMS: tuple[str, ...] = ("q", "page", "page_size", "sort", "locale", "date_from", "date_to")
SEARCH_PARAMS: frozenset[str] = frozenset(SINGLE_PARAMS) | frozenset(FILTER_PARAMS)
EXACT_FILTERS: frozenset[str] = frozenset({"kind", "province", "year"})

NUMBER_RE = re.compile(r"[0-9]{1,9}")
YEAR_RE = re.compile(r"[0-9]{4}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CLICK_DOC_RE = re.compile(r"[a-z_]{1,20}:[0-9]{1,12}")


class BadParameter(ValueError):
    """A parameter that is wrong; the message says which and why (a 400)."""


@dataclass(frozen=True)
class Search:
    q: str = ""
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: str = "relevance"
    locale: str | None = None
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _shown(raw: str) -> str:
    return raw[:20]


def _one(params: Mapping[str, list[str]], name: str) -> str:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadParameter(f"{name} is given more than once")
    if values and "\x00" in values[0]:
        raise BadParameter(f"{name} contains a null character")
    return values[0] if values else ""


def text(name: str, raw: str, max_length: int) -> str:
    if "\x00" in raw:
        raise BadParameter(f"{name} contains a null character")
    if len(raw) > max_length:
        raise BadParameter(f"{name} is longer than {max_length} characters")
    return raw


def whole_number(name: str, raw: str, maximum: int) -> int:
    if not NUMBER_RE.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise BadParameter(f"{name} must be a whole number from 1 to {maximum}, not '{_shown(raw)}'")
    return int(raw)


def day(name: str, raw: str) -> dt.date:
    try:
        if not DATE_RE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadParameter(f"{name} must be a date as YYYY-MM-DD, not '{_shown(raw)}'") from exc


@dataclass(frozen=True)
class Choices:
    """What the bundle holds: content languages, kind codes, province code -> name (as indexed)."""

    locales: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    provinces: Mapping[str, str] = field(default_factory=dict)


def choice(name: str, raw: str, choices: Sequence[str]) -> str:
    if raw not in choices:
        raise BadParameter(f"{name} '{_shown(raw)}' doesn't exist; use one of: {', '.join(choices)}")
    return raw


def _filter_value(name: str, raw: str, choices: Choices) -> str:
    if name == "year" and not YEAR_RE.fullmatch(raw):
        raise BadParameter(f"year must be four digits (2025), not '{_shown(raw)}'")
    if name == "kind":
        return choice("kind", raw, choices.kinds)
    if name == "province":
        for province_code, province_name in choices.provinces.items():
            if raw in (province_code, province_name):
                return province_name
        raise BadParameter(f"province '{_shown(raw)}' is not a province code; use one of: {', '.join(choices.provinces)}")
    return raw


def search_params(params: Mapping[str, list[str]], choices: Choices) -> Search:
    """The parameters of a search; an unknown or malformed one raises :class:`BadParameter`."""
    unknown = sorted(set(params) - SEARCH_PARAMS)
    if unknown:
        raise BadParameter(
            f"query parameter is not recognised: {', '.join(_shown(u) for u in unknown[:5])} "
            f"(use: {', '.join(sorted(SEARCH_PARAMS))})"
        )
    for name, values in params.items():
        if any("\x00" in value for value in values):
            raise BadParameter(f"{name} contains a null character")
    values: dict[str, object] = {"q": text("q", _one(params, "q"), MAX_QUERY_LENGTH).strip()}
    raw = _one(params, "page_size")
    if raw:
        values["page_size"] = whole_number("page_size", raw, MAX_PAGE_SIZE)
    raw = _one(params, "page")
    if raw:
        values["page"] = whole_number("page", raw, MAX_PAGE)
    raw = _one(params, "sort")
    if raw:
        if raw not in SORTS:
            raise BadParameter(f"sort must be one of: {', '.join(SORTS)}, not '{_shown(raw)}'")
        values["sort"] = raw
    raw = _one(params, "locale")
    if raw:
        values["locale"] = choice("locale", raw, choices.locales)
    for name in ("date_from", "date_to"):
        raw = _one(params, name)
        if raw:
            values[name] = day(name, raw)
    filters: dict[str, list[str]] = {}
    for name, field_name in FILTER_PARAMS.items():
        given = params.get(name, [])
        if len(given) > MAX_FILTER_VALUES:
            raise BadParameter(f"{name} is given more than {MAX_FILTER_VALUES} times")
        given = [text(name, value, MAX_FILTER_LENGTH) for value in given]
        if name not in EXACT_FILTERS:
            given = [value.strip() for value in given]
        found = list(dict.fromkeys(_filter_value(name, value, choices) for value in given if value))
        if found:
            filters[field_name] = found
    return Search(**values, filters=filters)  # type: ignore[arg-type]


def suggest_params(params: Mapping[str, list[str]], choices: Choices) -> tuple[str, str | None]:
    prefix = text("q", _one(params, "q"), MAX_SUGGEST_LENGTH)
    raw = _one(params, "locale")
    return prefix, choice("locale", raw, choices.locales) if raw else None


def click_params(params: Mapping[str, list[str]]) -> tuple[int, str, int]:
    raw_log, doc, raw_pos = (_one(params, name).strip() for name in ("log", "doc", "pos"))
    if not NUMBER_RE.fullmatch(raw_log):
        raise BadParameter(f"log must be the log_id of a search, not '{_shown(raw_log)}'")
    if not CLICK_DOC_RE.fullmatch(doc):
        raise BadParameter(f"doc must be a result's id (such as page:12), not '{_shown(doc)}'")
    if not NUMBER_RE.fullmatch(raw_pos) or not 1 <= int(raw_pos) <= MAX_RESULT_WINDOW:
        raise BadParameter(f"pos must be the result's position from 1 to {MAX_RESULT_WINDOW}, not '{_shown(raw_pos)}'")
    return int(raw_log), doc, int(raw_pos)
