"""`zhiyuan admin create` takes the password from a hidden prompt or the
first line of standard input; the --password flag still works but warns that
ps and the shell history show it."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator

import pytest

from services.cli.admin import read_password


def flags(password: str | None = None, stdin: bool = False) -> argparse.Namespace:
    return argparse.Namespace(password=password, password_stdin=stdin)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_password_stdin_reads_the_first_line_only(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("first-line-pw\r\nsecond\n"))
    assert read_password(flags(stdin=True)) == "first-line-pw"
    assert capsys.readouterr().err == ""


def test_the_password_flag_is_deprecated_with_a_warning(capsys) -> None:  # type: ignore[no-untyped-def]
    assert read_password(flags(password="long-enough-pw")) == "long-enough-pw"
    err = capsys.readouterr().err
    assert "deprecated" in err and "--password-stdin" in err
    assert "long-enough-pw" not in err


def test_without_a_terminal_it_names_password_stdin(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit, match="--password-stdin"):
        read_password(flags())


def answers(*typed: str) -> Iterator[str]:
    yield from typed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(("same-password", "same-password"), "same-password"),
     (("one-password", "other-password"), None)],
)  # fmt: skip
def test_on_a_terminal_it_asks_twice_without_echo(
    monkeypatch, typed: tuple[str, str], expected: str | None
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", Terminal())
    prompts: list[str] = []
    replies = answers(*typed)

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr("getpass.getpass", getpass)
    if expected is None:
        with pytest.raises(SystemExit, match="differ"):
            read_password(flags())
    else:
        assert read_password(flags()) == expected
    assert len(prompts) == 2
