"""A recording stand-in for an Elasticsearch node (no server needed).

Every request is also checked against Elastic's published API specification, strictly (see
:class:`SpecValidator`): a body or query parameter the specification refuses raises
:class:`SpecRefused` in the test instead of being answered.

It is plugged into elasticsearch-py through ``node_class``, so requests go
through the real client, serializers and bulk helpers; the test sees exactly
the method, path, headers and body the engine would send, and answers with canned JSON.

Like a real server of major version ``RecordingNode.server_version`` (8 or 9), the node first
checks the media-type headers and refuses, with 400 ``media_type_header_exception``, what that
version refuses: a ``compatible-with`` other than its own major or the previous one (an 8.x server
refuses the 9.x client's ``compatible-with=9``: elasticsearch-py issues #2923, #2927), or an
``Accept`` and ``Content-Type`` that disagree about it.

:class:`Cluster` is a responder that keeps the indices and aliases of a small cluster and answers
as a server does: writes to a missing index auto-create it unless ``require_alias`` is set, a
delete by wildcard is refused (``action.destructive_requires_name``, true by default since 8.0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node._base import NodeApiResponse

SERVER_VERSIONS = (8, 9)


@dataclass
class Request:
    method: str
    path: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # the answer's status, once answered

    @property
    def ndjson(self) -> list[dict[str, Any]]:
        return self.body if isinstance(self.body, list) else []

    @property
    def params(self) -> dict[str, str]:
        query = self.path.partition("?")[2]
        return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


#: answers (status, JSON body); status 0 raises a connection error, -1 a timeout
Responder = Callable[[Request], tuple[int, Any]]

_MEDIA_TYPES = {"json", "x-ndjson"}


def _media_version(value: str) -> tuple[str | None, int | None]:
    """(format, compatible-with) of an Accept/Content-Type value; format None when not JSON/NDJSON."""
    kind, _, params = value.partition(";")
    kind = kind.strip().lower()
    fmt = None
    for prefix in ("application/vnd.elasticsearch+", "application/"):
        if kind.startswith(prefix) and kind[len(prefix):] in _MEDIA_TYPES:
            fmt = kind[len(prefix):]
            break
    version = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "compatible-with":
            version = int(val.strip()) if val.strip().isdigit() else -1
    return fmt, version


def header_error(server_version: int, headers: dict[str, str], has_body: bool) -> dict[str, Any] | None:
    """The 400 body a server of ``server_version`` answers to these headers, or None when it accepts them.

    The rules of the server's RestCompatibleVersionHelper: a requested version must be the server's
    major or the one before, and Accept and Content-Type must request the same version (or none)."""
    accepted = (server_version, server_version - 1)
    accept = headers.get("accept", "")
    content_type = headers.get("content-type", "") if has_body else ""
    versions: dict[str, int | None] = {}
    for name, value in (("Accept", accept), ("Content-Type", content_type)):
        if not value:
            continue
        fmt, version = _media_version(value)
        if name == "Content-Type" and fmt is None:
            return None  # answered 406 elsewhere
        versions[name] = version
        if version is not None and version not in accepted:
            cause = (f"{name} version must be either version {accepted[0]} or {accepted[1]}, but found {version}. "
                     f"{name}={value}")
            return _media_error(cause)
    if "Accept" in versions and "Content-Type" in versions and versions["Accept"] != versions["Content-Type"]:
        return _media_error(
            "A compatible version is required on both Content-Type and Accept headers if either one has requested "
            f"a compatible version and the compatible versions must match. Accept={accept}, Content-Type={content_type}"
        )
    return None


def _media_error(cause: str) -> dict[str, Any]:
    reason = "Invalid media-type value on headers [Accept, Content-Type]"
    return {
        "error": {
            "root_cause": [{"type": "media_type_header_exception", "reason": reason}],
            "type": "media_type_header_exception",
            "reason": reason,
            "caused_by": {"type": "status_exception", "reason": cause},
        },
        "status": 400,
    }


class RecordingNode(BaseNode):
    """Class attributes hold the log, the responder and the server's major version: the client builds nodes itself."""

    requests: list[Request] = []
    responder: Responder | None = None
    server_version: int = 8
    #: check every request against Elastic's published specification (when ../shared is there)
    validate: bool = True
    #: requests the specification refused, with why (each also raised SpecRefused in the test)
    refused: list[tuple[Request, list[str]]] = []

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # noqa: D401
        text = body.decode() if isinstance(body, bytes) else body
        parsed: Any = None
        if text:
            if target.split("?")[0].endswith("_bulk"):
                parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                parsed = json.loads(text)
        req = Request(method, target, parsed, {k.lower(): v for k, v in dict(headers or {}).items()})
        type(self).requests.append(req)
        if type(self).validate:
            problems = check_request(method, target, parsed if text else None)
            if problems:
                type(self).refused.append((req, problems))
                raise SpecRefused(f"the Elasticsearch API specification refuses {method} {target}: " + "; ".join(problems[:5]))
        refused = header_error(type(self).server_version, req.headers, bool(text))
        if refused is not None:
            status, payload = 400, refused
        else:
            status, payload = (type(self).responder or default_responder)(req)
        if status == 0:
            from elastic_transport import ConnectionError as TransportConnectionError

            raise TransportConnectionError("fake node: connection refused")
        if status == -1:
            from elastic_transport import ConnectionTimeout

            raise ConnectionTimeout("fake node: read timed out")
        req.status = status
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"}),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, b"" if method == "HEAD" else json.dumps(payload).encode())

    def close(self) -> None:
        pass


