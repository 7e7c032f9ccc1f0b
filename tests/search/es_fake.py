"""A recording stand-in for an Elasticsearch node (no server needed).

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


def error(status: int, type_: str, reason: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {"type": type_, "reason": reason, **extra}
    return status, {"error": {"root_cause": [body], **body}, "status": status}


class Cluster:
    """A responder keeping the indices, aliases and document ids of a small cluster (see the module doc)."""

    def __init__(self, *, destructive_requires_name: bool = True) -> None:
        self.indices: dict[str, set[str]] = {}  # index -> its aliases
        self.docs: dict[str, set[str]] = {}  # index -> document ids
        self.auto_created: list[str] = []
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

    # -- the API ------------------------------------------------------------
    def __call__(self, req: Request) -> tuple[int, Any]:
        path = unquote(req.path.split("?")[0])
        parts = [p for p in path.split("/") if p]
        method = req.method
        if parts == ["_bulk"]:
            return self.bulk(req)
        if parts == ["_aliases"] and method == "POST":
            return self.update_aliases(req.body["actions"])
        if len(parts) == 2 and parts[0] == "_alias" and method in ("GET", "HEAD"):
            return self.get_alias(parts[1].split(","))
        if len(parts) == 2 and parts[1] in ("_search", "_count", "_refresh"):
            indices = [i for name in parts[0].split(",") for i in self.resolve(name)]
            if not indices:
                return error(404, "index_not_found_exception", f"no such index [{parts[0]}]", index=parts[0])
            if parts[1] == "_count":
                return 200, {"count": sum(len(self.docs[i]) for i in indices)}
            if parts[1] == "_refresh":
                return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
            total = sum(len(self.docs[i]) for i in indices)
            return 200, {"took": 1, "timed_out": False, "hits": {"total": {"value": total, "relation": "eq"}, "hits": []}}
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

    def bulk(self, req: Request) -> tuple[int, Any]:
        require_alias = req.params.get("require_alias") == "true"
        items = []
        lines = req.ndjson
        i = 0
        while i < len(lines):
            (op, meta), = lines[i].items()
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
            if op == "delete":
                item.update(status=200 if doc_id in ids else 404, result="deleted" if doc_id in ids else "not_found")
                ids.discard(doc_id)
            elif op == "create" and doc_id in ids:
                item.update(status=409, error={"type": "version_conflict_engine_exception",
                                               "reason": f"[{doc_id}]: version conflict, document already exists"})
            else:
                item.update(status=201 if doc_id not in ids else 200, result="created" if doc_id not in ids else "updated")
                ids.add(doc_id)
            items.append({op: item})
        errors = any("error" in next(iter(it.values())) for it in items)
        return 200, {"took": 1, "errors": errors, "items": items}
