"""One parser per query parameter of the API, shared by every endpoint and by the members' search page.

Each parser takes the raw text of one parameter and returns its value, or raises
:class:`BadParameter`, whose message says which parameter is wrong and why: the endpoints answer it as
a 400 ``{"message"}`` (the listing filters raise it through Wagtail's ``BadRequestError``, the search
endpoints through ``errors.json_error``). The schema (``openapi``) reads its limits and choices from
here, so what it documents is what these accept.

Search (``/api/v2/search/``) reads all its parameters with :func:`search_params`; the members' search
page reads the same parameters with the same parsers, leaving out one that is wrong instead of
refusing the request (a link followed from elsewhere still shows the page).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.http import QueryDict
from wagtail.api.v2.utils import BadRequestError

# The limits and parameter names are the public search service's own (``search.public.params``, which
# imports no Django): one list for both answers of /api/v2/search/.
from search.public.params import (  # noqa: E402
    CLICK_DOC_RE,
    DATE_RE,
    EXACT_FILTERS,
    FILTER_PARAMS,
    MAX_FILTER_LENGTH,
    MAX_FILTER_VALUES,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    MAX_SUGGEST_LENGTH,
    NUMBER_RE,
    SEARCH_PARAMS,
    SINGLE_PARAMS,
    SORTS,
    YEAR_RE,
)
from search.service import MAX_RESULT_WINDOW, SearchParams


class BadParameter(BadRequestError):
    """A query parameter that is wrong; the message says which and why (a 400)."""


def _shown(raw: str) -> str:
    return raw[:20]


# -- choices -------------------------------------------------------------------------------------


def locale_codes() -> tuple[str, ...]:
    """The content languages (``WAGTAIL_CONTENT_LANGUAGES``): what ``locale`` accepts everywhere."""
    return tuple(code for code, _name in getattr(settings, "WAGTAIL_CONTENT_LANGUAGES", ()))


def kinds() -> tuple[str, ...]:
    """The search kinds' codes, sorted (the page models say which they are; library documents are 文件)."""
    from search.documents import all_kinds

    return tuple(sorted(code for code, _label in all_kinds()))


def province_names() -> dict[str, str]:
    """Province code (``beijing``) -> its name (``北京市``), which is what the search index holds."""
    from cms.provinces import Province

    return {str(code): str(label) for code, label in Province.choices}


# -- one parser per parameter -------------------------------------------------------------------


def text(name: str, raw: str, max_length: int) -> str:
    """Free text (``q``, a topic's name): any characters but NUL, at most ``max_length`` of them."""
    if "\x00" in raw:
        raise BadParameter(f"{name} contains a null character")
    if len(raw) > max_length:
        raise BadParameter(f"{name} is longer than {max_length} characters")
    return raw


def whole_number(name: str, raw: str, maximum: int) -> int:
    """A whole number from 1 to ``maximum``, in ASCII digits ("¹" is a digit to ``str.isdigit``)."""
    if not NUMBER_RE.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise BadParameter(f"{name} must be a whole number from 1 to {maximum}, not '{_shown(raw)}'")
    return int(raw)


def choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``, exactly as given (``" date"`` is not ``date``)."""
    if raw not in choices:
        raise BadParameter(f"{name} must be one of: {', '.join(choices)}, not '{_shown(raw)}'")
    return raw


def date(name: str, raw: str) -> dt.date:
    """A day as YYYY-MM-DD (``date_from``, ``date_to``)."""
    try:
        if not DATE_RE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadParameter(f"{name} must be a date as YYYY-MM-DD, not '{_shown(raw)}'") from exc


def locale(raw: str) -> str:
    """A content language code (``zh-hant``)."""
    codes = locale_codes()
    if raw not in codes:
        raise BadParameter(f"locale '{_shown(raw)}' doesn't exist; use one of: {', '.join(codes)}")
    return raw


def province(raw: str, *, by_name: bool = False) -> str:
    """A province code (``beijing``), returned as the code; ``by_name``: its name (``北京市``) too."""
    names = province_names()
    for code, name in names.items():
        if raw == code or (by_name and raw == name):
            return code
    raise BadParameter(f"province '{_shown(raw)}' is not a province code; use one of: {', '.join(names)}")


def year(raw: str) -> str:
    if not YEAR_RE.fullmatch(raw):
        raise BadParameter(f"year must be four digits (2025), not '{_shown(raw)}'")
    return raw


def kind(raw: str) -> str:
    codes = kinds()
    if raw not in codes:
        raise BadParameter(f"kind '{_shown(raw)}' doesn't exist; use one of: {', '.join(codes)}")
    return raw


# -- search --------------------------------------------------------------------------------------

#: How each filter's values are checked and stored (the index holds a province's name).
FILTER_VALUE: dict[str, Callable[[str], str]] = {
    "year": year,
    "kind": kind,
    "province": lambda raw: province_names()[province(raw, by_name=True)],
}


def check_names(params: QueryDict, known: frozenset[str], single: tuple[str, ...]) -> None:
    """Refuse parameters nobody reads, NUL characters, and a one-value parameter given twice."""
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadParameter(f"query parameter is not recognised: {', '.join(unknown)} (use: {', '.join(sorted(known))})")
    for name, values in params.lists():
        if any("\x00" in value for value in values):
            raise BadParameter(f"{name} contains a null character")
        if name in single and len(values) > 1:
            raise BadParameter(f"{name} is given more than once")


def single(params: QueryDict, name: str) -> str:
    """The one value of ``name`` ("" when left out)."""
    values = params.getlist(name)
    if len(values) > 1:
        raise BadParameter(f"{name} is given more than once")
    if values and "\x00" in values[0]:
        raise BadParameter(f"{name} contains a null character")
    return values[0] if values else ""


def filter_values(params: QueryDict, name: str) -> list[str]:
    """A filter's values, each checked; free text is trimmed, as the index holds it, and empty values
    are left out."""
    values = params.getlist(name)
    if len(values) > MAX_FILTER_VALUES:
        raise BadParameter(f"{name} is given more than {MAX_FILTER_VALUES} times")
    values = [text(name, value, MAX_FILTER_LENGTH) for value in values]
    if name not in EXACT_FILTERS:
        values = [value.strip() for value in values]
    parse = FILTER_VALUE.get(name, str)
    return list(dict.fromkeys(parse(value) for value in values if value))


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An empty value is the parameter left out (None)."""
    return lambda raw: parse(raw) if raw else None


