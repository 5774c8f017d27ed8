"""index.html of an access bundle: the person's data for a person to read, grouped by system and category.

Rendered with its own autoescaping Jinja2 environment (no Flask app needed in a background job);
the page also forbids scripts outright, since names and values can hold anything. Very large tables
show their first rows and point to the CSV file that holds all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dsr.domain.dataset import DATA_CATEGORIES, System, Table
from dsr.domain.profile import OrganisationProfile
from dsr.fulfilment.bundle_json import json_value
from dsr.fulfilment.processing_facts import purpose_label

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "bundle"
PREVIEW_ROWS = 100
PREVIEW_CHARACTERS = 500

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _display(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(json_value(value))
    return text if len(text) <= PREVIEW_CHARACTERS else text[:PREVIEW_CHARACTERS] + "…"


@dataclass
class TablePreview:
    """The first rows of one table (display strings only) and how many rows there were in all."""

    system: System
    table: Table
    csv_path: str
    rows: list[list[str]] = field(default_factory=list)
    count: int = 0

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        room = PREVIEW_ROWS - len(self.rows)
        if room > 0:
            self.rows.extend([_display(v) for v in row] for row in rows[:room])
        self.count += len(rows)


def _system_view(system: System, previews: list[TablePreview], profile: OrganisationProfile) -> dict[str, Any]:
    """Tables with rows, and for each kind of data: which tables and fields hold it, and what for."""
    by_category: dict[str, dict[str, Any]] = {}
    for preview in previews:
        if not preview.count:
            continue
        for f in preview.table.fields:
            entry = by_category.setdefault(f.category, {"tables": {}, "purposes": {}})
            entry["tables"].setdefault(preview.table.title, []).append(f.name)
            entry["purposes"][purpose_label(profile, f.purpose)] = None
    categories = [
        {
            "label": DATA_CATEGORIES[key],
            "tables": [{"title": title, "fields": names} for title, names in by_category[key]["tables"].items()],
            "purposes": list(by_category[key]["purposes"]),
        }
        for key in DATA_CATEGORIES
        if key in by_category
    ]
    tables = [
        {
            "title": p.table.title,
            "name": p.table.name,
            "csv_path": p.csv_path,
            "columns": [(f.name, DATA_CATEGORIES[f.category]) for f in p.table.fields],
            "rows": p.rows,
            "count": p.count,
            "shown": len(p.rows),
        }
        for p in previews
    ]
    return {"name": system.name, "description": system.description, "categories": categories, "tables": tables}


def render_index(
    out: TextIO,
    previews: list[TablePreview],
    profile: OrganisationProfile,
    request: dict[str, Any],
    facts: dict[str, Any],
    other_systems: list[dict[str, str]],
) -> None:
    """Stream the page into `out`."""
    systems: dict[str, list[TablePreview]] = {}
    for preview in previews:
        systems.setdefault(preview.system.key, []).append(preview)
    views = [_system_view(group[0].system, group, profile) for group in systems.values()]
    template = _environment.get_template("index.html")
    for piece in template.generate(
        profile=profile,
        request=request,
        systems=views,
        facts=facts,
        other_systems=other_systems,
        total_rows=sum(preview.count for preview in previews),
    ):
        out.write(piece)
