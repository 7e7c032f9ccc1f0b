"""A recording stand-in for an Elasticsearch node (no server needed).

It is plugged into elasticsearch-py through ``node_class``, so requests go
through the real client, serializers and bulk helpers; the test sees exactly
the method, path and body the engine would send, and answers with canned JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node._base import NodeApiResponse


@dataclass
class Request:
    method: str
    path: str
    body: Any

    @property
    def ndjson(self) -> list[dict[str, Any]]:
        return self.body if isinstance(self.body, list) else []


Responder = Callable[[Request], tuple[int, Any]]


class RecordingNode(BaseNode):
    """Class attributes hold the log and the responder: the client builds nodes itself."""

    requests: list[Request] = []
    responder: Responder | None = None

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # noqa: D401
        text = body.decode() if isinstance(body, bytes) else body
        parsed: Any = None
        if text:
            if target.split("?")[0].endswith("_bulk"):
                parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                parsed = json.loads(text)
        req = Request(method, target, parsed)
        type(self).requests.append(req)
        status, payload = (type(self).responder or default_responder)(req)
        if status == 0:
            from elastic_transport import ConnectionError as TransportConnectionError

            raise TransportConnectionError("fake node: connection refused")
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"}),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, json.dumps(payload).encode())

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
