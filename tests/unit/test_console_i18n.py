"""The console's dictionaries (console/text.js, fields.text.js and
pages/*.text.js) give every key in both Chinese and English, with no key
given twice and no Chinese text empty.

The files are read as JavaScript source, not run: each is one call
``window.zy.dictionary("<prefix>", { zh: {...}, en: {...} })`` whose objects
map keys (names or quoted strings) to string literals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CONSOLE = Path(__file__).parents[2] / "services" / "gateway" / "console"
FILES = sorted(
    [
        CONSOLE / "text.js",
        *CONSOLE.glob("*.text.js"),
        *(CONSOLE / "pages").glob("*.text.js"),
    ]
)
TOKEN = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/
    |(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\$])*`)
    |(?P<name>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)
    |(?P<punct>[{}():,+;])""",
    re.S | re.X,
)


def tokens(source: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(source):
        m = TOKEN.match(source, at)
        if m is None:
            raise AssertionError(f"unexpected {source[at : at + 30]!r}")
        at = m.end()
        kind = m.lastgroup
        if kind:
            out.append((kind, m.group(kind)))
    return out


class Parser:
    def __init__(self, source: str):
        self.toks, self.i = tokens(source), 0

    def take(self, kind: str, value: str | None = None) -> str:
        got_kind, got = self.toks[self.i]
        assert got_kind == kind and (value is None or got == value), (
            f"expected {value or kind}, got {got!r} at token {self.i}"
        )
        self.i += 1
        return got

    def peek(self) -> str:
        return self.toks[self.i][1]

    def text(self) -> str:
        """A string literal, or literals joined with +."""
        parts = [self.take("string")[1:-1]]
        while self.peek() == "+":
            self.take("punct", "+")
            parts.append(self.take("string")[1:-1])
        return "".join(parts)

    def languages(self) -> dict[str, list[tuple[str, str]]]:
        """``{ zh: {...}, en: {...} }`` up to and including its closing brace:
        each language's words."""
        languages = {}
        while self.peek() != "}":
            language = self.take("name")
            self.take("punct", ":")
            languages[language] = self.words()
            if self.peek() == ",":
                self.take("punct", ",")
        self.take("punct", "}")
        return languages

    def words(self) -> list[tuple[str, str]]:
        """An object of key: text pairs, in source order (repeats kept)."""
        pairs = []
        self.take("punct", "{")
        while self.peek() != "}":
            kind, key = self.toks[self.i]
            self.i += 1
            key = key[1:-1] if kind == "string" else key
            self.take("punct", ":")
            pairs.append((key, self.text()))
            if self.peek() == ",":
                self.take("punct", ",")
        self.take("punct", "}")
        return pairs

    def dictionary(self) -> tuple[str, dict[str, list[tuple[str, str]]]]:
        assert self.take("string") == '"use strict"'
        self.take("punct", ";")
        self.take("name", "window.zy.dictionary")
        self.take("punct", "(")
        prefix = self.take("string")[1:-1]
        self.take("punct", ",")
        self.take("punct", "{")
        languages = self.languages()
        self.take("punct", ")")
        self.take("punct", ";")
        assert self.i == len(self.toks), "one call per file"
        return prefix, languages


def read(path: Path) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    return Parser(path.read_text(encoding="utf-8")).dictionary()


def test_every_page_has_a_dictionary() -> None:
    names = {p.name for p in FILES}
    pages = {p.stem for p in (CONSOLE / "pages").glob("*.js")} - {p.stem for p in FILES}
    assert "text.js" in names
    for page in pages:  # projects.js, and its modules projects-form.js, ...
        assert f"{page.split('-')[0]}.text.js" in names, page


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_chinese_and_english_have_the_same_keys(path: Path) -> None:
    _, languages = read(path)
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


def test_no_key_is_given_twice_across_files_and_no_chinese_is_blank() -> None:
    seen: dict[str, str] = {}
    for path in FILES:
        prefix, languages = read(path)
        for key, _text in languages["zh"]:
            full = f"{prefix}.{key}" if prefix else key
            assert full not in seen, f"{full} in {seen.get(full)} and {path.name}"
            seen[full] = path.name
        # English may leave out a unit word after a number; Chinese never.
        blank = [k for k, v in languages["zh"] if not v.strip()]
        assert blank == [], (path.name, blank)


def test_the_parser_finds_a_key_missing_in_english(tmp_path: Path) -> None:
    bad = tmp_path / "bad.text.js"
    bad.write_text(
        '"use strict";\nwindow.zy.dictionary("x", {\n'
        '  zh: { a: "甲", "b": "乙;" + "丙" },\n  en: { a: "A" },\n});\n'
    )
    _, languages = read(bad)
    assert dict(languages["zh"]) == {"a": "甲", "b": "乙;丙"}
    with pytest.raises(AssertionError, match="only in zh"):
        test_chinese_and_english_have_the_same_keys(bad)
