"""Protobuf messages as the gateway's JSON: proto field names (snake_case),
every field printed (zeros and empty lists included), enums by name, int64
as JSON numbers; plus a JSON Schema of a message for the OpenAPI document.

Example::

    to_json(pb.GetVolunteerResponse(volunteer=v))  # {"volunteer": {...}}
    reply_doc(pb.GetVolunteerResponse)             # for ``responses={...}``
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

F = FieldDescriptor
_SCALARS: dict[int, dict[str, str]] = {
    F.CPPTYPE_BOOL: {"type": "boolean"},
    F.CPPTYPE_STRING: {"type": "string"},
    F.CPPTYPE_INT32: {"type": "integer"},
    F.CPPTYPE_INT64: {"type": "integer"},
    F.CPPTYPE_UINT32: {"type": "integer"},
    F.CPPTYPE_UINT64: {"type": "integer"},
    F.CPPTYPE_DOUBLE: {"type": "number"},
    F.CPPTYPE_FLOAT: {"type": "number"},
}


def to_json(message: Message) -> dict[str, Any]:
    """A response message as JSON-ready data, field names as in the proto."""
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def from_json(data: dict[str, Any], message: Message) -> Message:
    """Fill a request message from data keyed by proto field names."""
    return json_format.ParseDict(data, message)


def field_schema(field: FieldDescriptor) -> dict[str, Any]:
    if field.cpp_type == F.CPPTYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": field_schema(value)}
        return schema(field.message_type)
    if field.cpp_type == F.CPPTYPE_ENUM:
        return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    return dict(_SCALARS.get(field.cpp_type, {}))


def schema(descriptor: Descriptor) -> dict[str, Any]:
    """A JSON Schema of a message as :func:`to_json` prints it."""
    props: dict[str, Any] = {}
    for field in descriptor.fields:
        one = field_schema(field)
        is_map = (
            field.cpp_type == F.CPPTYPE_MESSAGE
            and field.message_type.GetOptions().map_entry
        )
        if field.is_repeated and not is_map:
            one = {"type": "array", "items": one}
        props[field.name] = one
    return {"type": "object", "title": descriptor.name, "properties": props}


def reply_doc(
    message_cls: type[Message], status: int = 200
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering with this message."""
    body = {"application/json": {"schema": schema(message_cls.DESCRIPTOR)}}
    return {status: {"description": message_cls.DESCRIPTOR.name, "content": body}}
