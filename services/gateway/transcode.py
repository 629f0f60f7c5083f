"""HTTP routes declared as a table and transcoded to gRPC calls, in the
manner of gRPC-JSON transcoding: path parameters and (for GET) query
parameters or (otherwise) the JSON body fill the request message, whose
field names the JSON uses as they are. Every route still goes through the
gateway's authentication, deadline and error mapping.

Example::

    Route("POST", "/projects/{id}/approve", "activity", "ApproveProject",
          "Approve a project / 审核通过项目", "projects")
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common import protos
from services.common.errors import InvalidArgument
from services.gateway import contract
from services.gateway.backend import PublicRpc, RollupRpc, Rpc
from services.gateway.protojson import field_schema, reply_doc, schema, to_json

F = FieldDescriptor
# Where json_format says which field it could not parse.
_FIELD = re.compile(r'Failed to parse (\w+) field|has no field named "(\w+)"')
# Query parameters that fill the nested common.v1.PageRequest.
_PAGE = {"page_size": "page_size", "page_token": "page_token"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    service: str
    rpc: str
    summary: str
    tag: str
    public: bool = False
    # The nation (scope CN) may call it: rollups and the division tree only;
    # every other route refuses a national caller before any gRPC call.
    national: bool = False
    status_code: int = 200
    # A bytes field of the reply to send as the body, with this media type.
    download: tuple[str, str] | None = None
    # Validate the query or body at the edge (see contract.py), with the
    # rules the proto cannot say; ``body`` names its schema in the document.
    strict: bool = False
    rules: Mapping[str, contract.Rule] = default(default_factory=dict)
    body: str = ""
    # (header, field): the header fills the field when the body leaves it empty.
    header: tuple[str, str] | None = None
    # Extra gRPC metadata taken from the HTTP request (e.g. the client address).
    metadata: Callable[[Request], tuple[tuple[str, str], ...]] | None = None
    responses: Mapping[int | str, Any] = default(default_factory=dict)
    doc: str = ""  # the operation's description, when its summary is not enough


def _caller_dep(route: Route) -> Any:
    if route.public:
        return PublicRpc
    return RollupRpc if route.national else Rpc


def messages(route: Route) -> tuple[type[Message], type[Message]]:
    return protos.method_types(route.service, route.rpc)


def _coerce(descriptor: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Query strings → JSON types the request's fields expect."""
    out: dict[str, Any] = {}
    page: dict[str, Any] = {}
    for key, raw in data.items():
        field = descriptor.fields_by_name.get(key)
        if field is None and key in _PAGE and "page" in descriptor.fields_by_name:
            page[_PAGE[key]] = int(raw) if key == "page_size" and raw.isdigit() else raw
            continue
        if field is not None and field.cpp_type == F.CPPTYPE_BOOL:
            out[key] = raw.lower() in ("1", "true", "yes")
        elif field is not None and field.is_repeated:
            out[key] = raw.split(",") if raw else []
        else:
            out[key] = raw
    if page:
        out["page"] = page
    return out


def build_request(
    route: Route,
    request_type: type[Message],
    path: dict[str, str],
    data: dict[str, Any],
) -> Message:
    merged = {**data, **path}
    try:
        return json_format.ParseDict(merged, request_type())
    except json_format.ParseError as exc:
        text = str(exc)
        match = _FIELD.search(text)
        field = next((g for g in match.groups() if g), "body") if match else "body"
        raise InvalidArgument(
            field.split(".")[-1],
            "body.format",
            f"the request does not fit {request_type.DESCRIPTOR.name}: {text[:200]}",
            "请求内容与接口定义不符",
        ) from exc


async def _call(route: Route, request: Request, rpc: Any, message: Message) -> Any:
    extra = route.metadata(request) if route.metadata else ()
    reply = await rpc.call(route.rpc, message, route.service, extra)
    if route.download:
        field, media_type = route.download
        return Response(getattr(reply, field), media_type=media_type)
    return to_json(reply)


def _strict_endpoint(route: Route) -> Callable[..., Any]:
    """FastAPI validates the parameters and body built from the request
    message (see contract.py); the endpoint turns them into the message."""
    request_type, _ = messages(route)
    in_path = re.findall(r"{(\w+)}", route.path)

    async def endpoint(**values: Any) -> Any:
        data = contract.data_of(route.method, route.rules, route.header, values)
        path = {name: values[name] for name in in_path}
        message = build_request(route, request_type, path, data)
        return await _call(route, values["request"], values["rpc"], message)

    kw = inspect.Parameter.KEYWORD_ONLY
    caller_dep = _caller_dep(route)
    _name(endpoint, route)
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", kw, annotation=Request),
            inspect.Parameter("rpc", kw, annotation=caller_dep),
            *contract.signature(
                route.method,
                in_path,
                request_type.DESCRIPTOR,
                route.rules,
                route.body,
                route.header,
            ),
        ]
    )
    return endpoint


