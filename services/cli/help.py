"""One shape for every ``zhiyuan`` subcommand's ``--help``: what it does in
English and Chinese, then examples, laid out as written.

Example::

    p = command(
        sub, "rollup", "export a rollup as CSV / 导出统计",
        en="Export a service's rollup ...", zh="导出某项服务的统计 ...",
        examples=["zhiyuan rollup hours --division 6101"],
    )
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

WIDTH = 78
# An ASCII word (never split), a run of spaces, or any one other character.
_TOKEN = re.compile(r"[\x21-\x7e]+|\s+|.")


def columns(text: str) -> int:
    """Terminal columns of ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fill(text: str, width: int = WIDTH) -> str:
    """Wrap English and Chinese alike: lines of at most ``width`` columns,
    broken between words or between Chinese characters (textwrap counts
    characters, not columns, and splits option names at their hyphens)."""
    lines, line = [], ""
    for token in _TOKEN.findall(" ".join(text.split())):
        if columns(line + token) > width and line.strip():
            lines.append(line.rstrip())
            line = "" if token.isspace() else token
        else:
            line += token
    lines.append(line.rstrip())
    return "\n".join(lines)


def describe(en: str, zh: str, examples: Sequence[str]) -> dict[str, Any]:
    """The add_parser arguments for a description and its examples."""
    shown = "\n".join(f"  {example}" for example in examples)
    text = f"{fill(en)}\n\n{fill(zh)}"
    return {
        "description": text,
        "epilog": f"examples / 示例:\n{shown}",
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


def command(
    sub: Any,
    name: str,
    help: str,  # noqa: A002 - argparse's own name
    *,
    en: str,
    zh: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    """``sub.add_parser(name)`` with a one-line ``help`` for the list, and a
    description in both languages and examples for its own ``--help``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, **describe(en, zh, examples)
    )
    return parser
