"""Render the output files from the Jinja templates (outputs.py writes them)."""

from __future__ import annotations

import os
from pathlib import Path

from . import __version__
from .outputs import comment_text, stamp
from .script import ScriptPlan
from .shell import array, sq

COMPOSE_NAME = "compose.yaml"
SCRIPT_NAME = "codeship-steps.sh"
OVERRIDE_NAME = "compose.override.yaml"  # local work only: `docker compose up` reads it, the script never
# Between the project's part of codeship-steps.sh (pipeline, services) and the runtime every
# script carries verbatim; the golden tests compare what is above it.
FENCE = "# " + "=" * 30 + " codeship2compose runtime " + "=" * 38

_ENV = None


def _templates_dir() -> Path:
    # The templates next to this very package first: with an editable install of another checkout,
    # importlib.resources would find that checkout's templates (PYTHONPATH=$PWD in a worktree).
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "runtime").is_dir() and (candidate / "__init__.py").is_file():
            return candidate
    try:
        from importlib.resources import files

        path = Path(str(files("translator.templates")))
        if (path / "runtime").is_dir():
            return path
    except (ImportError, ModuleNotFoundError, TypeError):  # pragma: no cover - running from source
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def _bytecode_cache():
    """Compiled templates are cached per user: compiling them costs more than a translation."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket):
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError):  # unreadable or stale: compile again
                bucket.reset()

        def dump_bytecode(self, bucket):
            try:
                super().dump_bytecode(bucket)
            except OSError:  # a read-only home directory only costs speed
                pass

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "codeship2compose", __version__)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return QuietCache(directory)


def _env():
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_templates_dir())),
                                  autoescape=False, trim_blocks=True, lstrip_blocks=True,
                                  keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                                  bytecode_cache=_bytecode_cache())
        _ENV.filters["sq"] = sq
        _ENV.filters["array"] = array
        _ENV.filters["pairs"] = _pairs
        _ENV.filters["comment"] = comment_text
    return _ENV


def _pairs(pairs: list[tuple[str, str]]) -> list[str]:
    """Bash arrays are flat: the runtime reads a list of pairs as first, second, first, second…"""
    return [value for pair in pairs for value in pair]


def _yaml(document: dict) -> str:
    import yaml

    body = yaml.dump(document, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     default_flow_style=False, allow_unicode=True, width=100_000)
    return body.rstrip("\n")


def render_compose(document: dict, services_file: str) -> str:
    return stamp(_env().get_template("compose.yaml.j2").render(
        version=__version__, services_file=services_file, script_name=SCRIPT_NAME, body=_yaml(document)))


def render_override(document: dict, services_file: str, profile: str) -> str:
    return stamp(_env().get_template("compose.override.yaml.j2").render(
        version=__version__, services_file=services_file, script_name=SCRIPT_NAME, compose_name=COMPOSE_NAME,
        profile=profile, body=_yaml(document)))


def runtime_parts() -> tuple[str, str]:
    """The bash every script carries verbatim: the runner and the decryptor.

    The runner's source is kept in rooms by topic (templates/runtime/NN-topic.bash), joined in
    the order of their numbers, so the emitted script stays one self-contained file."""
    runtime = "".join(room.read_text(encoding="utf-8")
                      for room in sorted((_templates_dir() / "runtime").glob("*.bash")))
    decrypt = (_templates_dir() / "decrypt.bash").read_text(encoding="utf-8")
    decrypt = decrypt.replace("# shellcheck shell=bash\n", "", 1)
    return runtime.rstrip("\n") + "\n", decrypt.rstrip("\n") + "\n"


def render_script(plan: ScriptPlan, services_file: str, steps_file: str) -> str:
    runtime, decrypt = runtime_parts()
    return stamp(_env().get_template("codeship-steps.sh.j2").render(
        version=__version__, services_file=services_file, steps_file=steps_file,
        script_name=SCRIPT_NAME, plan=plan, runtime=runtime, decrypt=decrypt, fence=FENCE))
