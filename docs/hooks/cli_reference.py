"""MkDocs hook: the command reference, written at build time from the CLI's own parser
(``stream.cli._parser()``), so the page cannot say anything the command does not do.

Each subcommand gets a section: what it does, its usage line, and a table of its arguments with
their help (whose defaults the parser reads from the jobs' options dataclasses).
"""
from __future__ import annotations

import argparse

from mkdocs.structure.files import File

PAGE = "reference/cli.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _names(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(f"`{name}`" for name in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or (f"{{{','.join(map(str, action.choices))}}}" if action.choices else action.dest.upper())
    return f"{names} `{metavar}`"


def _section(name: str, sub: argparse.ArgumentParser, summary: str) -> list[str]:
    usage = " ".join(sub.format_usage().split())
    usage = usage.removeprefix("usage: ")
    lines = [f"## stylecast {name}", "", _cell(summary), "", "```text", usage, "```", "",
             "| argument | what it does |", "|---|---|"]
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        help_text = (action.help or "") % {"prog": sub.prog} if action.help else ""
        if action.choices and action.option_strings and "{" not in _names(action):
            help_text += f" (one of: {', '.join(map(str, action.choices))})"
        lines.append(f"| {_names(action)} | {_cell(help_text)} |")
    return lines + [""]


def reference() -> str:
    """The page, in Markdown."""
    from stream.cli import _parser

    parser = _parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {choice.dest: choice.help for choice in subs._choices_actions}
    lines = ["# Command reference", "",
             "Generated from the command's own parser when this site is built "
             "(`docs/hooks/cli_reference.py`); `stylecast COMMAND --help` prints the same. "
             "Bad input anywhere is one line on stderr and exit code 2.", "",
             "| command | what it does |", "|---|---|"]
    lines += [f"| [`{name}`](#stylecast-{name}) | {_cell(summaries.get(name, ''))} |" for name in subs.choices]
    lines.append("")
    for name, sub in subs.choices.items():
        lines += _section(name, sub, summaries.get(name, ""))
    return "\n".join(lines)


def on_files(files, config):
    files.append(File.generated(config, PAGE, content=reference()))
    return files