#: Search's one-value parameters, in the order they are checked, each with its parser (None: left out).
SINGLE_PARSERS: dict[str, Callable[[str], object]] = {
    "q": lambda raw: text("q", raw, MAX_QUERY_LENGTH).strip(),
    "page_size": _optional(lambda raw: whole_number("page_size", raw, MAX_PAGE_SIZE)),
    "page": _optional(lambda raw: whole_number("page", raw, MAX_PAGE)),
    "sort": _optional(lambda raw: choice("sort", raw, SORTS)),
    "locale": _optional(locale),
    "date_from": _optional(lambda raw: date("date_from", raw)),
    "date_to": _optional(lambda raw: date("date_to", raw)),
}


def search_params(params: QueryDict, *, strict: bool = True) -> SearchParams:
    """The parameters of ``/api/v2/search/`` (and of the members' search page).

    ``strict`` (the API): an unknown or malformed parameter raises :class:`BadParameter`. Any text is a
    valid ``q`` (it is analysed into words, never parsed as engine syntax); only its length is
    limited. Filter values are matched exactly, so an unknown topic simply finds nothing, but
    malformed ones (a year that isn't four digits, a kind or province that doesn't exist) are refused.
    An empty value is the parameter left out; codes are not trimmed (" date" is not a sort).
    Otherwise (the members' page) other parameters are ignored and a wrong one is left out.
    """
    if strict:
        check_names(params, SEARCH_PARAMS, SINGLE_PARAMS)
    values: dict[str, object] = {}
    for name, parse in SINGLE_PARSERS.items():
        try:
            values[name] = parse(single(params, name))
        except BadParameter:
            if strict:
                raise
    filters: dict[str, list[str]] = {}
    for name, field in FILTER_PARAMS.items():
        try:
            filters[field] = filter_values(params, name)
        except BadParameter:
            if strict:
                raise
    given = {name: value for name, value in values.items() if value is not None}
    return SearchParams(**given, filters={field: found for field, found in filters.items() if found})


def suggest_params(params: QueryDict) -> tuple[str, str | None]:
    """``(prefix, locale)`` of ``/api/v2/search/suggest/``; an empty ``locale`` is no locale."""
    prefix = text("q", params.get("q", ""), MAX_SUGGEST_LENGTH)
    raw_locale = params.get("locale", "")
    return prefix, locale(raw_locale) if raw_locale else None


def click_params(params) -> tuple[int, str, int]:
    """``(log_id, document_id, position)`` of a click on a search result."""
    raw_log, doc, raw_pos = (str(params.get(name, "")).strip() for name in ("log", "doc", "pos"))
    if not NUMBER_RE.fullmatch(raw_log):
        raise BadParameter(f"log must be the log_id of a search, not '{_shown(raw_log)}'")
    if not CLICK_DOC_RE.fullmatch(doc):
        raise BadParameter(f"doc must be a result's id (such as page:12), not '{_shown(doc)}'")
    if not NUMBER_RE.fullmatch(raw_pos) or not 1 <= int(raw_pos) <= MAX_RESULT_WINDOW:
        raise BadParameter(f"pos must be the result's position from 1 to {MAX_RESULT_WINDOW}, not '{_shown(raw_pos)}'")
    return int(raw_log), doc, int(raw_pos)
