"""Every audit action the code writes has words a person reads on the timeline (and, later, the audit log)."""

import ast
import pathlib

from dsr.domain.lifecycle import Action
from dsr.services.timeline import EVENT_TEXT

ROOT = pathlib.Path(__file__).resolve().parents[2] / "dsr"


def written_actions() -> set[str]:
    actions = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record_event"
            ):
                third = node.args[2] if len(node.args) >= 3 else None
                for value in ast.walk(third) if third is not None else ():
                    text = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""
                    if "." in text and not text.endswith("."):  # "request." + action is checked below
                        actions.add(text)
    return actions


def test_every_written_action_has_a_label():
    actions = written_actions()
    assert len(actions) > 40
    assert sorted(a for a in actions if a not in EVENT_TEXT) == []
    assert [a for a in Action if f"request.{a.value}" not in EVENT_TEXT] == []
