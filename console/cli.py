"""`warroom` command line: the console, the drill cluster, and offline tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .audit_cli import add_audit_commands, run_audit_command
from .runbook_cli import add_runbook_commands, run_runbooks_command
from .statefiles import default_state_dir, ensure_private_dir

DESCRIPTION = """\
warroom — a terminal war-room console for Kubernetes rollback and recovery.

Without a subcommand it opens the console on your current kubeconfig context.
`warroom drill` starts an embedded drill cluster that plays a failure scenario
from the rollback handbook and opens the console on it."""


def state_dir() -> Path:
    return ensure_private_dir(default_state_dir())


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def _scenario_names() -> list[str]:
    from drill.scenarios import SCENARIOS

    return sorted(SCENARIOS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context to use (default: current context)")
    parser.add_argument("-n", "--namespace", help="namespace to watch (default: the context's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    drill = sub.add_parser(
        "drill", help="run the console on an embedded drill cluster",
        description="Start an embedded, Kubernetes-API-compatible drill cluster playing a "
                    "failure scenario, and open the console on it.")
    _drill_options(drill)

    server = sub.add_parser(
        "drill-server", help="run only the drill cluster (for kubectl and other clients)",
        description="Run the drill cluster in the foreground and write a kubeconfig for it. "
                    "Use it with kubectl: KUBECONFIG=PATH kubectl get pods -n shop")
    _drill_options(server)
    server.add_argument("--port", type=_port, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    server.add_argument("--kubeconfig-out", required=True, metavar="PATH",
                        help="where to write the kubeconfig (mode 0600)")
    add_audit_commands(sub)
    add_runbook_commands(sub)
    return parser


def _drill_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="none", metavar="NAME",
                        help="failure scenario to play: " + ", ".join(_scenario_names()))
    parser.add_argument("--speed", type=_positive_float, default=None, metavar="X",
                        help="drill clock speed (1 = real time, 60 = a minute per second; "
                             "default: the scenario's)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for names and jitter")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "scenario", None) and args.scenario not in _scenario_names():
        parser.error(f"unknown scenario {args.scenario!r}; choose one of: "
                     + ", ".join(_scenario_names()))
    if args.command == "runbooks":
        return run_runbooks_command(args)
    if args.command == "audit":
        return run_audit_command(args)
    if args.command == "drill-server":
        return run_drill_server(args)
    if args.command == "drill":
        return run_drill_console(args)
    return run_console(args)


def run_drill_server(args: argparse.Namespace) -> int:
    from drill.cluster import DrillCluster

    async def serve() -> None:
        cluster = DrillCluster(scenario=args.scenario, speed=args.speed, seed=args.seed,
                               port=args.port)
        try:
            await cluster.start()
        except OSError as exc:
            print(f"warroom: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
                  file=sys.stderr)
            raise SystemExit(1) from exc
        path = cluster.write_kubeconfig(args.kubeconfig_out)
        print(f"drill cluster listening on {cluster.url} (scenario {cluster.scenario.name}, "
              f"speed {cluster.clock.speed:g}x)\nkubeconfig written to {path}\n"
              f"try: KUBECONFIG={path} kubectl get pods -n shop", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await cluster.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


def run_drill_console(args: argparse.Namespace) -> int:
    from drill.cluster import DrillThread

    runner = DrillThread(scenario=args.scenario, speed=args.speed, seed=args.seed)
    cluster = runner.start()
    kubeconfig = cluster.write_kubeconfig(state_dir() / "drill-kubeconfig.yaml")
    try:
        from .app import run_app

        return run_app(kubeconfig=str(kubeconfig), context="drill", namespace="shop",
                       title=f"drill: {cluster.scenario.name}")
    finally:
        runner.stop()


def run_console(args: argparse.Namespace) -> int:
    from .app import run_app

    return run_app(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)


if __name__ == "__main__":
    raise SystemExit(main())
