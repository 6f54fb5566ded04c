"""Each template gets exactly its context dataclass's fields, and nothing undefined passes."""

from __future__ import annotations

from dataclasses import fields
from importlib.resources import files

import pytest
from jinja2 import UndefinedError, meta, nodes

from reports.context import Cell
from reports.render import TEMPLATES, environment


def variables(name: str) -> set[str]:
    """Names a template reads from its context, through every template it uses."""
    env = environment()
    assert env.loader is not None
    seen: set[str] = set()
    names: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        ast = env.parse(env.loader.get_source(env, current)[0])
        aliases = {i.target for i in ast.find_all(nodes.Import)}  # {% import ... as m %}
        names |= meta.find_undeclared_variables(ast) - aliases
        todo.extend(t for t in meta.find_referenced_templates(ast) if t)
    return names


@pytest.mark.parametrize("page", list(TEMPLATES), ids=lambda c: c.__name__)
def test_a_template_reads_exactly_the_fields_of_its_context(page: type) -> None:
    assert variables(TEMPLATES[page]) == {f.name for f in fields(page)}


@pytest.mark.parametrize("name", sorted(TEMPLATES.values()))
def test_a_missing_value_is_an_error_not_an_empty_string(name: str) -> None:
    with pytest.raises(UndefinedError):
        environment().get_template(name).render({})


def test_templates_are_pages_or_underscored_partials_and_escape() -> None:
    names = [p.name for p in files("reports").joinpath("templates").iterdir()]
    assert set(TEMPLATES.values()) <= set(names)
    for name in names:
        assert name.endswith(".html")
        assert name in TEMPLATES.values() or name.startswith("_")
    macros = environment().get_template("_macros.html").module
    assert str(macros.cell(Cell("<b>", "&", href="x.html?a=1&b=2"))) == (  # type: ignore[attr-defined]
        '<td><a href="x.html?a=1&amp;b=2">&lt;b&gt;</a><span class="sub">&amp;</span></td>'
    )
