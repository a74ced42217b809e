"""Runbooks: the shipped handbook runbooks, the model, binding, line-numbered errors, the CLI."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from console.cli import runbooks as runbook_cli
from console.runbook.errors import BindError, Problem, RunbookError
from console.runbook.field_types import format_duration, parse_duration
from console.runbook.loading import builtin_dir, load_all, load_dir, load_runbook, parse_runbook
from console.runbook.schema import Runbook, ShellStep
from console.runbook.schema_actions import ScaleStep, UndoStep
from console.runbook.schema_checks import GateCondition
from console.runbook.schema_db import DbBackupStep, DbMigrateStep, DbRestoreStep
from console.runbook.schema_steps import GateStep, VerifyStep
from console.runbook.templates import substitute, template_variables

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {
    "production-bug", "migration-failed", "performance-degradation", "data-loss",
    "security-breach", "pre-rollback", "during-rollback", "post-rollback", "follow-up",
    "before-deployment", "during-deployment", "after-deployment", "canary-failing",
}
BUILTINS = {"deployment": "api", "namespace": "shop", "previous_revision": "3"}

VALID = """\
title: Everything
summary: every step type
source: tests
kind: procedure
on_abort: always
variables:
  database: The database
  base_url:
    description: where the service answers
    default: "http://{deployment}.{namespace}.svc"
steps:
  - id: look
    title: Look around
    type: manual
    items: [a, b]
    command: psql {database}
  - id: scale-up
    title: Scale up
    type: scale
    by: 2
    verify:
      checks:
        - name: health
          url: "{base_url}/healthz"
          expect_status: [200, 204]
          json_path: status
          json_equals: ok
      gates:
        - query: up{namespace="{namespace}"}
          op: ">="
          threshold: 1
      deadline: 2m
      interval: 5s
    undo:
      type: scale
      by: -2
  - id: restart
    title: Restart
    type: restart
    deployment: worker
  - id: undo
    title: Undo
    type: undo
    to_revision: "{previous_revision}"
  - id: check
    title: Check
    type: verify
    checks:
      - name: home
        url: "{base_url}/"
        latency_budget_ms: 500
        retries: 2
  - id: gate
    title: Errors low
    type: gate
    query: 'sum(rate(x{namespace="{namespace}",code=~"5.."}[1m]))'
    op: "<"
    threshold: 0.01
    for: 2m
    timeout: 10m
  - id: backup
    title: Backup
    type: shell
    command: ["pg_dump", "--file=out.sql", "{database}"]
    timeout: 1h
  - id: restore
    title: Restore
    type: shell
    shell: true
    command: pg_restore -d {database} < out.sql
    requires: [backup]
    expected_exit: 0
    cwd: /tmp
  - id: pause
    title: Wait a bit
    type: wait
    duration: 30s
    optional: true
    when: if things look calm
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(text: str, file: str = "x.yaml") -> list[Problem]:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(textwrap.dedent(text), file=file, default_id="x")
    assert caught.value.problems
    return caught.value.problems


def messages_of(text: str) -> str:
    return "\n".join(str(problem) for problem in problems_of(text))


def examples(runbook: Runbook) -> dict[str, str]:
    """Values for every variable without a default (its example, or something plausible)."""
    values = dict(BUILTINS)
    for name, spec in runbook.inputs():
        if name not in values and spec.default is None:
            values[name] = spec.example or "value"
    return values


# ---- the shipped runbooks --------------------------------------------------------------------


def test_builtin_dir_is_the_repository_folder() -> None:
    assert builtin_dir() == ROOT / "runbooks"
    assert (builtin_dir() / "production-bug.yaml").is_file()


def test_every_shipped_runbook_loads_and_validates() -> None:
    runbooks, problems = load_dir(builtin_dir())
    assert problems == []
    assert {runbook.id for runbook in runbooks} == SHIPPED
    for runbook in runbooks:
        assert runbook.source, runbook.id
        assert runbook.path is not None and runbook.path.stem == runbook.id
        if runbook.kind == "procedure":
            assert all(step.explain for step in runbook.steps), runbook.id
        else:
            assert not any(step.is_mutating for step in runbook.steps)


