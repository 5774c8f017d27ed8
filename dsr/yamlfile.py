"""YAML files whose errors can point at a line: the parsed data plus a way to find where a key sits.

Configuration files (the organisation profile, the dataset file) are validated after parsing; a
message such as ``datasets/crm.yaml:14: systems.crm.url: …`` needs the line of a key path, which
PyYAML keeps on the composed nodes (``yaml.compose``) but drops from the constructed data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KeyPath = Sequence[str | int]
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class YamlFileError(ValueError):
    """The file cannot be read or is not valid YAML; the message names the file (and line)."""


def split_key_path(path: str | KeyPath) -> tuple[str | int, ...]:
    """'systems.crm.tables[0]' → ('systems', 'crm', 'tables', 0)."""
    if not isinstance(path, str):
        return tuple(path)
    return tuple(name if name else int(index) for name, index in _PART.findall(path))


def format_key_path(path: KeyPath) -> str:
    """('systems', 'crm', 'tables', 0) → 'systems.crm.tables[0]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data of one YAML file, with the node tree kept for line numbers."""

    source: str
    data: Any
    root: yaml.Node | None

    def line(self, path: str | KeyPath) -> int | None:
        """1-based line of the deepest part of `path` present in the file (the key's own line for mappings)."""
        node, line = self.root, (self.root.start_mark.line + 1 if self.root else None)
        for part in split_key_path(path):
            if isinstance(node, yaml.MappingNode):
                match = next((pair for pair in node.value if _scalar(pair[0]) == str(part)), None)
                if match is None:
                    return line
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def where(self, path: str | KeyPath = ()) -> str:
        """'file:line' for a key path (or just 'file' when the file has no content)."""
        line = self.line(path)
        return f"{self.source}:{line}" if line else self.source


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document safely (no arbitrary objects), keeping its nodes."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlFileError(f"{where}: not valid YAML ({problem}).") from None
    finally:
        loader.dispose()
    return YamlDocument(source, data, root)


def load_yaml(path: str | Path, what: str = "file") -> YamlDocument:
    """Read and parse `path`; `what` names the file in errors ('organisation profile', 'dataset file')."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise YamlFileError(f"{path}: cannot read the {what} ({reason}).") from None
    return parse_yaml(text, str(path))
