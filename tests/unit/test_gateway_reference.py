"""Reference data the console reads instead of keeping its own copy: the
service fields, with both names, the same list every service validates."""

from __future__ import annotations

from services.common.service_fields import SERVICE_FIELDS, check_service_fields
from services.gateway.api_registry import service_fields


def test_service_fields_route_lists_every_field_with_both_names() -> None:
    body = service_fields()
    codes = [f["code"] for f in body["fields"]]
    assert codes == list(SERVICE_FIELDS)
    assert check_service_fields(codes) == codes  # every one is accepted
    for f in body["fields"]:
        assert f["name_zh"] == SERVICE_FIELDS[f["code"]]
        assert f["name_en"] and f["name_en"].isascii()


def test_the_console_keeps_no_copy_of_the_service_fields() -> None:
    from pathlib import Path

    pages = Path(__file__).parents[2] / "services/gateway/console"
    for script in pages.rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        # Each Chinese name appears in a page only by coming from the API.
        assert "生态环保与垃圾分类" not in text, script
