"""Loading runbooks: YAML text and files (size, depth, duplicate keys, unreadable values
reported by line), folders of them, the shipped ones, and listing with problems kept apart so
one broken file never hides the others."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from console.runbook.builtin import builtin_dir
from console.runbook.errors import Problem, RunbookError
from console.runbook.field_types import kind_of
from console.runbook.problems import line_of, locate, problems_from
from console.runbook.schema import Runbook

# ---- YAML ----------------------------------------------------------------------------------

_MAX_BYTES = 1_000_000
_MAX_NODES = 100_000  # counted with aliases expanded: no "billion laughs"
_MAX_DEPTH = 40


def _check_tree(root: yaml.Node, file: str) -> None:
    """Size, depth and duplicate keys (PyYAML silently keeps the last duplicate)."""
    problems: list[Problem] = []
    checked: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > _MAX_NODES:
            raise RunbookError([Problem(file, None, f"too large: more than {_MAX_NODES} values "
                                        "(counting what anchors and aliases repeat)")])
        if depth > _MAX_DEPTH:
            raise RunbookError([Problem(file, line_of(node), f"nested more than {_MAX_DEPTH} "
                                        "levels deep")])
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                stack.append((key_node, depth + 1))
                stack.append((value_node, depth + 1))
                if id(node) in checked or not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                if key_node.value in first:
                    problems.append(Problem(
                        file, line_of(key_node),
                        f"duplicate key {key_node.value!r} (first at line "
                        f"{line_of(first[key_node.value])})",
                        column=key_node.start_mark.column + 1))
                else:
                    first[key_node.value] = key_node
            checked.add(id(node))
    if problems:
        raise RunbookError(problems)


def _yaml_problem(exc: yaml.YAMLError, file: str, text: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        if "chomping" in what:
            what += "; a value starting with > or | must be quoted, e.g. op: \">=\""
        if mark is None:
            return Problem(file, None, f"YAML error: {what}")
        return Problem(file, mark.line + 1, f"YAML syntax error: {what}", column=mark.column + 1)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        return Problem(file, line, f"YAML cannot contain the character #x{code:04x}",
                       column=column)
    return Problem(file, None, f"YAML error: {exc}")


def _unreadable_scalar(root: yaml.Node) -> yaml.ScalarNode | None:
    """The first scalar PyYAML fails to construct (it raises without saying where)."""
    constructor = yaml.SafeLoader("")
    stack = [root]
    seen: set[int] = set()
    try:
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                try:
                    constructor.construct_object(node, deep=True)
                except (ValueError, OverflowError):
                    return node
                except yaml.YAMLError:
                    continue
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, yaml.MappingNode):
                stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
    finally:
        constructor.dispose()
    return None


# libyaml's parser when PyYAML was built with it (the wheels are): the 13 runbooks parse in
# 20 ms instead of 120, at start-up, while the first lists are being read. A file it refuses
# is parsed again by PyYAML's own, whose messages (and the hints built on them) the
# runbook author gets.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _parse_yaml(text: str, file: str) -> tuple[yaml.Node, Any]:
    if _FAST_LOADER is not None:
        try:
            return _parse_with(_FAST_LOADER, text, file)
        except RunbookError:
            pass
    return _parse_with(yaml.SafeLoader, text, file)


def _parse_with(loader_class: Any, text: str, file: str) -> tuple[yaml.Node, Any]:
    root: yaml.Node | None = None
    loader: Any = None
    try:
        loader = loader_class(text)  # checks for unprintable characters
        root = loader.get_single_node()
        if root is None:
            raise RunbookError([Problem(file, None, "the file is empty; a runbook is a mapping "
                                        "with id, title, kind and steps")])
        _check_tree(root, file)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise RunbookError([_yaml_problem(exc, file, text)]) from None
    except RecursionError:
        raise RunbookError([Problem(file, None, "nested too deeply")]) from None
    except (ValueError, OverflowError) as exc:  # PyYAML: e.g. a date like 2024-02-30
        node = _unreadable_scalar(root) if root is not None else None
        what = f"{node.value!r} cannot be read: {exc}" if node else f"a value cannot be read: {exc}"
        raise RunbookError([Problem(file, line_of(node), what + " (quote it to keep it as text)",
                                    column=node.start_mark.column + 1 if node else None)]
                           ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return root, data


def parse_runbook(text: str, *, file: str = "<string>", default_id: str | None = None
                  ) -> Runbook:
    """Validate one runbook from YAML text; raises ``RunbookError`` (line-numbered problems).

    ``default_id`` (the file stem) is used when the document has no ``id:``.
    """
    root, data = _parse_yaml(text, file)
    if not isinstance(data, dict):
        raise RunbookError([Problem(file, line_of(root), "a runbook must be a mapping "
                                    f"(key: value) at the top level, not {kind_of(data)}")])
    id_from_file = default_id is not None and "id" not in data
    if id_from_file:
        data = {**data, "id": default_id}
    try:
        runbook = Runbook.model_validate(data, context={"defer_checks": True})
    except ValidationError as exc:
        raise RunbookError(problems_from(exc, file, root, model=Runbook,
                                         id_from_file=id_from_file)) from None
    problems = []
    for loc, message in runbook.check():
        located = locate(loc, root, extra_key=False, model=Runbook)
        problems.append(Problem(file, line_of(located.node), message, where=located.where))
    if problems:
        raise RunbookError(sorted(problems, key=lambda p: p.line or 0))
    return runbook


def load_runbook(path: str | Path) -> Runbook:
    """Load and validate ``path``; its id defaults to the file name without ``.yaml``."""
    path = Path(path)
    file = str(path)
    try:
        if path.is_dir():
            raise RunbookError([Problem(file, None, "is a directory, not a runbook file")])
        if path.stat().st_size > _MAX_BYTES:
            raise RunbookError([Problem(file, None, f"too large (over {_MAX_BYTES} bytes)")])
        raw = path.read_bytes()
    except OSError as exc:
        raise RunbookError([Problem(file, None, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RunbookError([Problem(file, line, "not UTF-8 text")]) from None
    runbook = parse_runbook(text, file=file, default_id=path.stem)
    runbook._path = path
    return runbook


def runbook_files(directory: Path) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files of a directory (not hidden), sorted by name."""
    return sorted(path for path in directory.iterdir()
                  if path.suffix in (".yaml", ".yml") and not path.name.startswith(".")
                  and path.is_file())