def test_shipped_runbooks_bind_and_their_promql_parses() -> None:
    from drill.promql_parser import parse

    runbooks, _ = load_all()
    for runbook in runbooks:
        bound = runbook.bind(examples(runbook))
        for step in bound.steps:
            queries = [step.query] if isinstance(step, GateStep) else []
            verification = getattr(step, "verify", None)
            queries += [gate.query for gate in verification.gates] if verification else []
            for query in queries:
                parse(query)  # raises PromQLError on a malformed query
        texts = [step.title + step.explain for step in bound.steps]
        assert not any(template_variables(text) for text in texts), runbook.id


def test_drill_scenarios_name_shipped_runbooks() -> None:
    from drill.scenarios import SCENARIOS

    for cls in SCENARIOS.values():
        assert cls.runbook is None or cls.runbook in SHIPPED


def _shipped(runbook_id: str) -> Runbook:
    return load_runbook(builtin_dir() / f"{runbook_id}.yaml")


@pytest.mark.parametrize(("runbook_id", "titles"), [
    ("pre-rollback", ["Severity assessed (critical, high, medium)", "Team notified",
                      "Incident documented", "Rollback decision made",
                      "Backup of current state taken (if applicable)"]),
    ("during-rollback", ["Users notified of maintenance (if needed)", "Previous version identified",
                         "Rollback executed", "Database rolled back (if needed)",
                         "Services restarted"]),
    ("post-rollback", ["Application responds correctly", "Critical paths tested",
                       "Error rates normal", "Users can access service",
                       "Monitoring confirms stability"]),
    ("follow-up", ["Root cause identified", "Fix implemented and tested",
                   "Prevention measures added", "Post-mortem documented",
                   "Team notified of resolution"]),
    ("before-deployment", ["Comprehensive testing (unit, integration, E2E)",
                           "Staging environment tests", "Database migration dry-run",
                           "Performance testing", "Security scanning", "Rollback plan documented"]),
    ("during-deployment", ["Deploy in off-peak hours", "Gradual rollout (canary/blue-green)",
                           "Team monitoring deployment", "Health checks passing",
                           "Quick rollback procedure ready"]),
    ("after-deployment", ["Monitor error rates", "Monitor performance metrics",
                          "Check user feedback", "Run smoke tests",
                          "Keep previous version available"]),
])
def test_checklists_list_the_handbook_items_verbatim(runbook_id: str, titles: list[str]) -> None:
    runbook = _shipped(runbook_id)
    assert runbook.kind == "checklist"
    assert [step.title for step in runbook.steps] == titles


def test_post_rollback_error_rates_is_a_gate() -> None:
    gate = _shipped("post-rollback").step("error-rates-normal")
    assert isinstance(gate, GateStep)
    assert (gate.op, gate.threshold, gate.for_s) == ("<", 0.01, 120.0)


def test_production_bug_follows_procedure_1() -> None:
    runbook = _shipped("production-bug")
    ids = [step.id for step in runbook.steps]
    assert ids[:3] == ["assess-severity", "communicate", "decide"]
    assert ids[-1] == "post-mortem"
    assert runbook.step("communicate").items == [  # type: ignore[union-attr]
        "Notify team", "Create incident channel", "Update status page"]
    rollback = runbook.step("rollback")
    assert isinstance(rollback, UndoStep) and rollback.verify is not None
    gate = runbook.step("monitor-error-rates")
    assert isinstance(gate, GateStep)
    assert (gate.op, gate.threshold, gate.for_s) == ("<", 0.01, 120.0)
    assert isinstance(runbook.step("check-critical-paths"), VerifyStep)


def test_migration_failed_rolls_back_migration_and_code() -> None:
    runbook = _shipped("migration-failed")
    down = runbook.step("rollback-migration")
    assert isinstance(down, DbMigrateStep) and down.direction == "down"
    assert "npm run migrate:down" in down.explain  # other tools: by hand
    assert "backup-current" in down.requires
    assert isinstance(runbook.step("backup-current"), DbBackupStep)
    assert isinstance(runbook.step("deploy-previous-version"), UndoStep)
    assert "git revert <migration-commit>" in (
        runbook.step("revert-migration-commit").command or "")  # type: ignore[union-attr]


