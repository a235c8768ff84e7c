"""Where the test suite's time goes: folders, files and tests ranked from pytest's junit XML.

    python -m pytest --junitxml=/tmp/after.xml
    python tools/test_times.py /tmp/after.xml                      # ranked tables
    python tools/test_times.py /tmp/before.xml /tmp/after.xml      # the two side by side
    python tools/test_times.py /tmp/after.xml --markdown --top 15  # for docs/benchmarks/tests.md

A test's time is its call with its own set-up and tear-down (junit's ``time``); a fixture shared by
a module or the session is counted in the first test that asks for it. A test is named by its file
under tests/ and its name (``live/test_srt.py::test_a_bad_srt_address_is_one_line``); its folder is
the file's first folder (``live``), or ``(top)`` for tests/test_*.py.
"""
from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str        # live/test_srt.py::test_a_bad_srt_address_is_one_line[param]
    seconds: float
    outcome: str     # passed, failed, error, skipped

    @property
    def file(self) -> str:
        return self.name.split("::", 1)[0]

    @property
    def folder(self) -> str:
        parts = self.file.split("/")
        return parts[0] if len(parts) > 1 else "(top)"


def read(path: Path) -> list[Case]:
    """Every test case in a junit XML file written by pytest."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "")            # tests.live.test_srt (or .Class)
        parts = module.split(".")
        if parts and parts[0] == "tests":
            parts = parts[1:]
        # the file: the longest prefix of parts that names test_*.py; what is left is a class
        split = next((i + 1 for i in range(len(parts) - 1, -1, -1) if parts[i].startswith("test_")), len(parts))
        file = "/".join(parts[:split]) + ".py"
        name = "::".join([file, *parts[split:], case.get("name", "")])
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
        cases.append(Case(name, float(case.get("time", 0.0)), outcome))
    return cases


def totals(cases: list[Case], key) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    for case in cases:
        found[key(case)] += case.seconds
    return dict(found)


def counts(cases: list[Case]) -> str:
    by: dict[str, int] = defaultdict(int)
    for case in cases:
        by[case.outcome] += 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(by.items()))


def table(rows: list[tuple], headers: tuple, markdown: bool) -> str:
    cells = [tuple(str(c) for c in row) for row in rows]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    fmt = lambda row: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))  # noqa: E731
    return "\n".join([fmt(headers), *(fmt(row) for row in cells)])


def seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.1f}" if s < 60 else f"{int(s // 60)}:{s % 60:04.1f}"


def report(runs: list[tuple[str, list[Case]]], top: int, markdown: bool) -> str:
    """Whole, by folder, by file and the slowest tests; with two runs, the first's figure beside the second's."""
    out = []
    labels = [label for label, _ in runs]
    for label, cases in runs:
        out.append(f"{label}: {seconds(sum(c.seconds for c in cases))} in {len(cases)} tests ({counts(cases)})")
    for title, key in (("folder", lambda c: c.folder), ("file", lambda c: c.file), ("test", lambda c: c.name)):
        per = [totals(cases, key) for _, cases in runs]
        last = per[-1]
        names = sorted(set().union(*per), key=lambda n: -max(p.get(n, 0.0) for p in per))[:top]
        rows = []
        for name in names:
            figures = [p.get(name) for p in per]
            row = [name, *(seconds(f) for f in figures)]
            if len(per) == 2:
                a, b = figures
                row.append(f"{b / a:.2f}" if a and b is not None else "-")
            rows.append(tuple(row))
        headers = (title, *(f"s ({label})" for label in labels), *(["ratio"] if len(per) == 2 else []))
        out.append("")
        out.append(f"slowest by {title}" + (" (ranked by the larger of the two)" if len(per) == 2 else "")
                   + f", {min(top, len(set().union(*per)))} of {len(set(last) | set(per[0]))}:")
        out.append(table(rows, headers, markdown))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("xml", type=Path, nargs="+", help="one junit XML, or two: before and after")
    ap.add_argument("--top", type=int, default=20, help="rows in each table (default 20)")
    ap.add_argument("--markdown", action="store_true", help="tables in Markdown")
    args = ap.parse_args(argv)
    if len(args.xml) > 2:
        ap.error("give one junit XML, or two to compare")
    runs = []
    for path in args.xml:
        try:
            runs.append((path.stem, read(path)))
        except (OSError, ET.ParseError) as exc:
            print(f"test_times: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    print(report(runs, args.top, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
