"""The docs cannot drift from the code: config keys, commands and code blocks.

What is checked, against the code itself (nothing here names a module path
except ``drift.cli.build_parser``, ``drift.config.MonitorConfig`` and
``drift.config.parse_monitor``):

- every key of a monitor file (found by walking the pydantic models from
  ``MonitorConfig`` through their nested model fields, aliases included) is
  written as a code span, ``key`` or ``key: ...``, in its section of
  ``docs/config.md``: the top level under "## Top level", the keys of a nested
  model under the heading named after the key that holds it (``## reference``,
  ``## thresholds`` for both the monitor's and a feature's thresholds, ...);
  and every key the first column of a section's tables names exists;
- every ``drift`` command and subcommand has help; every leaf command is in the
  README's command table (under "## The `drift` command"); every option is in
  its command's ``--help`` with a help text; no help shows RST markup;
- every fenced code block of README.md and docs/*.md parses: ``python`` blocks
  compile, ``yaml`` blocks load with ``yaml.safe_load``, and ``console`` /
  ``shell`` blocks' ``drift ...`` command lines parse with the real parser.
  A YAML block with ``name`` and ``source`` is a whole monitor and must
  validate with ``parse_monitor``; a YAML block of other top-level monitor keys
  (``alerts: [...]``) must validate added to the smallest monitor. A block that
  is neither is marked with an HTML comment ``<!-- fragment -->`` on the line
  before its fence (it then only has to load as YAML);
- every inline ``drift ...`` code span names a real command and real options,
  and every inline dotted ``drift.x.y`` name imports.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel

from drift.cli import build_parser
from drift.config import MonitorConfig, parse_monitor

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIG_DOC = ROOT / "docs" / "config.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]

FRAGMENT = "<!-- fragment -->"
TOP_LEVEL_SECTION = "Top level"
COMMAND_SECTION = "The `drift` command"
#: A YAML block of top-level keys is validated on top of this monitor.
SMALLEST_MONITOR = {
    "name": "docs_example",
    "source": {"url_env": "DOCS_EXAMPLE_URL"},
    "table": "events",
    "timestamp": "created_at",
}
RST_MARKUP = re.compile(r"``|:[a-z]+:`")
SHELL_LANGUAGES = {"console", "shell", "sh", "bash", "shell-session"}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- Markdown ---------------------------------------------------------------


@cache
def _tokens(path: Path) -> tuple[Token, ...]:
    md = MarkdownIt("commonmark").enable("table")
    return tuple(md.parse(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Block:
    """A fenced code block: where it is, its language, its text, its marker."""

    path: Path
    line: int
    language: str
    text: str
    fragment: bool

    @property
    def id(self) -> str:
        return f"{_rel(self.path)}:{self.line}:{self.language or 'plain'}"


def _blocks(path: Path) -> Iterator[Block]:
    tokens = _tokens(path)
    for i, token in enumerate(tokens):
        if token.type != "fence":
            continue
        before = tokens[i - 1] if i else None
        fragment = before is not None and before.type == "html_block" and FRAGMENT in before.content
        line = token.map[0] + 1 if token.map else 0
        yield Block(
            path, line, token.info.split()[0] if token.info else "", token.content, fragment
        )


BLOCKS = [block for path in DOCS for block in _blocks(path)]


def _sections(path: Path) -> dict[str, list[Token]]:
    """The tokens under each ``## `` heading (heading text as written, code spans kept)."""
    sections: dict[str, list[Token]] = {}
    current: list[Token] | None = None
    tokens = _tokens(path)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            if token.tag == "h1":
                current = None
            else:
                current = sections.setdefault(tokens[i + 1].content.strip(), [])
            continue
        if current is not None:
            current.append(token)
    return sections


def _code_spans(tokens: list[Token]) -> Iterator[tuple[int, str]]:
    """Every inline code span in ``tokens``: (line, text with whitespace collapsed)."""
    for token in tokens:
        if token.type != "inline":
            continue
        line = token.map[0] + 1 if token.map else 0
        for child in token.children or ():
            if child.type == "code_inline":
                yield line, " ".join(child.content.split())


def _first_column_spans(tokens: list[Token]) -> Iterator[str]:
    """Code spans of the first cell of every table body row."""
    for i, token in enumerate(tokens):
        if token.type == "tr_open" and tokens[i + 1].type == "td_open":
            yield from (span for _, span in _code_spans([tokens[i + 2]]))


# --- Config keys --------------------------------------------------------------


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds, through Optional, unions, tuples, lists, dicts."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _is_collection(annotation: Any) -> bool:
    """Whether an annotation is (an optional) tuple, list, set or dict."""
    origin = get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, Collection) and origin is not str:
        return True
    return any(_is_collection(arg) for arg in get_args(annotation))


