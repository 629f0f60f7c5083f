"""The phone app's dictionaries (mobile/app.text.js and pages/*.text.js) give
every key in both Chinese and English, with no key given twice and no
Chinese text empty; every page module has its dictionary.

Each file is an ES module read as source, not run: ``export default
{ zh: {...}, en: {...} };`` whose objects map keys to string literals. The
tokenizer and the object reader are the console dictionaries' test's own
(test_console_i18n.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_console_i18n import Parser

MOBILE = Path(__file__).parents[2] / "services" / "gateway" / "mobile"
FILES = sorted([MOBILE / "app.text.js", *(MOBILE / "pages").glob("*.text.js")])


def read(path: Path) -> dict[str, list[tuple[str, str]]]:
    """The languages of one ``export default { zh: ..., en: ... };`` file."""
    p = Parser(path.read_text(encoding="utf-8"))
    p.take("name", "export")
    p.take("name", "default")
    p.take("punct", "{")
    languages = p.languages()
    p.take("punct", ";")
    assert p.i == len(p.toks), "one dictionary per file"
    return languages


def test_every_page_has_a_dictionary() -> None:
    pages = {p.stem for p in (MOBILE / "pages").glob("*.js")} - {p.stem for p in FILES}
    assert pages, "no page modules found"
    names = {p.name for p in FILES}
    for page in pages:
        assert f"{page}.text.js" in names, page


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_chinese_and_english_have_the_same_keys(path: Path) -> None:
    languages = read(path)
    assert set(languages) == {"zh", "en"}
    zh, en = (dict(languages[k]) for k in ("zh", "en"))
    assert sorted(set(zh) - set(en)) == [], "only in zh"
    assert sorted(set(en) - set(zh)) == [], "only in en"
    for language, pairs in languages.items():
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), (
            language,
            sorted({k for k in keys if keys.count(k) > 1}),
        )
        blank = [k for k, v in pairs if not v.strip()]
        assert blank == [], (path.name, language, blank)


def test_the_reader_finds_a_key_missing_in_english(tmp_path: Path) -> None:
    bad = tmp_path / "bad.text.js"
    bad.write_text(
        "// words\nexport default {\n"
        '  zh: { a: "甲", "b": "乙;" + "丙" },\n  en: { a: "A" },\n};\n'
    )
    assert dict(read(bad)["zh"]) == {"a": "甲", "b": "乙;丙"}
    with pytest.raises(AssertionError, match="only in zh"):
        test_chinese_and_english_have_the_same_keys(bad)
