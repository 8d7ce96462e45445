"""The README's security policy points every promise at a row of docs/reliability.md, and every test a row names
exists: a promise cannot lose its test, nor a renamed test its promise, without this failing."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
RELIABILITY = (ROOT / "docs" / "reliability.md").read_text()


def _policy() -> str:
    return README.split("## Security policy", 1)[1].split("\n## ", 1)[0]


def _rows() -> dict[str, str]:
    section = RELIABILITY.split("## The security policy, promise by promise", 1)[1]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| (S\d+) \| [^|]+ \| (.+) \|$", section, re.M)}


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_promise_of_the_policy_has_a_row_and_every_row_a_promise():
    cited = set(re.findall(r"\[(S\d+)\]", _policy()))
    assert cited and cited == set(_rows())


def test_every_test_a_row_names_exists():
    for tag, tests in _rows().items():
        current = None
        for ref in re.findall(r"`([^`]+)`", tests):
            file, _, name = ref.partition("::")
            if file:
                current = ROOT / "tests" / file
                assert current.exists(), f"{tag}: {file} does not exist"
            if name:
                assert current is not None, f"{tag}: {ref} names no file"
                assert name in _test_names(current), f"{tag}: {current.name} has no {name}"
