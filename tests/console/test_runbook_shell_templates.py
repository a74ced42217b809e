"""Variables in shell commands: never double-quoted, never read as options."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from console.cli import runbooks as runbook_cli
from console.runbook.errors import BindError
from console.runbook.loading import parse_runbook
from console.runbook.shell_templates import quoted_variables

HEAD = """\
title: Restore
kind: procedure
variables:
  database:
    description: the database
    {spec}
steps:
  - id: restore
    title: Restore
    type: shell
"""


def _write(tmp_path: Path, spec: str, step: str) -> tuple[Path, str]:
    text = HEAD.format(spec=spec) + textwrap.indent(textwrap.dedent(step), "    ")
    path = tmp_path / "restore.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize("command", [
    'pg_restore -d "{database}" out.sql',
    "pg_restore -d '{database}' out.sql",
    'echo "restoring {database} now"',
])
def test_check_refuses_a_variable_inside_quotes_of_a_shell_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    path, text = _write(tmp_path, "example: shop", f"shell: true\ncommand: >-\n  {command}\n")
    assert runbook_cli.main(["runbooks", "check", str(path)]) == 1
    line = text.splitlines().index("    command: >-") + 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: steps[0].command: {{database}} is inside quotes" in err


def test_check_refuses_a_default_that_would_be_an_option(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, text = _write(tmp_path, "default: --clean",
                        'command: ["pg_restore", "-d", "shop", "{database}"]\n')
    assert runbook_cli.main(["runbooks", "check", str(path)]) == 1
    line = text.splitlines().index('    command: ["pg_restore", "-d", "shop", "{database}"]') + 1
    err = capsys.readouterr().err
    assert (f"{path}:{line}: steps[0].command[3]: the default of {{database}} (--clean) starts "
            "with '-' and would be read as an option") in err


def test_binding_refuses_a_value_that_would_be_an_option() -> None:
    runbook = parse_runbook(HEAD.format(spec="example: shop") + textwrap.indent(
        'command: ["pg_restore", "{database}"]\n', "    "), default_id="restore")
    with pytest.raises(BindError) as caught:
        runbook.bind({"database": "--file=/etc/passwd"})
    assert "would be read as an option" in caught.value.message
    assert runbook.bind({"database": "shop"}).step("restore").argv == [  # type: ignore[union-attr]
        "pg_restore", "shop"]


def test_binding_refuses_an_option_value_in_a_shell_string_too() -> None:
    runbook = parse_runbook(HEAD.format(spec="example: shop") + textwrap.indent(
        "shell: true\ncommand: pg_restore {database} < out.sql\n", "    "), default_id="restore")
    with pytest.raises(BindError):
        runbook.bind({"database": "-x"})


def test_after_double_dash_a_dash_value_is_an_argument() -> None:
    runbook = parse_runbook(HEAD.format(spec="example: shop") + textwrap.indent(
        'command: ["rm", "--", "{database}"]\n', "    "), default_id="restore")
    assert runbook.bind({"database": "-rf"}).step("restore").argv == [  # type: ignore[union-attr]
        "rm", "--", "-rf"]


def test_quoted_variables() -> None:
    assert quoted_variables("""a "{x}" '{y}' {z} "${HOME}" "{{lit}}" \\"{w}\\" """) == [
        "x", "y"]