def _yaml_key(name: str, field: Any) -> str:
    for alias in (field.validation_alias, field.alias):
        if isinstance(alias, str):
            return alias
    return name


@dataclass(frozen=True)
class Key:
    """One config key: its path from the monitor's top level, its section and name."""

    path: str
    section: str
    name: str
    model: type[BaseModel]


def _keys(model: type[BaseModel], section: str, prefix: str, seen: tuple[type, ...]) -> list[Key]:
    keys: list[Key] = []
    for name, field in model.model_fields.items():
        key = _yaml_key(name, field)
        path = f"{prefix}{key}"
        keys.append(Key(path, section, key, model))
        for nested in _models_in(field.annotation):
            if nested in seen:
                continue
            many = "[]" if _is_collection(field.annotation) else ""
            keys += _keys(nested, key, f"{path}{many}.", (*seen, nested))
    return keys


KEYS = _keys(MonitorConfig, TOP_LEVEL_SECTION, "", (MonitorConfig,))


def _documents(span: str, key: str) -> bool:
    """``key`` or ``key: ...`` (a key, optionally with an example value)."""
    return span == key or span.startswith(f"{key}:")


def test_the_walk_finds_nested_and_aliased_keys() -> None:
    paths = {key.path for key in KEYS}
    assert {"name", "source.url_env", "schema", "reference.schema"} <= paths
    assert "features[].thresholds.warn" in paths and "alerts[].min_severity" in paths


@pytest.mark.parametrize("key", KEYS, ids=lambda key: key.path)
def test_config_key_is_documented(key: Key) -> None:
    sections = _sections(CONFIG_DOC)
    assert key.section in sections, (
        f"docs/config.md has no '## {key.section}' section for the keys of {key.model.__name__}"
    )
    spans = [span for _, span in _code_spans(sections[key.section])]
    assert any(_documents(span, key.name) for span in spans), (
        f"`{key.path}` is not documented: write `{key.name}` in docs/config.md's "
        f"'## {key.section}' section"
    )


def _documented_keys() -> list[tuple[str, str]]:
    sections = _sections(CONFIG_DOC)
    documented = []
    for section in sorted({key.section for key in KEYS}):
        for span in _first_column_spans(sections.get(section, [])):
            name = span.split(":", 1)[0].strip()
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                documented.append((section, name))
    return documented


@pytest.mark.parametrize(("section", "name"), _documented_keys(), ids=lambda v: str(v))
def test_documented_key_exists(section: str, name: str) -> None:
    known = {key.name for key in KEYS if key.section == section}
    assert name in known, (
        f"docs/config.md's '## {section}' table documents `{name}`, which is no key there "
        f"(known: {sorted(known)})"
    )


# --- The drift command ------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One (sub)command: its words after ``drift``, its parser and the help in its parent."""

    words: tuple[str, ...]
    parser: argparse.ArgumentParser
    help: str | None

    @property
    def id(self) -> str:
        return " ".join(("drift", *self.words))


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = (), help: str | None = None
) -> Iterator[Command]:
    yield Command(words, parser, help)
    sub = _subparsers(parser)
    if sub is None:
        return
    helps = {action.dest: action.help for action in sub._choices_actions}
    for name, child in sub.choices.items():
        yield from _commands(child, (*words, name), helps.get(name))


PARSER = build_parser()
COMMANDS = list(_commands(PARSER))
SUBCOMMANDS = [c for c in COMMANDS if c.words]
LEAVES = [c for c in COMMANDS if c.words and _subparsers(c.parser) is None]


def _readme_table_commands() -> list[str]:
    section = _sections(README).get(COMMAND_SECTION, [])
    return [span for span in _first_column_spans(section) if span.startswith("drift ")]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: c.id)
def test_command_has_help(command: Command) -> None:
    assert command.help and command.help.strip(), f"`{command.id}` has no help text"


@pytest.mark.parametrize("command", LEAVES, ids=lambda c: c.id)
def test_command_is_in_the_readme_table(command: Command) -> None:
    rows = _readme_table_commands()
    assert rows, f"README.md has no command table under '## {COMMAND_SECTION}'"
    assert any(row == command.id or row.startswith(f"{command.id} ") for row in rows), (
        f"`{command.id}` is missing from the README's command table (## {COMMAND_SECTION})"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.id)
def test_every_option_is_in_the_help(command: Command) -> None:
    text = command.parser.format_help()
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in command.parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
        and (
            not action.help
            or action.help == argparse.SUPPRESS
            or not all(option in text for option in action.option_strings)
        )
    ]
    assert not missing, f"`{command.id} --help` lists no help text for {missing}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.id)
def test_help_shows_no_rst_markup(command: Command) -> None:
    text = command.parser.format_help()
    found = sorted({line.strip() for line in text.splitlines() if RST_MARKUP.search(line)})
    assert not found, f"`{command.id} --help` shows RST markup: {found}"


