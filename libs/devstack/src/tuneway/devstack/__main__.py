"""`python -m tuneway.devstack run|model`: the commands behind `make run` and `make model`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tuneway.devstack import demo_model
from tuneway.devstack.launcher import Stack, StackConfig, StackError


def run() -> int:
    """Starts the stack, prints where it is, and stops it on Ctrl-C or SIGTERM."""
    stack = Stack(StackConfig.from_env())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("starting tuneway (logs in var/logs/) ...", flush=True)
    try:
        stack.start()
    except StackError as error:
        print(f"tuneway did not start: {error}", file=sys.stderr)
        return 1
    print(f"\n  gateway    {stack.gateway_url}   (OpenAPI docs at {stack.gateway_url}/docs)")
    for url in stack.gateway_urls[1:]:
        print(f"  gateway    {url}")
    if len(stack.replicas["inference"]) > 1:
        print(f"  inference  {stack.inference_targets()}")
    print(f"  admin key  {stack.admin_key()}")
    print(f"  prometheus {stack.start_prometheus()}")
    print("\n  Ctrl-C stops everything.\n", flush=True)
    try:
        while not stop.wait(1.0):
            stack.supervise()
    except StackError as error:
        print(f"tuneway stopped: {error}", file=sys.stderr)
        stack.stop()
        return 1
    print("stopping ...", flush=True)
    stack.stop()
    return 0


def main() -> int:
    """Dispatches the subcommand."""
    parser = argparse.ArgumentParser(prog="python -m tuneway.devstack")
    parser.add_argument("command", choices=["run", "model"])
    args, rest = parser.parse_known_args()
    if args.command == "model":
        return demo_model.main(rest)
    return run()


if __name__ == "__main__":
    sys.exit(main())
