"""`--context a,b`: one console on several kubeconfig contexts.

A comma list names the contexts (the first is focused at start); every name must be a
context of the kubeconfig, or the command ends with the known ones listed (exit 2). One name
is today's `--context NAME`, checked when the console connects.
"""

from __future__ import annotations


def context_list(text: str | None) -> tuple[str, ...]:
    """The contexts of ``--context a,b`` in order, each once; () for one name or none."""
    if not text or "," not in text:
        return ()
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return tuple(names) if len(names) > 1 else ()


def unknown_contexts(kubeconfig: str | None, names: tuple[str, ...]) -> str | None:
    """Why ``names`` cannot be used (a name the kubeconfig lacks, no kubeconfig), or None."""
    from adapters.errors import AdapterError
    from adapters.kube_config import list_contexts  # the Kubernetes client: only when needed

    try:
        known = [c.name for c in list_contexts(kubeconfig)]
    except AdapterError as error:
        return error.message
    missing = [n for n in names if n not in known]
    if not missing:
        return None
    listed = ", ".join(sorted(known)) or "none"
    which = "context" if len(missing) == 1 else "contexts"
    return (f"unknown {which} in --context: {', '.join(missing)}; "
            f"known contexts: {listed}")
