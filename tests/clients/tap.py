"""The client scenarios' report format: each check prints "ok <n> <what>" or
"not ok <n> <what>: <why>", and the first failing check ends the scenario (exit status 1)."""
import sys

_count = 0


def check(ok: bool, what: str, why: str = "") -> None:
    global _count
    _count += 1
    if ok:
        print(f"ok {_count} {what}", flush=True)
    else:
        print(f"not ok {_count} {what}: {why}", flush=True)
        sys.exit(1)


def count() -> int:
    """How many checks ran."""
    return _count