def _resolve(words: list[str]) -> tuple[str, ...] | str:
    """The command ``words`` (after ``drift``) name, or what is wrong with them."""
    parser, path = PARSER, ["drift"]
    allowed = set(PARSER._option_string_actions)
    for word in words:
        if word.startswith("-"):
            option = word.split("=", 1)[0]
            if option not in allowed:
                return f"`{' '.join(path)}` has no option {option}"
            continue
        sub = _subparsers(parser)
        if sub is None:
            continue
        if word not in sub.choices:
            return f"`{' '.join(path)}` has no subcommand {word!r} (it has {sorted(sub.choices)})"
        path.append(word)
        parser = sub.choices[word]
        allowed |= set(parser._option_string_actions)
    return tuple(path[1:])


def _clean(words: list[str]) -> list[str]:
    """Words of a command written in a table or prose: ``[--url URL]``, ``a / b``."""
    return [w.strip("[](),") for w in words if w.strip("[](),") not in ("", "/", "|", "...")]


@dataclass(frozen=True)
class Mention:
    """Inline code in a doc: ``drift ...`` (a command) or ``drift.x.y`` (a Python name)."""

    path: Path
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{_rel(self.path)}:{self.line}:{self.text}"


def _mentions(pattern: str) -> list[Mention]:
    return [
        Mention(path, line, span)
        for path in DOCS
        for line, span in _code_spans(list(_tokens(path)))
        if re.match(pattern, span)
    ]


@pytest.mark.parametrize("mention", _mentions(r"drift(\s|$)"), ids=lambda m: m.id)
def test_inline_drift_command_is_real(mention: Mention) -> None:
    result = _resolve(_clean(mention.text.split()[1:]))
    if isinstance(result, str):
        pytest.fail(f"{mention.id}: {result}")


@pytest.mark.parametrize("mention", _mentions(r"drift(\.\w+)+$"), ids=lambda m: m.id)
def test_inline_python_name_imports(mention: Mention) -> None:
    parts = mention.text.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            assert hasattr(obj, attr), f"{mention.id}: {mention.text} does not exist"
            obj = getattr(obj, attr)
        return
    pytest.fail(f"{mention.id}: {mention.text} does not import")


# --- Code blocks ------------------------------------------------------------


def _shell_commands(text: str) -> Iterator[str]:
    """The command lines of a console block: ``$ `` prompts, with ``\\`` continuations."""
    lines = iter(text.splitlines())
    for line in lines:
        if not line.startswith("$ "):
            continue
        command = line[2:]
        while command.endswith("\\"):
            command = command[:-1] + " " + next(lines, "")
        yield command


def _drift_invocations(command: str) -> Iterator[list[str]]:
    """The argument lists of every ``drift`` run by a shell command line (``bash -c`` too)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = list(lexer)
    segment: list[str] = []
    for word in [*words, ";"]:
        if word and set(word) <= set("|&;()<>"):
            for i, w in enumerate(segment):
                if w.rsplit("/", 1)[-1] == "drift":
                    yield segment[i + 1 :]
                    break
            segment = []
        elif " " in word and re.search(r"(^|[\s/])drift\s", word):
            yield from _drift_invocations(word)
        else:
            segment.append(word)


def _parse_error(arguments: list[str]) -> str | None:
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(arguments)
    except SystemExit as exc:
        if exc.code:
            return stderr.getvalue().strip() or f"exit status {exc.code}"
    return None


def _check_monitor_yaml(block: Block, data: Any) -> None:
    where = f"{block.id} (put {FRAGMENT} before the fence of a block that is neither)"
    assert isinstance(data, dict), f"{where}: not a mapping of monitor keys"
    if "name" in data and "source" in data:
        parse_monitor(data, source_name=block.id)
        return
    top = {key.name for key in KEYS if key.section == TOP_LEVEL_SECTION}
    unknown = sorted(set(data) - top)
    assert not unknown, f"{where}: neither a monitor nor monitor keys ({unknown})"
    parse_monitor({**SMALLEST_MONITOR, **data}, source_name=block.id)


def test_there_are_blocks_of_every_kind() -> None:
    languages = {block.language for block in BLOCKS}
    assert {"python", "yaml", "console"} <= languages, languages


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_code_block_parses(block: Block) -> None:
    if block.language == "python":
        compile(block.text, block.id, "exec")
    elif block.language == "yaml":
        data = yaml.safe_load(block.text)
        if not block.fragment:
            _check_monitor_yaml(block, data)
    elif block.language in SHELL_LANGUAGES:
        for command in _shell_commands(block.text):
            for arguments in _drift_invocations(command):
                error = _parse_error(arguments)
                assert error is None, f"{block.id}: `$ {command}` does not parse: {error}"
