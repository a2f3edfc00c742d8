"""Load a runbook set from YAML files, placing every problem at file, line and field.

Layout (see runbooks/README.md)::

    clarion.yaml  components.yaml  rules.yaml  policies.yaml  roles.yaml
    templates/<language>/<phase>.yaml

Each file is parsed twice by PyYAML: once into data for pydantic, once into a node tree that keeps
line numbers, so a pydantic error location (``("rules", 3, "severity")``) maps back to a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from clarion.domain.enums import Phase
from clarion.domain.errors import RunbookError
from clarion.domain.runbooks.model import (
    ComponentsFile,
    PoliciesFile,
    Problem,
    RolesFile,
    RulesFile,
    Runbook,
    Settings,
    TemplateSet,
    cross_check,
)

SECTIONS: dict[str, tuple[str, type[BaseModel]]] = {
    "settings": ("clarion.yaml", Settings),
    "components": ("components.yaml", ComponentsFile),
    "rules": ("rules.yaml", RulesFile),
    "policies": ("policies.yaml", PoliciesFile),
    "roles": ("roles.yaml", RolesFile),
}
_TEMPLATE_SET: TypeAdapter[TemplateSet] = TypeAdapter(TemplateSet)


@dataclass(frozen=True)
class PlacedProblem:
    file: str
    line: int
    field: str
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{fld} {self.message}" if self.level == "error" else f"{where}:{fld} warning: {self.message}"


@dataclass
class _Source:
    file: str
    node: yaml.Node | None


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _line(source: _Source, loc: tuple[str | int, ...], offset: int | None = None) -> int:
    """The line of the field at ``loc``; with ``offset``, of that line inside the field's text when the
    text is a block scalar (``body: |``)."""
    node = source.node
    if node is None:
        return 0
    line = node.start_mark.line + 1
    for part in loc:
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if _key_text(key) == str(part):
                    nxt = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            return line
        node = nxt
    if offset is not None and isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        return node.start_mark.line + 2 + offset  # the text starts on the line after "|"
    return line


def _duplicate_keys(source: _Source) -> list[PlacedProblem]:
    out: list[PlacedProblem] = []

    def walk(node: yaml.Node, path: list[str]) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                text = _key_text(key)
                if text in seen:
                    out.append(
                        PlacedProblem(source.file, key.start_mark.line + 1, ".".join([*path, text]), "duplicate key")
                    )
                seen.add(text)
                walk(value, [*path, text])
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, [*path, str(i)])

    if source.node is not None:
        walk(source.node, [])
    return out


def _read(root: Path, rel: str) -> tuple[_Source, Any, list[PlacedProblem]]:
    path = root / rel
    if not path.is_file():
        return _Source(rel, None), None, [PlacedProblem(rel, 0, "", "file is missing")]
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        return _Source(rel, None), None, [PlacedProblem(rel, 0, "", f"not UTF-8 text: {exc.reason}")]
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        return _Source(rel, None), None, [PlacedProblem(rel, line, "", f"YAML syntax error: {exc.problem}")]
    source = _Source(rel, node)
    if data is None:
        return source, None, [PlacedProblem(rel, 0, "", "file is empty")]
    return source, data, _duplicate_keys(source)


def _validation_problems(source: _Source, exc: ValidationError) -> list[PlacedProblem]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        # pydantic adds union-branch names ("str", "dict[str,str]") to loc; drop them from the field path.
        shown = [
            str(p) for p in loc if p not in ("str", "dict[str,str]", "function-after[parse_duration(), timedelta]")
        ]
        msg = err["msg"].removeprefix("Value error, ")
        out.append(PlacedProblem(source.file, _line(source, loc), ".".join(shown), msg))
    return out


def _place(sources: dict[str, _Source], problems: list[Problem]) -> list[PlacedProblem]:
    out = []
    for p in problems:
        source = sources.get(p.section) or _Source(f"{p.section}.yaml", None)
        line = _line(source, p.loc, p.line_offset)
        out.append(PlacedProblem(source.file, line, ".".join(map(str, p.loc)), p.message, p.level))
    return out


def validate_runbook(path: str | Path, *, with_lint: bool = True) -> tuple[Runbook | None, list[PlacedProblem]]:
    """Everything wrong with the runbook set at ``path`` (errors and warnings), and the runbook when
    there are no errors."""
    root = Path(path)
    if not root.is_dir():
        return None, [PlacedProblem(str(root), 0, "", "not a directory holding a runbook set")]
    problems: list[PlacedProblem] = []
    sources: dict[str, _Source] = {}
    parsed: dict[str, Any] = {}
    for section, (rel, model) in SECTIONS.items():
        source, data, found = _read(root, rel)
        sources[section] = source
        problems.extend(found)
        if data is None:
            continue
        try:
            parsed[section] = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(_validation_problems(source, exc))

    templates: dict[str, dict[Phase, TemplateSet]] = {}
    tdir = root / "templates"
    if not tdir.is_dir():
        problems.append(PlacedProblem("templates", 0, "", "templates/ directory is missing"))
    else:
        for lang_dir in sorted(p for p in tdir.iterdir() if p.is_dir()):
            for file in sorted(lang_dir.glob("*.yaml")):
                rel = file.relative_to(root).as_posix()
                section = f"templates/{lang_dir.name}/{file.stem}"
                if file.stem not in Phase.__members__.values():
                    problems.append(
                        PlacedProblem(rel, 0, "", f"unknown phase {file.stem!r}; phases: {', '.join(Phase)}")
                    )
                    continue
                source, data, found = _read(root, rel)
                sources[section] = source
                problems.extend(found)
                if data is None:
                    continue
                try:
                    templates.setdefault(lang_dir.name, {})[Phase(file.stem)] = _TEMPLATE_SET.validate_python(data)
                except ValidationError as exc:
                    problems.extend(_validation_problems(source, exc))

    if any(p.level == "error" for p in problems) or len(parsed) < len(SECTIONS):
        return None, problems

    draft = Runbook.model_construct(templates=templates, **parsed)
    problems.extend(_place(sources, cross_check(draft)))
    if any(p.level == "error" for p in problems):
        return None, problems
    runbook = Runbook.model_validate({"templates": templates, **parsed})
    if with_lint:
        from clarion.domain.runbooks.lint import lint  # Jinja and rendering: only when the lint runs

        problems.extend(_place(sources, lint(runbook)))
    errors = [p for p in problems if p.level == "error"]
    return (None if errors else runbook), problems


def load_runbook(path: str | Path, *, lint: bool = True) -> Runbook:
    """The validated runbook set, or ``RunbookError`` listing every error at file:line.

    The deployed functions pass ``lint=False``: the bundled set was linted when ``cdk synth`` built
    it (a failing lint stops the synth), so a cold start checks the schema and cross-references only.
    """
    runbook, problems = validate_runbook(path, with_lint=lint)
    if runbook is None:
        raise RunbookError([str(p) for p in problems if p.level == "error"])
    return runbook
