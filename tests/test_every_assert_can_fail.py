"""Every assert in the tests can fail: none hides its check in the message (``assert ok, err and n > 5``
checks ``ok`` alone, the comparison is only the message), none asserts a tuple or a constant (always
true), and the check itself finds each of those when one is written."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

TESTS = Path(__file__).resolve().parent


def cannot_fail(source: str, filename: str = "<test>") -> list[str]:
    """``file:line: why`` for every assert in ``source`` that cannot fail as written."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Assert):
            continue
        where = f"{filename}:{node.lineno}"
        if isinstance(node.test, ast.Tuple):
            found.append(f"{where}: asserts a tuple, which is always true")
        elif isinstance(node.test, ast.Constant) and node.test.value:
            found.append(f"{where}: asserts a true constant")
        if node.msg is not None and any(isinstance(n, (ast.Compare, ast.BoolOp)) for n in ast.walk(node.msg)):
            found.append(f"{where}: a check in the message ({ast.unparse(node.msg)[:60]}) is never checked")
    return found


def test_no_assert_in_the_tests_hides_its_check_or_is_always_true():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        found += cannot_fail(path.read_text(), str(path.relative_to(TESTS)))
    assert found == []


def test_the_pass_finds_a_check_in_the_message_a_tuple_and_a_constant():
    source = ("assert code == 0, err and n > 5\n"
              "assert (frames, 'no frames')\n"
              "assert 'always'\n"
              "assert code == 0, err\n"
              "assert n > 5, f'{n} frames'\n")
    found = cannot_fail(source)
    assert [line.split(":")[1] for line in found] == ["1", "2", "3"], found