def load_dir(directory: str | Path) -> tuple[list[Runbook], list[Problem]]:
    """Every runbook in ``directory``; broken files become problems, never hide the others."""
    directory = Path(directory)
    try:
        files = runbook_files(directory)
    except OSError as exc:
        return [], [Problem(str(directory), None,
                            f"cannot list runbooks: {exc.strerror or exc}")]
    runbooks: list[Runbook] = []
    problems: list[Problem] = []
    by_id: dict[str, Runbook] = {}
    for path in files:
        try:
            runbook = load_runbook(path)
        except RunbookError as exc:
            problems.extend(exc.problems)
            continue
        except Exception as exc:  # noqa: BLE001 — a loader bug must not hide the other runbooks
            problems.append(Problem(str(path), None, f"internal error while loading: {exc!r}"))
            continue
        if runbook.id in by_id:
            problems.append(Problem(str(path), None, f"runbook id {runbook.id!r} is already "
                                    f"used by {by_id[runbook.id].path}; this file is ignored"))
            continue
        by_id[runbook.id] = runbook
        runbooks.append(runbook)
    return runbooks, problems


def load_all(user_dirs: Iterable[str | Path] = (), *, builtin: bool = True
             ) -> tuple[list[Runbook], list[Problem]]:
    """The built-in runbooks, then each user directory's, sorted by id.

    A user runbook with a built-in's id replaces it (that is how a team adapts one); two user
    runbooks with the same id are a problem and the first is kept.
    """
    problems: list[Problem] = []
    chosen: dict[str, Runbook] = {}
    if builtin:
        found, trouble = load_dir(builtin_dir())
        problems.extend(trouble)
        chosen.update((runbook.id, runbook) for runbook in found)
    user_ids: dict[str, Runbook] = {}
    for directory in user_dirs:
        found, trouble = load_dir(directory)
        problems.extend(trouble)
        for runbook in found:
            if runbook.id in user_ids:
                problems.append(Problem(str(runbook.path), None, f"runbook id {runbook.id!r} "
                                        f"is already used by {user_ids[runbook.id].path}; "
                                        "this file is ignored"))
                continue
            user_ids[runbook.id] = runbook
            chosen[runbook.id] = runbook
    return sorted(chosen.values(), key=lambda r: r.id), problems


