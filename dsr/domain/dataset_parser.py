"""Validating a dataset file's data into a Dataset, reporting every problem with its file, line and key."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from dsr.domain.dataset import (
    DATA_CATEGORIES,
    Dataset,
    DatasetError,
    Erasure,
    Field,
    IdentityKind,
    Reference,
    System,
    SystemKind,
    Table,
    variables_in,
)
from dsr.domain.dataset_flags import check_keys, check_when_columns, flag_columns, told_keys
from dsr.domain.periods import parse_period
from dsr.domain.profile import LEGAL_BASES
from dsr.domain.requests import RequestType
from dsr.yamlfile import KeyPath, format_key_path

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LINE = re.compile(r"^.*?:(\d+): ")
_PASSWORD_IN_URL = re.compile(r"://[^/@:\s]*:[^/@\s$]+@")
SYSTEM_KEYS = {
    SystemKind.SQL: {"kind", "name", "description", "url", "tables"},
    SystemKind.MANUAL: {"kind", "name", "description", "instructions"},
    SystemKind.WEBHOOK: {"kind", "name", "description", "url", "secret", "consent", "restriction"},
}
TABLE_KEYS = {"label", "schema", "primary_key", "identity", "fields", "references"} | {
    "purpose",
    "erasure",
    "legal_basis",
    "retention",
}
FIELD_KEYS = {"category", "purpose", "erasure", "legal_basis", "retention", "note", "consent", "restriction"}


class _Problems:
    def __init__(self, where: Callable[[KeyPath], str]) -> None:
        self.where = where
        self.found: list[str] = []

    def add(self, path: KeyPath, problem: str) -> None:
        self.found.append(f"{self.where(path)}: {format_key_path(path) or '(file)'}: {problem}")

    def in_line_order(self) -> list[str]:
        def line(problem: str) -> int:
            match = _LINE.match(problem)
            return int(match.group(1)) if match else 0

        return sorted(self.found, key=line)

    def mapping(self, value: Any, path: KeyPath, allowed: Collection[str] | None = None) -> dict:
        if not isinstance(value, dict):
            self.add(path, "must be a mapping of keys to values.")
            return {}
        for key in value:
            if allowed is not None and key not in allowed:
                self.add((*path, key), f"is not a known key here; expected one of {', '.join(sorted(allowed))}.")
        return value

    def text(self, value: Any, path: KeyPath, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(path, "must be a non-empty text value.")
            return ""
        return value.strip()

    def name(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, str) or not NAME.match(value):
            self.add(path, "must be a name of letters, digits and underscores (not starting with a digit).")
            return False
        return True


def parse_dataset(
    data: Any,
    source: str,
    where: Callable[[KeyPath], str] | None = None,
    environ: Mapping[str, str] | None = None,
    purposes: Collection[str] | None = None,
    consent_topics: Collection[str] | None = None,
) -> Dataset:
    """Build a Dataset or raise DatasetError listing every problem.

    `environ` is checked for the ${NAME} variables the file uses; `purposes` and `consent_topics`
    (the profile's keys), when given, are what fields and webhook systems must name.
    """
    problems = _Problems(where or (lambda path: source))
    root = problems.mapping(data, (), {"systems"})
    systems_data = problems.mapping(root.get("systems"), ("systems",)) if root else {}
    if root and not systems_data:
        problems.add(("systems",), "must declare at least one system.")
    systems = []
    for key, spec in systems_data.items():
        path = ("systems", key)
        if problems.name(key, path):
            system = _system(problems, key, spec, path, environ or {}, purposes)
            if system is not None:
                systems.append(system)
    check_keys(problems, systems, consent_topics, purposes)
    if problems.found:
        raise DatasetError(problems.in_line_order())
    return Dataset(source, tuple(systems))


def _system(
    problems: _Problems,
    key: str,
    spec: Any,
    path: KeyPath,
    environ: Mapping[str, str],
    purposes: Collection[str] | None,
) -> System | None:
    if not isinstance(spec, dict):
        problems.add(path, "must be a mapping with at least 'kind' and 'name'.")
        return None
    try:
        kind = SystemKind(spec.get("kind"))
    except ValueError:
        problems.add((*path, "kind"), f"must be one of {', '.join(SystemKind)} (got {spec.get('kind')!r}).")
        return None
    problems.mapping(spec, path, SYSTEM_KEYS[kind])
    name = problems.text(spec.get("name"), (*path, "name"))
    description = problems.text(spec.get("description"), (*path, "description"), required=False)
    for field in ("url", "secret"):
        if isinstance(spec.get(field), str):
            for variable, default in variables_in(spec[field]):
                if default is None and not environ.get(variable):
                    problems.add((*path, field), f"uses the environment variable {variable}, which is not set.")
    if kind is SystemKind.SQL:
        url = problems.text(spec.get("url"), (*path, "url"))
        if _PASSWORD_IN_URL.search(url):
            problems.add((*path, "url"), "holds a password; write it as ${SOME_VARIABLE} and set that variable.")
        tables = _tables(problems, spec.get("tables"), (*path, "tables"), purposes)
        return System(key, kind, name, description, url=url, tables=tables)
    if kind is SystemKind.MANUAL:
        return System(key, kind, name, description, instructions=_instructions(problems, spec, path))
    url = problems.text(spec.get("url"), (*path, "url"))
    if url and not url.startswith("https://"):
        problems.add((*path, "url"), "must be an https:// address (jobs carry personal data).")
    secret = problems.text(spec.get("secret"), (*path, "secret"))
    if secret and not variables_in(secret):
        problems.add((*path, "secret"), "must come from an environment variable, written as ${SOME_VARIABLE}.")
    told = {scope: told_keys(problems, spec, path, scope) for scope in ("consent", "restriction")}
    return System(key, kind, name, description, url=url, secret=secret, **told)


def _instructions(problems: _Problems, spec: dict, path: KeyPath) -> tuple[tuple[str, str], ...]:
    value, where = spec.get("instructions"), (*path, "instructions")
    if not isinstance(value, str | dict):
        problems.add(where, "must be the text staff follow, or a mapping of request type (and 'default') to text.")
        return ()
    if isinstance(value, str):
        return (("default", problems.text(value, where)),)
    allowed = {"default", *RequestType}
    texts = problems.mapping(value, where, allowed)
    if "default" not in texts:
        problems.add(where, "needs a 'default' text for the request types it does not name.")
    return tuple((kind, problems.text(text, (*where, kind))) for kind, text in texts.items() if kind in allowed)


def _tables(problems: _Problems, value: Any, path: KeyPath, purposes: Collection[str] | None) -> tuple[Table, ...]:
    specs = problems.mapping(value, path)
    if isinstance(value, dict) and not specs:
        problems.add(path, "must declare at least one table.")
    tables = [
        _table(problems, name, spec, (*path, name), purposes)
        for name, spec in specs.items()
        if problems.name(name, (*path, name))
    ]
    by_name = {t.name: t for t in tables}
    for table in tables:
        for index, reference in enumerate(table.references):
            where = (*path, table.name, "references", index)
            child = by_name.get(reference.table)
            if child is None:
                problems.add((*where, "table"), f"names no table of this system ({reference.table!r}).")
                continue
            for parent_column, child_column in reference.join:
                if parent_column not in table.columns:
                    problems.add((*where, "join"), f"{parent_column!r} is not a field of {table.name}.")
                if child_column not in child.columns:
                    problems.add((*where, "join"), f"{child_column!r} is not a field of {child.name}.")
    _check_reachable(problems, tables, path)
    return tuple(tables)


def _check_reachable(problems: _Problems, tables: list[Table], path: KeyPath) -> None:
    """Every table must be found from an identity column, and references may not loop."""
    children = {t.name: [r.table for r in t.references] for t in tables}
    reached: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            problems.add((*path, name, "references"), f"loop back to {name} ({' → '.join((*trail, name))}).")
            return
        reached.add(name)
        for child in children.get(name, []):
            visit(child, (*trail, name))

    for table in tables:
        if table.identity:
            visit(table.name, ())
    for table in tables:
        if table.name not in reached:
            problems.add(
                (*path, table.name),
                "can never be matched to a person: give it 'identity' columns or reference it from a table that has.",
            )


def _table(problems: _Problems, name: str, spec: Any, path: KeyPath, purposes: Collection[str] | None) -> Table:
    spec = problems.mapping(spec, path, TABLE_KEYS)
    fields_spec = problems.mapping(spec.get("fields"), (*path, "fields"))
    defaults = {k: spec[k] for k in ("purpose", "erasure", "legal_basis", "retention") if k in spec}
    fields = [
        _field(
            problems,
            column,
            {**defaults, **problems.mapping(field, (*path, "fields", column), FIELD_KEYS)},
            (*path, "fields", column),
            purposes,
        )
        for column, field in fields_spec.items()
        if problems.name(column, (*path, "fields", column))
    ]
    if isinstance(spec.get("fields"), dict) and not fields_spec:
        problems.add((*path, "fields"), "must declare at least one field.")
    check_when_columns(problems, fields, path)
    columns = {f.name for f in fields}
    actions = {f.erasure for f in fields if f.erasure is not None}
    if Erasure.DELETE_ROW in actions and len(actions) > 1:
        problems.add(
            (*path, "fields"),
            "mixes delete_row with other erasure actions; delete_row removes the whole row, "
            "so set 'erasure: delete_row' on the table instead.",
        )
    primary_key = spec.get("primary_key", "id")
    primary_key = tuple(primary_key) if isinstance(primary_key, list) else (primary_key,)
    for column in primary_key:
        if column not in columns:
            problems.add((*path, "primary_key"), f"{column!r} is not one of the table's fields.")
    identity = []
    for kind_name, column in problems.mapping(
        spec.get("identity") or {}, (*path, "identity"), set(IdentityKind)
    ).items():
        if kind_name in set(IdentityKind):
            if column not in columns:
                problems.add((*path, "identity", kind_name), f"{column!r} is not one of the table's fields.")
            identity.append((IdentityKind(kind_name), str(column)))
    references = []
    raw_references = spec.get("references") or []
    if not isinstance(raw_references, list):
        problems.add((*path, "references"), "must be a list of {table, join} mappings.")
        raw_references = []
    for index, item in enumerate(raw_references):
        where = (*path, "references", index)
        item = problems.mapping(item, where, {"table", "join"})
        join = problems.mapping(item.get("join"), (*where, "join"))
        if not join and isinstance(item.get("join"), dict):
            problems.add((*where, "join"), "must map at least one parent column to a child column.")
        if problems.name(item.get("table"), (*where, "table")):
            references.append(Reference(item["table"], tuple((str(p), str(c)) for p, c in join.items())))
    return Table(
        name,
        tuple(fields),
        primary_key=primary_key,
        identity=tuple(identity),
        references=tuple(references),
        schema=problems.text(spec.get("schema"), (*path, "schema"), required=False) or None,
        label=problems.text(spec.get("label"), (*path, "label"), required=False),
    )


def _field(problems: _Problems, name: str, spec: dict, path: KeyPath, purposes: Collection[str] | None) -> Field:
    category = spec.get("category")
    if category not in DATA_CATEGORIES:
        problems.add((*path, "category"), f"must be one of {', '.join(DATA_CATEGORIES)} (got {category!r}).")
    purpose = problems.text(spec.get("purpose"), (*path, "purpose"))
    if purpose and purposes is not None and purpose not in purposes:
        problems.add((*path, "purpose"), f"names no purpose of the organisation profile ({purpose!r}).")
    erasure: Erasure | None = None
    try:
        # `erasure: null` reaches us as YAML's null; with the key present it can only mean the null action.
        erasure = Erasure("null" if "erasure" in spec and spec["erasure"] is None else spec.get("erasure"))
    except ValueError:
        problems.add((*path, "erasure"), f"must be one of {', '.join(Erasure)} (got {spec.get('erasure')!r}).")
    legal_basis, retention = "", None
    if erasure is Erasure.RETAIN:
        legal_basis = spec.get("legal_basis") or ""
        if legal_basis not in LEGAL_BASES:
            problems.add((*path, "legal_basis"), f"is needed to retain data; one of {', '.join(LEGAL_BASES)}.")
        try:
            retention = parse_period(spec.get("retention"))
        except ValueError as exc:
            missing = spec.get("retention") is None
            problems.add((*path, "retention"), "is needed to retain data (e.g. '8 years')." if missing else f"{exc}.")
    note = problems.text(spec.get("note"), (*path, "note"), required=False)
    flags = {
        scope: flag_columns(problems, spec[scope], (*path, scope), scope)
        for scope in ("consent", "restriction")
        if scope in spec
    }
    # An invalid erasure leaves None here; the DatasetError raised at the end keeps it from being used.
    category = category if category in DATA_CATEGORIES else "other"
    return Field(name, category, purpose, erasure, legal_basis, retention, note, **flags)  # type: ignore[arg-type]