def default_responder(req: Request) -> tuple[int, Any]:
    path = req.path.split("?")[0]
    if path.endswith("/_bulk"):
        items = []
        lines = req.ndjson
        i = 0
        while i < len(lines):
            op = next(iter(lines[i]))
            meta = lines[i][op]
            items.append({op: {"_index": meta.get("_index"), "_id": meta.get("_id"), "status": 200 if op != "create" else 201}})
            i += 1 if op == "delete" else 2
        return 200, {"took": 1, "errors": False, "items": items}
    if "/_alias/" in path and req.method == "GET":
        return 404, {"error": "alias missing", "status": 404}
    if path.endswith("/_search"):
        return 200, {"took": 1, "timed_out": False, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
    if path.endswith("/_count"):
        return 200, {"count": 0}
    return 200, {"acknowledged": True}


_FILTERS = {"term", "terms", "ids", "range", "match_all"}


def _filter_only(query: dict[str, Any]) -> bool:
    """Is this a query of filters only (what the fake cluster can answer)?"""
    (kind, spec), = query.items()
    if kind == "bool":
        return set(spec) <= {"filter"} and all(_filter_only(q) for q in _as_list(spec.get("filter")))
    return kind in _FILTERS


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _matches(query: dict[str, Any], src: dict[str, Any]) -> bool:
    (kind, spec), = query.items()
    if kind == "bool":
        return all(_matches(q, src) for q in _as_list(spec.get("filter")) + _as_list(spec.get("must")))
    if kind == "match_all":
        return True
    if kind == "ids":
        return src.get("id") in spec["values"]
    (field_name, value), = ((k, v) for k, v in spec.items() if k not in ("boost", "_name"))
    have = set(map(str, _as_list(src.get(field_name))))
    if kind == "term":
        return str(value["value"] if isinstance(value, dict) else value) in have
    if kind == "terms":
        return bool(have & set(map(str, value)))
    if kind == "range":
        got = src.get(field_name)
        return got is not None and all(
            (op == "gte" and got >= v) or (op == "lte" and got <= v) or (op == "gt" and got > v) or (op == "lt" and got < v)
            for op, v in value.items())
    raise NotImplementedError(kind)


def _project(src: dict[str, Any], spec: Any) -> dict[str, Any]:
    """The ``_source`` a hit returns: everything, or the fields listed (``payload.title``: a part)."""
    if spec is True or spec is None:
        return src
    fields = spec if isinstance(spec, list) else spec.get("includes", [])
    fields = [fields] if isinstance(fields, str) else fields
    out: dict[str, Any] = {}
    for name in fields:
        top, _, sub = name.partition(".")
        if top in src:
            if sub and isinstance(src[top], dict):
                out.setdefault(top, {})[sub] = src[top].get(sub)
            else:
                out[top] = src[top]
    return out


def error(status: int, type_: str, reason: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {"type": type_, "reason": reason, **extra}
    return status, {"error": {"root_cause": [body], **body}, "status": status}


class Cluster:
    """A responder keeping the indices, aliases and document ids of a small cluster (see the module doc)."""

    def __init__(self, *, destructive_requires_name: bool = True) -> None:
        self.indices: dict[str, set[str]] = {}  # index -> its aliases
        self.docs: dict[str, set[str]] = {}  # index -> document ids
        self.sources: dict[str, dict[str, dict[str, Any]]] = {}  # index -> id -> source
        self.auto_created: list[str] = []
        self.updated: list[tuple[str, str]] = []  # (index, id) of each partial update applied
        self.destructive_requires_name = destructive_requires_name

    # -- names --------------------------------------------------------------
    def aliases(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for index, names in sorted(self.indices.items()):
            for alias in names:
                out.setdefault(alias, []).append(index)
        return out

    def resolve(self, name: str) -> list[str]:
        if name in self.indices:
            return [name]
        return self.aliases().get(name, [])

    def _create(self, name: str, aliases=()) -> None:
        self.indices[name] = set(aliases)
        self.docs[name] = set()
        self.sources[name] = {}

    # -- the API ------------------------------------------------------------
    def __call__(self, req: Request) -> tuple[int, Any]:
        path = unquote(req.path.split("?")[0])
        parts = [p for p in path.split("/") if p]
        method = req.method
        if parts == ["_bulk"]:
            return self.bulk(req)
        if parts == ["_search", "scroll"]:  # the scan helper's next pages: the first page held everything
            if method == "DELETE":
                return 200, {"succeeded": True, "num_freed": 1}
            return 200, {"_scroll_id": "fake", "took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
        if parts == ["_aliases"] and method == "POST":
            return self.update_aliases(req.body["actions"])
        if len(parts) == 2 and parts[0] == "_alias" and method in ("GET", "HEAD"):
            return self.get_alias(parts[1].split(","))
        if len(parts) == 2 and parts[1] in ("_search", "_count", "_refresh"):
            indices = [i for name in parts[0].split(",") for i in self.resolve(name)]
            if not indices:
                return error(404, "index_not_found_exception", f"no such index [{parts[0]}]", index=parts[0])
            if parts[1] == "_count":
                if req.body and "query" in req.body and _filter_only(req.body["query"]):
                    return 200, {"count": sum(1 for i in indices for src in self.sources[i].values() if _matches(req.body["query"], src))}
                return 200, {"count": sum(len(self.docs[i]) for i in indices)}
            if parts[1] == "_refresh":
                return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
            status, answer = self.search(indices, req.body or {})
            if "scroll" in req.params:
                answer["_scroll_id"] = "fake"
            return status, answer
        if len(parts) == 1 and not parts[0].startswith("_"):
            if method == "PUT":
                return self.create_index(parts[0], req.body or {})
            if method == "DELETE":
                return self.delete_index(parts[0].split(","), req.params)
        return 400, {"error": f"fake cluster: no handler for {method} {path}", "status": 400}

    def create_index(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if name in self.indices:
            return error(400, "resource_already_exists_exception", f"index [{name}] already exists", index=name)
        aliases = set((body.get("aliases") or {}).keys())
        if name in self.aliases() or aliases & set(self.indices):
            return error(400, "invalid_index_name_exception", f"Invalid index name [{name}], an alias or index with the same name exists")
        self._create(name, aliases)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def delete_index(self, names: list[str], params: dict[str, str]) -> tuple[int, Any]:
        if self.destructive_requires_name and any("*" in n or n == "_all" for n in names):
            return error(400, "illegal_argument_exception", "Wildcard expressions or all indices are not allowed")
        targets = []
        for name in names:
            if "*" in name:
                targets.extend(i for i in self.indices if re.fullmatch(re.escape(name).replace(r"\*", ".*"), i))
            elif name in self.aliases():
                return error(400, "illegal_argument_exception",
                             f"The provided expression [{name}] matches an alias, specify the corresponding concrete indices instead.")
            elif name in self.indices:
                targets.append(name)
            elif params.get("ignore_unavailable") != "true":
                return error(404, "index_not_found_exception", f"no such index [{name}]", index=name)
        for name in targets:
            self.indices.pop(name, None)
            self.docs.pop(name, None)
            self.sources.pop(name, None)
        return 200, {"acknowledged": True}

    def get_alias(self, names: list[str]) -> tuple[int, Any]:
        found: dict[str, Any] = {}
        aliases = self.aliases()
        missing = [n for n in names if n not in aliases]
        for name in names:
            for index in aliases.get(name, []):
                found.setdefault(index, {"aliases": {}})["aliases"][name] = {}
        if missing:  # 404 as soon as one named alias is missing, with the others' indices in the body
            return 404, {"error": f"alias [{','.join(missing)}] missing", "status": 404, **found}
        return 200, found

    def update_aliases(self, actions: list[dict[str, Any]]) -> tuple[int, Any]:
        indices = {k: set(v) for k, v in self.indices.items()}
        for action in actions:  # all or nothing, as the server does
            (kind, spec), = action.items()
            index, alias = spec["index"], spec["alias"]
            if index not in indices:
                return error(404, "index_not_found_exception", f"no such index [{index}]", index=index)
            if kind == "add":
                if alias in indices:
                    return error(400, "invalid_alias_name_exception",
                                 f"Invalid alias name [{alias}]: an index or data stream exists with the same name as the alias")
                indices[index].add(alias)
            elif kind == "remove":
                if alias not in indices[index]:
                    return error(404, "aliases_not_found_exception", f"aliases [{alias}] missing")
                indices[index].discard(alias)
        self.indices = indices
        return 200, {"acknowledged": True}

    def search(self, indices: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        """Filter-only queries (term, terms, ids, range, bool filter) and kNN on a nested vector field
        are answered as a server would; a scored word query matches nothing here (no hits, total all)."""
        size = int(body.get("size", 10))
        docs = [(i, doc_id, src) for i in indices for doc_id, src in sorted(self.sources[i].items())]
        if "knn" in body:
            knn = body["knn"]
            nested, _, leaf = knn["field"].partition(".")
            qv = knn["query_vector"]
            scored = []
            for index, doc_id, src in docs:
                if "filter" in knn and not _matches(knn["filter"], src):
                    continue
                sims = [sum(a * b for a, b in zip(p[leaf], qv, strict=True)) for p in src.get(nested) or []]
                if sims:
                    scored.append(((1.0 + max(sims)) / 2.0, index, doc_id, src))
            scored.sort(key=lambda t: -t[0])
            hits = [(score, index, doc_id, src) for score, index, doc_id, src in scored[: int(knn["k"])]]
            total = len(hits)
        elif "query" not in body or _filter_only(body["query"]):
            found = [(0.0, i, d, src) for i, d, src in docs if "query" not in body or _matches(body["query"], src)]
            total, hits = len(found), found[int(body.get("from", 0)): int(body.get("from", 0)) + size]
        else:
            total, hits = len(docs), []
        extra = {}
        aggs = body.get("aggs") or body.get("aggregations") or {}
        if aggs and ("query" not in body or _filter_only(body["query"])):
            # terms aggregations over the matching documents (each value of a list counts)
            matching = [src for _, _, _, src in (found if "knn" not in body else hits)]
            extra["aggregations"] = {}
            for name, agg in aggs.items():
                field = agg.get("terms", {}).get("field")
                counts: dict[str, int] = {}
                for src in matching:
                    for value in _as_list(src.get(field)):
                        counts[str(value)] = counts.get(str(value), 0) + 1
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: int(agg.get("terms", {}).get("size", 10))]
                extra["aggregations"][name] = {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                                               "buckets": [{"key": k, "doc_count": n} for k, n in top]}
        return 200, {"took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}, **extra,
                     "hits": {"total": {"value": total, "relation": "eq"}, "hits": [
            {"_index": index, "_id": doc_id, "_score": score, **({"_source": _project(src, body["_source"])}
                                                                  if body.get("_source", True) is not False else {})}
            for score, index, doc_id, src in hits[:size]]}}

    def bulk(self, req: Request) -> tuple[int, Any]:
        require_alias = req.params.get("require_alias") == "true"
        items = []
        lines = req.ndjson
        i = 0
        while i < len(lines):
            (op, meta), = lines[i].items()
            source = lines[i + 1] if op != "delete" else None
            i += 1 if op == "delete" else 2
            name, doc_id = meta["_index"], meta.get("_id")
            item = {"_index": name, "_id": doc_id}
            is_alias = name in self.aliases()
            if op != "delete" and (require_alias or meta.get("require_alias")) and not is_alias:
                item.update(status=404, error={
                    "type": "index_not_found_exception",
                    "reason": f"no such index [{name}] and [require_alias] request flag is [true] and [{name}] is not an alias",
                    "index": name})
                items.append({op: item})
                continue
            targets = self.resolve(name)
            if not targets:
                if op == "delete":
                    item.update(status=404, error={"type": "index_not_found_exception", "reason": f"no such index [{name}]", "index": name})
                    items.append({op: item})
                    continue
                self._create(name)  # what require_alias prevents: a real index with dynamic mappings
                self.auto_created.append(name)
                targets = [name]
            if len(targets) > 1:
                item.update(status=400, error={"type": "illegal_argument_exception",
                                               "reason": f"no write index is defined for alias [{name}]"})
                items.append({op: item})
                continue
            index = targets[0]
            ids = self.docs[index]
            item["_index"] = index
            if op == "update":
                if doc_id not in ids:  # no upsert: a server answers 404 for this item alone
                    item.update(status=404, error={"type": "document_missing_exception",
                                                   "reason": f"[{doc_id}]: document missing", "index": index})
                else:
                    self.sources[index][doc_id] = {**self.sources[index][doc_id], **source["doc"]}
                    self.updated.append((index, doc_id))
                    item.update(status=200, result="updated")
                items.append({op: item})
                continue
            if op == "delete":
                item.update(status=200 if doc_id in ids else 404, result="deleted" if doc_id in ids else "not_found")
                ids.discard(doc_id)
                self.sources[index].pop(doc_id, None)
            elif op == "create" and doc_id in ids:
                item.update(status=409, error={"type": "version_conflict_engine_exception",
                                               "reason": f"[{doc_id}]: version conflict, document already exists"})
            else:
                item.update(status=201 if doc_id not in ids else 200, result="created" if doc_id not in ids else "updated")
                ids.add(doc_id)
                self.sources[index][doc_id] = source
            items.append({op: item})
        errors = any("error" in next(iter(it.values())) for it in items)
        return 200, {"took": 1, "errors": errors, "items": items}


# -- Elastic's published API specification, strictly --------------------------------------------------
#
# /work/shared/specs/elasticsearch-serverless-openapi.json (../shared/specs/ beside the project) is OpenAPI
# 3.0.3.  It is converted once a test session into one JSON Schema 2020-12 resource in which every
# component exists twice: "open" (as published, for use inside an allOf) and "strict" (the open one with
# ``unevaluatedProperties: false``, for every other place a component is used: a property's value, an
# array's items, a map's values, a oneOf/anyOf branch, a request body).  ``unevaluatedProperties`` sees
# through ``allOf`` and ``$ref``, so a strict schema admits exactly the properties that its allOf chain
# declares: a misspelled clause (``matchh``) or mapping parameter is refused, as a server would.

SPEC_NAME = "elasticsearch-serverless-openapi.json"
SPEC_URI = "urn:shuyuan:elasticsearch-spec"
_COMPONENT_REF = "#/components/schemas/"

#: What the serverless flavour leaves out and a self-managed server (the one we deploy) accepts, each
#: allowed explicitly: ({component: {property: schema}}).
SELF_MANAGED_EXTRAS: dict[str, dict[str, Any]] = {
    # index settings: a serverless project manages shards and replicas itself; an 8.x/9.x cluster takes them
    "indices._types.IndexSettings": {
        "number_of_shards": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]+$"}]},
        "number_of_replicas": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}]},
    },
}


#: Where the specification describes less than every server accepts (its generator drops the
#: ``[field: string]`` index signature of a few classes), replaced by what the server documents.
SPEC_GAPS: dict[str, Any] = {
    # {"terms": {"<field>": [values], "boost": 1.0}}: the field map is all a terms query is, and the
    # published file has only boost and _name (https://www.elastic.co/docs/reference/query-languages/query-dsl/query-dsl-terms-query)
    # "_source": ["id", "payload"]: a list is short for {"includes": [...]} (``@shortcut_property`` in
    # the specification's TypeScript, dropped by the generator; documented in "Retrieve selected fields")
    "_global.search._types.SourceConfig": {"oneOf": [
        {"type": "boolean"},
        {"$ref": "#/components/schemas/_types.Fields"},
        {"$ref": "#/components/schemas/_global.search._types.SourceFilter"},
    ]},
    # [{"date": {"order": "desc", "missing": "_last"}}]: a sort by a field, keyed by its name (FieldSort
    # is not in the serverless file at all; https://www.elastic.co/docs/reference/elasticsearch/rest-apis/sort-search-results)
    "_types.SortOptions": {
        "type": "object",
        "properties": {k: {"$ref": f"#/components/schemas/_types.{v}"} for k, v in
                       (("_score", "ScoreSort"), ("_doc", "ScoreSort"), ("_geo_distance", "GeoDistanceSort"), ("_script", "ScriptSort"))},
        "additionalProperties": {
            "type": "object",
            "properties": {
                "order": {"type": "string", "enum": ["asc", "desc"]},
                "missing": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]},
                "mode": {"type": "string", "enum": ["min", "max", "sum", "avg", "median"]},
                "unmapped_type": {"type": "string"},
                "numeric_type": {"type": "string", "enum": ["long", "double", "date", "date_nanos"]},
                "format": {"type": "string"},
            },
        },
        "minProperties": 1,
        "maxProperties": 1,
    },
    "_types.query_dsl.TermsQuery": {
        "type": "object",
        "properties": {"boost": {"type": "number"}, "_name": {"type": "string"}},
        "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/_types.FieldValue"}},
        "minProperties": 1,
    },
}


