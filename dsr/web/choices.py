"""Select and radio options in the form WTForms wants (tuples are deprecated from WTForms 3.3)."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class QuickSelect(Select):
    """WTForms' <select>, with options written directly: the staff queue renders some seventy of them
    on every view, and WTForms' general attribute builder was a fifth of that page's time."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')  # noqa: S704 (all escaped)