def test_data_loss_takes_a_backup_before_restoring() -> None:
    runbook = _shipped("data-loss")
    stop = runbook.step("stop-writes")
    assert isinstance(stop, ScaleStep) and stop.replicas == 0 and stop.confirm
    restore = runbook.step("restore")
    assert isinstance(restore, DbRestoreStep) and restore.writers == ["{writer}"]
    assert restore.current_backup == "{corrupted_state_file}"
    assert "mongorestore" in restore.explain  # other engines: by hand
    assert {"backup-current", "stop-writes"} <= set(restore.requires)
    assert runbook.index("backup-current") < runbook.index("restore")
    assert runbook.on_abort == "never"
    bound = runbook.bind(examples(runbook) | {"database": "myapp_production"})
    backup = bound.step("backup-current")
    assert isinstance(backup, DbBackupStep)
    assert (backup.file, backup.database) == ("corrupted_state.dump", "myapp_production")


def test_performance_degradation_scales_up_then_rolls_back() -> None:
    runbook = _shipped("performance-degradation")
    bound = runbook.bind(BUILTINS)
    scale = bound.step("scale-up")
    assert isinstance(scale, ScaleStep) and scale.by == 2
    assert scale.target_replicas(3) == 5
    assert isinstance(bound.step("rollback"), UndoStep)
    assert bound.step("rollback").when


def test_security_breach_rotates_all_secrets() -> None:
    runbook = _shipped("security-breach")
    assert "Rotate ALL secrets" in runbook.step("rotate-secrets").title
    assert runbook.step("restart-with-new-secrets").requires == ["rotate-secrets"]


# ---- the model -----------------------------------------------------------------------------


def test_valid_runbook_model_for_the_engine() -> None:
    runbook = parse_runbook(VALID, default_id="everything")
    assert runbook.id == "everything" and runbook.on_abort == "always"
    kinds = [(step.kind, step.is_mutating, step.needs_confirmation) for step in runbook.steps]
    assert kinds == [
        ("manual", False, False), ("scale", True, True), ("restart", True, True),
        ("undo", True, True), ("verify", False, False), ("gate", False, False),
        ("shell", True, True), ("shell", True, True), ("wait", False, False)]
    scale = runbook.step("scale-up")
    assert isinstance(scale, ScaleStep)
    assert scale.verify is not None and scale.verify.deadline_s == 120.0
    assert scale.undo is not None and scale.undo.type == "scale"
    assert scale.target_replicas(1) == 3
    assert runbook.step("restart").describe() == "restart {namespace}/worker"
    assert runbook.step("pause").optional and runbook.step("pause").when == "if things look calm"
    backup = runbook.step("backup")
    assert isinstance(backup, ShellStep) and backup.timeout_s == 3600.0
    restore = runbook.step("restore")
    assert isinstance(restore, ShellStep) and restore.argv is None and restore.shell


def test_confirm_can_be_set_explicitly() -> None:
    text = VALID.replace("    type: restart\n", "    type: restart\n    confirm: false\n")
    assert not parse_runbook(text, default_id="x").step("restart").needs_confirmation
    text = VALID.replace("    type: manual\n", "    type: manual\n    confirm: true\n")
    assert parse_runbook(text, default_id="x").step("look").needs_confirmation


def test_command_string_is_split_into_argv() -> None:
    text = VALID.replace('command: ["pg_dump", "--file=out.sql", "{database}"]',
                         "command: pg_dump --file='my file.sql' {database}")
    step = parse_runbook(text, default_id="x").step("backup")
    assert isinstance(step, ShellStep)
    assert step.argv == ["pg_dump", "--file=my file.sql", "{database}"]


