"""Every `zhiyuan` subcommand's --help says what it does in English and
Chinese, with an example of that very command, and a word on every argument
it takes."""

from __future__ import annotations

import argparse
import re

import pytest

from services import cli
from services.cli.root import build_parser

CJK = re.compile(r"[\u4e00-\u9fff]")


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(words after `zhiyuan`, parser) of every subcommand, nested ones too."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(((*path, name), sub))
                found += commands(sub, (*path, name))
    return found


ALL = commands(build_parser())


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"rollup", "certificate verify", "admin create", "up", "dlq purge",
            "stars rerate", "import", "hours pending"} <= names  # fmt: skip
    assert len(names) >= 25


@pytest.mark.parametrize(("path", "sub"), ALL, ids=[" ".join(path) for path, _ in ALL])
def test_help_describes_the_command_with_an_example(
    path: tuple[str, ...], sub: argparse.ArgumentParser, capsys
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        cli.main([*path, "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    description = sub.description or ""
    english = re.sub(r"\s+", " ", CJK.split(description)[0])
    assert len(re.findall(r"[A-Za-z]+", english)) >= 8, description
    assert CJK.search(description), f"no Chinese in {path}'s description"
    assert description.splitlines()[0] in shown
    assert "示例" in shown and "example" in shown
    assert re.search(rf"^\s+zhiyuan {' '.join(path)}\b", shown, re.M), shown


@pytest.mark.parametrize(("path", "sub"), ALL, ids=[" ".join(path) for path, _ in ALL])
def test_every_argument_says_what_it_is(
    path: tuple[str, ...], sub: argparse.ArgumentParser
) -> None:
    unexplained = [
        action.dest
        for action in sub._actions
        if not isinstance(action, argparse._SubParsersAction)
        and action.help != argparse.SUPPRESS
        and not (action.help or "").strip()
    ]
    assert not unexplained, f"zhiyuan {' '.join(path)}: no help for {unexplained}"


def test_the_overview_names_every_command(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = capsys.readouterr().out
    top = {path[0] for path, _ in ALL}
    assert {name for name in top if f"zhiyuan {name}" not in shown} == set()
