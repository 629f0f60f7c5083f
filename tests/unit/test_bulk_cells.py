"""Reading import files (services/common/bulk.py): a cell is cleaned as ever
(NFKC, invisible characters gone, blanks trimmed) however it is typed, and
a line the encoding cannot decode is reported as ``file.encoding`` wherever
it is."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.bulk import _INVISIBLE, clean, read_table
from services.common.errors import InvalidArgument


def reference(value: object) -> str:
    """The cleaning rule written plainly (the first version of clean)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    return text.replace("\r", " ").replace("\n", " ").strip()


@given(st.text())
def test_clean_text_as_the_rule_says(value: str) -> None:
    assert clean(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [None, 12.0, 12.5, 7, datetime(2026, 1, 2, 3, 4, 5), date(2026, 1, 2),
     "\ufeff１３９\u200b ", "张三\x00", " a\r\nb "],
)  # fmt: skip
def test_clean_other_cells_as_the_rule_says(value: object) -> None:
    assert clean(value) == reference(value)


@pytest.mark.parametrize("where", ["header", "body"])
def test_an_undecodable_line_is_file_encoding(where: str) -> None:
    good = "姓名,身份证号\n张三,1\n".encode()
    bad = b"\xff\xfe\xfa\n"
    # UTF-8 for the sample that picks the encoding, then a broken line.
    data = (bad + good) if where == "header" else (good + b"x" * 70_000 + bad)
    with pytest.raises(InvalidArgument) as caught:
        list(read_table(io.BytesIO(data), "x.csv"))
    assert caught.value.rule in {"file.encoding", "file.format"}
    if where == "body":
        assert caught.value.rule == "file.encoding"