def test_gate_semantics_unknown_is_never_a_pass() -> None:
    gate = GateCondition.model_validate({"query": "q", "op": "<", "threshold": 0.01})
    assert gate.evaluate([0.001, 0.002]) == "pass"
    assert gate.evaluate([0.001, 0.5]) == "fail"
    assert gate.evaluate([]) == "unknown"
    assert gate.evaluate(None) == "unknown"
    assert gate.evaluate([math.nan]) == "unknown"
    assert gate.evaluate([0.001, math.nan]) == "unknown"
    for op, value, outcome in ((">", 0.001, "fail"), (">=", 0.01, "pass"), ("<=", 0.01, "pass")):
        condition = GateCondition.model_validate({"query": "q", "op": op, "threshold": 0.01})
        assert condition.evaluate([value]) == outcome


def test_verification_judges_a_round_with_tolerance() -> None:
    runbook = parse_runbook(VALID, default_id="x")
    verification = runbook.step("scale-up").verify  # type: ignore[union-attr]
    assert verification.judge([True], ["pass"]) == "pass"
    assert verification.judge([False], ["pass"]) == "fail"
    assert verification.judge([True], ["unknown"]) == "unknown"
    assert verification.judge([True], ["fail"]) == "fail"
    step = runbook.step("check")
    assert isinstance(step, VerifyStep) and step.tolerance == 0


def test_http_check_gives_probe_arguments() -> None:
    runbook = parse_runbook(VALID, default_id="x").bind(BUILTINS | {"database": "db"})
    check = runbook.step("scale-up").verify.checks[0]  # type: ignore[union-attr]
    kwargs = check.probe_kwargs()
    assert kwargs["url"] == "http://api.shop.svc/healthz"
    assert kwargs["expect_status"] == (200, 204) and kwargs["json_equals"] == "ok"
    home = runbook.step("check").checks[0]  # type: ignore[union-attr]
    assert "json_equals" not in home.probe_kwargs()
    assert home.probe_kwargs()["expect_status"] == 200


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("2m", 120), ("1h30m", 5400), ("500ms", 0.5), (45, 45), (1.5, 1.5), ("0", 0),
    ("1d", 86400)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["-1m", -5, "2x", "", "m", True, None, "1.5m", "31d"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (120, 5400, 0.5, 0, 1.5)] == [
        "2m", "1h30m", "500ms", "0s", "1.5s"]


def test_runbook_built_in_code_is_checked_too() -> None:
    data: dict[str, Any] = yaml.safe_load(VALID) | {"id": "x"}
    data["steps"][7]["requires"] = ["nope"]
    with pytest.raises(ValidationError, match="unknown step 'nope'"):
        Runbook.model_validate(data)


# ---- variables -----------------------------------------------------------------------------


def test_template_syntax() -> None:
    text = 'x{namespace="{namespace}"} {{literal}} ${HOME} {deployment}'
    assert template_variables(text) == ["namespace", "deployment"]
    assert substitute(text, {"namespace": "shop", "deployment": "api"}) == (
        'x{namespace="shop"} {literal} ${HOME} api')
    assert substitute("run {x}", {"x": "a b; rm -rf /"}, quote=True) == "run 'a b; rm -rf /'"


def test_bind_substitutes_every_string() -> None:
    runbook = parse_runbook(VALID, default_id="x")
    bound = runbook.bind(BUILTINS | {"database": "my db", "unused": "ignored"})
    assert bound.values == {"database": "my db", "deployment": "api", "namespace": "shop",
                            "base_url": "http://api.shop.svc", "previous_revision": "3"}
    assert bound.step("look").command == "psql my db"  # type: ignore[union-attr]
    scale = bound.step("scale-up")
    assert isinstance(scale, ScaleStep) and scale.target == "shop/api"
    assert scale.undo is not None and scale.undo.deployment == "api"
    assert scale.verify.gates[0].query == 'up{namespace="shop"}'  # type: ignore[union-attr]
    assert bound.step("restart").describe() == "restart shop/worker"
    undo = bound.step("undo")
    assert isinstance(undo, UndoStep) and undo.to_revision == 3
    assert bound.step("gate").query == (  # type: ignore[union-attr]
        'sum(rate(x{namespace="shop",code=~"5.."}[1m]))')
    assert bound.step("backup").argv == ["pg_dump", "--file=out.sql", "my db"]  # type: ignore
    assert bound.step("restore").command == "pg_restore -d 'my db' < out.sql"  # type: ignore
    assert runbook.step("look").command == "psql {database}"  # type: ignore[union-attr]
    assert bound.path == runbook.path