#: Property aliases the server reads (``@aliases`` in the specification's TypeScript source, which
#: the OpenAPI generator leaves out): elasticsearch.dsl writes ``aggs``, the file knows only ``aggregations``.
PROPERTY_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    ("body", "search"): {"aggs": "aggregations"},
    ("component", "_types.aggregations.AggregationContainer"): {"aggs": "aggregations"},
}


def _add_aliases(schema: dict[str, Any], aliases: dict[str, str]) -> None:
    """Give each ``alias`` the schema of the property it stands for, wherever (through allOf) it is declared."""
    props = schema.get("properties")
    if props is not None:
        for alias, name in aliases.items():
            if name in props and alias not in props:
                props[alias] = props[name]
    for part in schema.get("allOf", ()):
        if isinstance(part, dict) and "$ref" not in part:
            _add_aliases(part, aliases)


def spec_path():
    """The specification's path, or None when ../shared (the team's shared files) is absent."""
    from pathlib import Path

    for base in (Path(__file__).resolve().parents[3] / "shared" / "specs", Path("/work/shared/specs")):
        if (base / SPEC_NAME).is_file():
            return base / SPEC_NAME
    return None


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _closable(schema: Any, components: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Does this schema (through allOf and $ref) declare properties, so that closing it means something?
    A bare ``{"type": "object"}`` (a document, ``_meta``) stays open."""
    if not isinstance(schema, dict):
        return False
    if "properties" in schema:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_COMPONENT_REF):
        name = ref[len(_COMPONENT_REF):]
        return name not in seen and _closable(components.get(name), components, seen | {name})
    return any(_closable(s, components, seen) for s in schema.get("allOf", ()))


def _convert(schema: Any, components: dict[str, Any], *, position: str) -> Any:
    """One OpenAPI 3.0 schema as JSON Schema 2020-12.  ``position``: "value" (strict) or "part" (an
    allOf branch, left open: the schema holding the allOf closes it)."""
    if isinstance(schema, list):
        return [_convert(s, components, position="value") for s in schema]
    if not isinstance(schema, dict):
        return schema
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, dict) and discriminator.get("mapping") and "oneOf" in schema:
        return _dispatch(schema, components)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("discriminator", "example", "examples", "externalDocs", "xml") or key.startswith("x-"):
            continue
        if key == "nullable":
            continue
        if key == "$ref":
            name = value[len(_COMPONENT_REF):]
            out["$ref"] = f"#/$defs/{'open' if position == 'part' else 'strict'}/{_pointer(name)}"
        elif key == "allOf":
            out[key] = [_convert(s, components, position="part") for s in value]
        elif key in ("oneOf", "anyOf"):
            # the specification's oneOfs are TypeScript unions, whose branches overlap (a Duration is
            # "any string" or "-1"; a FieldValue a string or a nullable string): any branch admits
            out["anyOf"] = [_convert(s, components, position="value") for s in value]
        elif key in ("properties", "patternProperties"):
            out[key] = {name: _convert(s, components, position="value") for name, s in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _convert(value, components, position="value") if isinstance(value, dict) else value
        else:
            out[key] = value
    if position == "value" and "$ref" not in schema and _closable(schema, components):
        structural = {k for k in schema if k not in _ANNOTATIONS}
        if structural == {"allOf"} and len(schema["allOf"]) == 1 and set(schema["allOf"][0]) == {"$ref"}:
            # {"description": ..., "allOf": [{"$ref": X}]}: how the file names a property's class
            out = {"$ref": f"#/$defs/strict/{_pointer(schema['allOf'][0]['$ref'][len(_COMPONENT_REF):])}"}
        else:
            out = _closed(schema, components, out)
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


#: keywords that say something about a schema without constraining an instance
_ANNOTATIONS = frozenset({"description", "title", "default", "deprecated", "example", "examples", "externalDocs",
                          "nullable", "discriminator", "xml"})


def _closed(schema: dict[str, Any], components: dict[str, Any], converted: dict[str, Any]) -> dict[str, Any]:
    """``converted`` admitting no property its allOf chain does not declare.

    ``unevaluatedProperties: false`` says exactly that, through allOf and $ref.  Where the chain is
    plain (objects with properties and required, nothing conditional), it is flattened into one
    ``properties`` with ``additionalProperties: false`` instead: the same meaning, checked many times
    faster (jsonschema re-validates every subschema to find what an unevaluatedProperties saw)."""
    flat = _flatten(schema, components, frozenset())
    if flat is None:
        return {**converted, "unevaluatedProperties": False}
    properties, required, bounds = flat
    plain: dict[str, Any] = {"type": "object", "properties": properties, **bounds}
    if required:
        plain["required"] = sorted(set(required))
    out = _convert(plain, components, position="part")
    out["additionalProperties"] = False
    return out


def _flatten(schema: Any, components: dict[str, Any], seen: frozenset[str]):
    """(properties, required, {min,max}Properties) of a plain allOf chain; None when it is not plain."""
    if not isinstance(schema, dict) or schema.get("nullable"):
        return None
    if "$ref" in schema:
        name = schema["$ref"][len(_COMPONENT_REF):]
        if name in seen or name not in components:
            return None
        return _flatten(components[name], components, seen | {name})
    structural = {k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")}
    if not structural <= {"type", "properties", "required", "minProperties", "maxProperties", "allOf"}:
        return None
    if schema.get("type", "object") != "object":
        return None
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required = list(schema.get("required", ()))
    bounds = {k: schema[k] for k in ("minProperties", "maxProperties") if k in schema}
    for part in schema.get("allOf", ()):
        flat = _flatten(part, components, seen)
        if flat is None:
            return None
        more, more_required, more_bounds = flat
        for name, sub in more.items():
            properties[name] = {"allOf": [properties[name], sub]} if name in properties else sub
        required.extend(more_required)
        if more_bounds and bounds:
            return None
        bounds = bounds or more_bounds
    return properties, required, bounds


def _dispatch(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A union with a discriminator (a mapping property's, an analyzer's ``type``) as a dispatch on
    it: the one branch its value names, strictly; a value it does not name is refused.  Same meaning
    as the union, without evaluating fifty strict branches (what a server does too).  Without the
    property, the union as published."""
    name = schema["discriminator"]["propertyName"]
    mapping = schema["discriminator"]["mapping"]
    parts: list[dict[str, Any]] = [
        {"if": {"properties": {name: {"const": value}}, "required": [name]},
         "then": {"$ref": f"#/$defs/strict/{_pointer(ref[len(_COMPONENT_REF):])}"}}
        for value, ref in mapping.items()
    ]
    parts.append({
        "if": {"required": [name]},
        "then": {"properties": {name: {"enum": list(mapping)}}},
        "else": {"anyOf": [_convert(s, components, position="value") for s in schema["oneOf"]]},
    })
    return {"allOf": parts}


class SpecValidator:
    """Validates request bodies (and query parameter names) against the specification, strictly."""

    def __init__(self, path) -> None:
        import json as _json

        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self._Draft = Draft202012Validator
        spec = _json.loads(path.read_text())
        components = dict(spec["components"]["schemas"])
        components.update(SPEC_GAPS)
        for where, aliases in PROPERTY_ALIASES.items():
            container = spec["components"]["requestBodies"][where[1]]["content"]["application/json"]["schema"] \
                if where[0] == "body" else components[where[1]]
            _add_aliases(container, aliases)
        for name, extras in SELF_MANAGED_EXTRAS.items():
            component = components[name]
            components[name] = {"allOf": [component, {"type": "object", "properties": extras}]}
        defs: dict[str, Any] = {"open": {}, "strict": {}, "bodies": {}}
        for name, schema in components.items():
            defs["open"][name] = _convert(schema, components, position="part")
            strict: dict[str, Any] = {"$ref": f"#/$defs/open/{_pointer(name)}"}
            if _closable(schema, components):
                strict = _closed(schema, components, strict)
            defs["strict"][name] = strict
        self.spec = spec
        self.operations: list[tuple[str, re.Pattern[str], int, dict[str, Any]]] = []
        bodies = spec["components"].get("requestBodies", {})
        params = spec["components"].get("parameters", {})
        for template, item in spec["paths"].items():
            regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                if method not in ("get", "put", "post", "delete", "head"):
                    continue
                body = op.get("requestBody")
                key = None
                if body is not None:
                    if "$ref" in body:
                        body = bodies[body["$ref"].rsplit("/", 1)[1]]
                    schema = body.get("content", {}).get("application/json", {}).get("schema")
                    if schema is not None:
                        key = f"{method} {template}"
                        defs["bodies"][key] = _convert(schema, components, position="value")
                names = set()
                for p in op.get("parameters", []):
                    p = params[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                    if p.get("in") == "query":
                        names.add(p["name"])
                entry = {"template": template, "body": key, "query": names, "operation": op.get("operationId")}
                self.operations.append((method.upper(), regex, template.count("{"), entry))
        self.operations.sort(key=lambda o: o[2])  # a literal segment (/_bulk) before a name (/{index})
        resource = Resource.from_contents({"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs},
                                          default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource).crawl()
        self._validators: dict[str, Any] = {}
        #: what was checked: requests, and distinct (method, path template, body) triples
        self.checked = 0
        self.distinct: set[str] = set()
        self._answers: dict[str, list[str]] = {}

    def validator(self, ref: str):
        """A validator for ``#/$defs/...`` of the converted specification (e.g. "strict/_types.KnnSearch")."""
        if ref not in self._validators:
            self._validators[ref] = self._Draft({"$ref": f"{SPEC_URI}#/$defs/{ref}"}, registry=self.registry)
        return self._validators[ref]

    def schema_errors(self, ref: str, instance: Any) -> list[str]:
        errors = sorted(self.validator(ref).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [_describe(e) for e in errors]

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        if method == "HEAD":
            candidates = ("HEAD", "GET")
        else:
            candidates = (method,)
        for m in candidates:
            for op_method, regex, _n, entry in self.operations:
                if op_method == m and regex.match(path):
                    return entry
        return None

    def errors(self, method: str, target: str, body: Any) -> list[str]:
        """Why the specification refuses this request ([] when it admits it)."""
        import json as _json

        path, _, query = target.partition("?")
        path = unquote(path)
        entry = self.operation(method, path)
        if entry is None:
            return [f"{method} {path}: no such operation in the specification"]
        problems = []
        for name in parse_qs(query, keep_blank_values=True):
            if name not in entry["query"]:
                problems.append(f"{method} {entry['template']}: unknown query parameter {name!r}")
        signature = f"{method} {entry['template']} {_json.dumps(body, sort_keys=True, ensure_ascii=False)}"
        self.checked += 1
        if signature in self._answers:  # the same body again (the engine repeats itself): the same answer
            return problems + self._answers[signature]
        self.distinct.add(signature)
        found: list[str] = []
        if body is not None:
            if entry["body"] is None:
                found.append(f"{method} {entry['template']}: takes no body")
            elif entry["template"].endswith("/_bulk"):
                found.extend(self.bulk_errors(body))
            else:
                found.extend(f"{method} {entry['template']}: {e}" for e in self.schema_errors(f"bodies/{_pointer(entry['body'])}", body))
        self._answers[signature] = found
        return problems + found

    def bulk_errors(self, lines: list[Any]) -> list[str]:
        """A bulk body line by line: an action line (OperationContainer), then, for index/create, the
        document (any object) or, for update, the update's source line (UpdateAction)."""
        problems = []
        i = 0
        while i < len(lines):
            action = lines[i]
            problems.extend(f"_bulk line {i + 1}: {e}" for e in self.schema_errors("strict/_global.bulk.OperationContainer", action))
            op = next(iter(action), None) if isinstance(action, dict) else None
            if op == "delete":
                i += 1
                continue
            if i + 1 >= len(lines):
                problems.append(f"_bulk line {i + 1}: {op} without its source line")
                break
            source = lines[i + 1]
            if op == "update":
                problems.extend(f"_bulk line {i + 2}: {e}" for e in self.schema_errors("strict/_global.bulk.UpdateAction", source))
            elif not isinstance(source, dict):
                problems.append(f"_bulk line {i + 2}: a document must be an object")
            i += 2
        return problems


def _describe(error) -> str:
    """Where and why; for a union (anyOf), the reason of the branch that got deepest into the body."""
    best = _deepest(error)
    where = "/".join(str(p) for p in best.absolute_path) or "(body)"
    return f"at {where}: {best.message[:300]}"


def _deepest(error):
    if not error.context:
        return error
    return max((_deepest(e) for e in error.context), key=lambda e: (len(e.absolute_path), e.validator != "type"))


_VALIDATOR: SpecValidator | None = None


def spec_validator() -> SpecValidator | None:
    """The converted specification, once a test session (it is large); None when ../shared is absent."""
    global _VALIDATOR
    if _VALIDATOR is None:
        path = spec_path()
        if path is None:
            return None
        _VALIDATOR = SpecValidator(path)
    return _VALIDATOR


class SpecRefused(AssertionError):
    """A request the published specification refuses (raised in the test, never answered)."""


def check_request(method: str, target: str, body: Any) -> list[str]:
    """Why the specification refuses this request ([] when it admits it, or when ../shared is absent)."""
    validator = spec_validator()
    return [] if validator is None else validator.errors(method, target, body)


def validating_node_class():
    """A node class for a real server (the live contract suite): each request is checked against the
    specification before it is sent, as the recording node checks it."""
    from elastic_transport import Urllib3HttpNode

    class ValidatingNode(Urllib3HttpNode):
        def perform_request(self, method, target, body=None, headers=None, **kwargs):
            text = body.decode() if isinstance(body, bytes) else body
            parsed: Any = None
            if text:
                if target.split("?")[0].endswith("_bulk"):
                    parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
                else:
                    parsed = json.loads(text)
            problems = check_request(method, target, parsed)
            if problems:
                raise SpecRefused(f"the Elasticsearch API specification refuses {method} {target}: " + "; ".join(problems[:5]))
            return super().perform_request(method, target, body=body, headers=headers, **kwargs)

    return ValidatingNode