def _endpoint(route: Route) -> Callable[..., Any]:
    request_type, _ = messages(route)
    caller_dep = _caller_dep(route)

    async def endpoint(request: Request, rpc: Any) -> Any:
        path = dict(request.path_params)
        if route.method == "GET":
            data = _coerce(request_type.DESCRIPTOR, dict(request.query_params))
        else:
            raw = await request.body()
            try:
                data = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise InvalidArgument(
                    "body", "body.json", "the body is not JSON", "请求体不是合法的 JSON"
                ) from exc
            if not isinstance(data, dict):
                raise InvalidArgument(
                    "body",
                    "body.json",
                    "the body must be a JSON object",
                    "请求体须为 JSON 对象",
                )
        message = build_request(route, request_type, path, data)
        return await _call(route, request, rpc, message)

    # Real objects, not the strings `from __future__ import annotations` leaves,
    # so FastAPI can resolve the caller dependency of this route.
    endpoint.__annotations__ = {"request": Request, "rpc": caller_dep, "return": Any}
    _name(endpoint, route)
    return endpoint


def _name(endpoint: Callable[..., Any], route: Route) -> None:
    """The operation's id and description in the OpenAPI document."""
    endpoint.__name__ = f"{route.service}_{route.rpc}"
    endpoint.__doc__ = route.doc or f"gRPC {route.service}.{route.rpc}."


def _param_schema(field: Any) -> dict[str, Any]:
    """The schema of one request field given as a path or query parameter."""
    one = field_schema(field)
    if field.is_repeated:
        return {"type": "array", "items": one}
    return one


def parameters(route: Route, request_type: type[Message]) -> list[dict[str, Any]]:
    """OpenAPI parameters of a route: every path template variable, and for
    GET every request field a query string can fill (scalars, enums, lists
    of them as comma-separated text, and paging)."""
    fields = request_type.DESCRIPTOR.fields_by_name
    in_path = re.findall(r"{(\w+)}", route.path)
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _param_schema(fields[name])
            if name in fields
            else {"type": "string"},
        }
        for name in in_path
    ]
    if route.method != "GET":
        return params
    for field in request_type.DESCRIPTOR.fields:
        if field.name in in_path:
            continue
        if field.cpp_type == F.CPPTYPE_MESSAGE:
            if field.name == "page":
                params += PAGE_PARAMETERS
            continue  # a nested message cannot come from a query string
        param: dict[str, Any] = {
            "name": field.name,
            "in": "query",
            "required": False,
            "schema": _param_schema(field),
        }
        if field.is_repeated:
            param.update(style="form", explode=False)
        params.append(param)
    return params


PAGE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "page_size",
        "in": "query",
        "required": False,
        "description": "At most this many items (0: 50) / 每页条数",
        "schema": {"type": "integer", "minimum": 0, "maximum": 500},
    },
    {
        "name": "page_token",
        "in": "query",
        "required": False,
        "description": "Token from the previous page / 上一页返回的令牌",
        "schema": {"type": "string"},
    },
]


def _responses(route: Route, reply_type: type[Message]) -> dict[int | str, Any]:
    if route.download is None:
        return {**reply_doc(reply_type, route.status_code), **route.responses}
    _, media_type = route.download
    return {
        route.status_code: {
            "description": f"{reply_type.DESCRIPTOR.name} ({media_type})",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


def register(router: APIRouter, routes: list[Route]) -> None:
    for route in routes:
        request_type, reply_type = messages(route)
        extra: dict[str, Any] = {"parameters": parameters(route, request_type)}
        if route.strict:
            extra = {}  # FastAPI documents what it validates
        elif route.method != "GET":
            body = schema(request_type.DESCRIPTOR)
            for name in re.findall(r"{(\w+)}", route.path):
                body["properties"].pop(name, None)  # taken from the path
            extra["requestBody"] = {"content": {"application/json": {"schema": body}}}
        router.add_api_route(
            route.path,
            _strict_endpoint(route) if route.strict else _endpoint(route),
            methods=[route.method],
            summary=route.summary,
            tags=[route.tag],
            status_code=route.status_code,
            responses=_responses(route, reply_type),
            response_class=Response if route.download else JSONResponse,
            openapi_extra=extra or None,
        )