def test_bind_names_each_missing_variable() -> None:
    runbook = parse_runbook(VALID, default_id="x")
    with pytest.raises(BindError) as caught:
        runbook.bind({"deployment": "api", "database": "  "})
    message = caught.value.message
    assert "namespace (its namespace)" in message
    assert "database (The database)" in message
    assert "previous_revision" in message
    assert "base_url (its default 'http://{deployment}.{namespace}.svc' needs namespace)" in message


def test_bind_checks_the_bound_values() -> None:
    runbook = parse_runbook(VALID, default_id="x")
    with pytest.raises(BindError) as caught:
        runbook.bind(BUILTINS | {"database": "db", "deployment": "Bad_Name",
                                 "previous_revision": "latest"})
    message = caught.value.message
    assert "steps[1].deployment: 'Bad_Name' is not a valid deployment name" in message
    assert "steps[3].to_revision: must be a whole number or a single {variable}, not 'latest'" in (
        message)


def test_builtin_variables_in_defaults_are_inputs() -> None:
    runbook = _shipped("data-loss")
    names = [name for name, _ in runbook.inputs()]
    assert "writer" in names and "deployment" in names
    bound = runbook.bind(examples(runbook))
    assert bound.step("stop-writes").deployment == "api"  # type: ignore[union-attr]


# ---- line-numbered errors ------------------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column() -> None:
    (problem,) = problems_of("title: x\nsteps:\n  - id: a\n    title: [unclosed\n")
    assert problem.line is not None and problem.column is not None
    assert str(problem).startswith(f"x.yaml:{problem.line}:{problem.column}: YAML syntax error")


def test_unquoted_block_indicator_gets_a_hint() -> None:
    assert 'must be quoted, e.g. op: ">="' in messages_of("title: a\nop: >=\n")


def test_empty_and_non_mapping_documents() -> None:
    assert "the file is empty" in messages_of("# only a comment\n")
    assert messages_of("- a\n- b\n") == (
        "x.yaml:1: a runbook must be a mapping (key: value) at the top level, not a list")
    assert "not 'just text'" in messages_of("just text\n")


def test_wrong_step_type_lists_the_types_with_a_suggestion() -> None:
    text = VALID.replace("    type: restart\n", "    type: restrat\n")
    line = text.splitlines().index("    type: restrat") + 1
    assert messages_of(text) == (
        f"x.yaml:{line}: steps[2].type: must be one of manual, scale, restart, undo, pause, "
        "resume, verify, gate, shell, wait, db-backup, db-restore, db-migrate, sql-gate, not "
        "'restrat' (did you mean 'restart'?)")


def test_missing_type_and_missing_fields() -> None:
    text = VALID.replace("    type: restart\n", "")
    assert "steps[2].type: is required: one of manual, scale" in messages_of(text)
    text = VALID.replace("    title: Errors low\n", "")
    line = text.splitlines().index("  - id: gate") + 1
    assert f"x.yaml:{line}: steps[5].title: is required" in messages_of(text)


def test_unknown_key_suggests_a_close_match() -> None:
    text = VALID.replace("    deployment: worker\n", "    deploymnet: worker\n")
    line = text.splitlines().index("    deploymnet: worker") + 1
    message = messages_of(text)
    assert message.startswith(
        f"x.yaml:{line}: steps[2].deploymnet: unknown key 'deploymnet' "
        "(did you mean 'deployment'?); known keys: ")
    top = messages_of("titel: x\n" + VALID)
    assert "x.yaml:1: titel: unknown key 'titel' (did you mean 'title'?)" in top


def test_nested_errors_point_at_their_line() -> None:
    text = VALID.replace("          expect_status: [200, 204]", "          expect_status: 999")
    line = text.splitlines().index("          expect_status: 999") + 1
    assert messages_of(text) == (
        f"x.yaml:{line}: steps[1].verify.checks[0].expect_status: must be an HTTP status code "
        "(100-599) or a list of them, not the number 999")
    text = VALID.replace("      by: -2", "      by: lots")
    line = text.splitlines().index("      by: lots") + 1
    assert f"x.yaml:{line}: steps[1].undo.by: must be a whole number" in messages_of(text)


def test_negative_and_malformed_durations() -> None:
    text = VALID.replace("    duration: 30s", "    duration: -30s")
    line = text.splitlines().index("    duration: -30s") + 1
    assert messages_of(text) == f"x.yaml:{line}: steps[8].duration: must not be negative, not '-30s'"
    text = VALID.replace("      deadline: 2m", "      deadline: soon")
    assert "steps[1].verify.deadline: must be a duration such as 90s, 2m or 1h30m, not 'soon'" in (
        messages_of(text))
    text = VALID.replace("    duration: 30s", "    duration: 0s")
    assert "steps[8].duration: must be longer than zero" in messages_of(text)


def test_duplicate_step_ids() -> None:
    text = VALID.replace("  - id: restart\n", "  - id: look\n")
    line = text.splitlines().index("  - id: look", 20) + 1
    assert messages_of(text) == (
        f"x.yaml:{line}: steps[2].id: duplicate step id 'look', first used by steps[0]")


def test_requires_must_name_earlier_steps() -> None:
    text = VALID.replace("    requires: [backup]", "    requires: [pause, nope, restore, backpu]")
    line = text.splitlines().index("    requires: [pause, nope, restore, backpu]") + 1
    assert messages_of(text).splitlines() == [
        f"x.yaml:{line}: steps[7].requires[0]: step 'pause' comes later (steps[8]); requires "
        "must name earlier steps",
        f"x.yaml:{line}: steps[7].requires[1]: unknown step 'nope'",
        f"x.yaml:{line}: steps[7].requires[2]: a step cannot require itself",
        f"x.yaml:{line}: steps[7].requires[3]: unknown step 'backpu' (did you mean 'backup'?)",
    ]


def test_unknown_variable_is_named() -> None:
    text = VALID.replace("    command: psql {database}", "    command: psql {databse}")
    line = text.splitlines().index("    command: psql {databse}") + 1
    assert messages_of(text) == (
        f"x.yaml:{line}: steps[0].command: unknown variable {{databse}} (did you mean "
        "{database}?); declare it under variables: or use {deployment}, {namespace}, "
        "{previous_revision}")


def test_defaults_may_only_use_builtins() -> None:
    text = VALID.replace('default: "http://{deployment}.{namespace}.svc"',
                         'default: "http://{database}"')
    assert "variables.base_url.default: a default may only use {deployment}" in messages_of(text)


def test_bad_variable_name() -> None:
    text = VALID.replace("  database: The database", "  data-base: The database")
    line = text.splitlines().index("  data-base: The database") + 1
    assert f"x.yaml:{line}: variables['data-base']: 'data-base' is not a variable name" in (
        messages_of(text))


def test_duplicate_yaml_keys() -> None:
    text = VALID.replace("    title: Restart\n", "    title: Restart\n    title: Again\n")
    line = text.splitlines().index("    title: Again") + 1
    assert messages_of(text) == (
        f"x.yaml:{line}:5: duplicate key 'title' (first at line {line - 1})")


def test_wrong_value_types() -> None:
    assert "on_abort: must be one of always, never, ask, not false (YAML reads unquoted" in (
        messages_of(VALID.replace("on_abort: always", "on_abort: no")))
    assert "steps[0].title: must be a string, not a mapping (YAML reads a value starting" in (
        messages_of(VALID.replace("    title: Look around", "    title: {x}")))
    assert "steps[5].threshold: must be a number, not 'low'" in (
        messages_of(VALID.replace("    threshold: 0.01", "    threshold: low")))
    assert "steps[8].optional: must be true or false, not 'maybe'" in (
        messages_of(VALID.replace("    optional: true", "    optional: maybe")))
    assert "steps: must be a list, not 'none'" in messages_of(
        "title: t\nkind: procedure\nsteps: none\n")
    assert "steps: must have at least 1 item(s)" in messages_of(
        "title: t\nkind: procedure\nsteps: []\n")


def test_step_level_rules() -> None:
    text = VALID.replace("    by: 2\n", "    by: 2\n    replicas: 3\n")
    assert "steps[1]: give either replicas: (a count) or by:" in messages_of(text)
    text = VALID.replace('command: ["pg_dump", "--file=out.sql", "{database}"]',
                         "command: pg_dump {database} > out.sql")
    assert "steps[6].command: uses shell syntax ('>') but shell: true is not set" in (
        messages_of(text))
    text = VALID.replace("    timeout: 10m\n", "    timeout: 1m\n")
    assert "steps[5]: timeout (1m) is shorter than for (2m)" in messages_of(text)
    text = VALID.replace("    op: \"<\"", "    op: '=='")
    assert "steps[5].op: must be one of <, <=, >, >=, not '=='" in messages_of(text)


def test_checklists_cannot_mutate() -> None:
    text = VALID.replace("kind: procedure", "kind: checklist")
    message = messages_of(text)
    assert "steps[1].type: a checklist cannot have a scale step" in message
    assert "steps[2].type: a checklist cannot have a restart step" in message


def test_invalid_id_from_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "My Runbook.yaml", VALID)
    with pytest.raises(RunbookError) as caught:
        load_runbook(path)
    assert "id: must be letters, digits" in caught.value.message
    assert "(taken from the file name; rename the file or set id:)" in caught.value.message
    assert load_runbook(write(tmp_path, "Other One.yaml", "id: other\n" + VALID)).id == "other"


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="cannot read"):
        load_runbook(tmp_path / "missing.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"title: x\nsummary: caf\xe9\n")
    with pytest.raises(RunbookError, match=r"latin1.yaml:2: not UTF-8 text"):
        load_runbook(bad)


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    assert "too large" in messages_of("\n".join(lines) + "\n")


def test_deep_nesting_is_refused() -> None:
    assert "nested" in messages_of("title: " + "[" * 200 + "]" * 200 + "\n")
    assert "nested" in messages_of("title: " + "[" * 5000 + "\n")


# ---- loading many --------------------------------------------------------------------------


def test_a_broken_user_runbook_never_hides_the_others(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", VALID)
    write(tmp_path, "broken.yaml", VALID.replace("    type: restart\n", "    type: rstart\n"))
    write(tmp_path, "syntax.yaml", "title: [\n")
    write(tmp_path, "notes.txt", "not a runbook")
    runbooks, problems = load_all([tmp_path])
    ids = {runbook.id for runbook in runbooks}
    assert "good" in ids and SHIPPED <= ids
    assert sorted(Path(p.file).name for p in problems) == ["broken.yaml", "syntax.yaml"]
    assert all(problem.line for problem in problems)


def test_user_runbook_replaces_builtin_and_duplicates_are_problems(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    write(first, "production-bug.yaml", VALID)
    write(second, "mine.yaml", "id: production-bug\n" + VALID)
    runbooks, problems = load_all([first, second])
    chosen = {runbook.id: runbook for runbook in runbooks}["production-bug"]
    assert chosen.path == first / "production-bug.yaml"
    assert len(problems) == 1 and "already used by" in problems[0].message


def test_missing_user_dir_is_a_problem(tmp_path: Path) -> None:
    runbooks, problems = load_all([tmp_path / "nope"], builtin=False)
    assert runbooks == [] and len(problems) == 1 and "cannot list runbooks" in str(problems[0])


# ---- CLI -----------------------------------------------------------------------------------


def test_check_prints_ok_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "good.yaml", VALID)
    assert runbook_cli.main(["runbooks", "check", str(path)]) == 0
    assert capsys.readouterr().out == f"ok: {path} (9 steps)\n"


def test_check_prints_line_numbered_errors_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.yaml", VALID)
    bad = write(tmp_path, "bad.yaml", VALID.replace("    type: restart\n", "    type: rstart\n"))
    assert runbook_cli.main(["runbooks", "check", str(good), str(bad),
                             str(tmp_path / "missing.yaml")]) == 1
    out, err = capsys.readouterr()
    assert out == f"ok: {good} (9 steps)\n"
    line = VALID.splitlines().index("    type: restart") + 1
    assert f"{bad}:{line}: steps[2].type: must be one of manual, scale" in err
    assert f"{tmp_path / 'missing.yaml'}: cannot read" in err
    assert "2 problem(s) in 2 file(s)" in err


def test_check_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runbook_cli.main(["runbooks", "check", str(builtin_dir())]) == 0
    assert capsys.readouterr().out.count("ok: ") == len(SHIPPED)
    assert runbook_cli.main(["runbooks", "check", str(tmp_path)]) == 1


def test_list_prints_a_table_then_problems(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runbook_cli.main(["runbooks", "list"]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "KIND", "STEPS", "TITLE"]
    assert len(rows) == len(SHIPPED)
    assert any(row.split()[:3] == ["production-bug", "procedure", "10"] for row in rows)
    write(tmp_path, "broken.yaml", "title: x\nkind: procedure\nsteps: []\n")
    write(tmp_path, "mine.yaml", VALID)
    assert runbook_cli.main(["runbooks", "list", "--dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert any(line.startswith("mine ") for line in out.splitlines())
    assert f"{tmp_path / 'broken.yaml'}:3: steps: must have at least 1 item(s)" in err


def test_cli_as_a_module() -> None:
    ok = subprocess.run([sys.executable, "-m", "console.cli.runbooks", "runbooks", "check",
                         "runbooks/data-loss.yaml"], capture_output=True, text=True, cwd=ROOT,
                        timeout=60)
    assert ok.returncode == 0 and ok.stdout == "ok: runbooks/data-loss.yaml (9 steps)\n"
    usage = subprocess.run([sys.executable, "-m", "console.cli.runbooks", "runbooks", "check"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


# ---- fuzzing: the loader never crashes -----------------------------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("abc:-_ \n\t[]{}'\"#&*!|>%@`,?0123.~\\\x00é")),
                  max_size=200)


def _assert_loads_or_explains(text: str) -> None:
    try:
        runbook = parse_runbook(text, file="fuzz.yaml", default_id="fuzz")
    except RunbookError as exc:
        assert exc.problems and all(problem.message for problem in exc.problems)
        return
    try:
        runbook.bind(BUILTINS | {"database": "db"})
    except BindError as exc:
        assert exc.problems


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_fuzz_random_yamlish_text(text: str) -> None:
    _assert_loads_or_explains(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    _assert_loads_or_explains(text)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["manual", "scale", "gate", "{deployment}", "{nope}", "2m", "-1s", "<",
                     "{{x}}", "${HOME}", "a > b", "'", "http://x", "{previous_revision}"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none()),
                    inner, max_size=3)),
    max_leaves=8)
BASE: dict[str, Any] = yaml.safe_load(VALID)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


@st.composite
def mutated_runbooks(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths[1:]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = draw(st.sampled_from(["drop", "replace", "rename", "add", "duplicate"]))
        if action == "drop":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(VALUES)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(st.text(max_size=10), st.integers(), st.none()))] = (
                parent.pop(key))
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["confirm", "requires", "verify", "undo", "when", "op",
                                         "to_revision", "by", "zzz", "shell", "for"]))] = (
                draw(VALUES))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_runbooks())
def test_fuzz_mutated_runbooks_load_or_give_line_numbered_problems(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        runbook = parse_runbook(text, file="fuzz.yaml", default_id="fuzz")
    except RunbookError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message and problem.line is not None, problem
        return
    try:
        runbook.bind(BUILTINS | {"database": "db"})
    except BindError as exc:
        assert exc.problems and all(problem.message for problem in exc.problems)
