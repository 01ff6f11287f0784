"""Command line: the only module that prints or exits. The core is imported lazily, inside the
commands, so that `--help` costs no more than click itself."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from . import __version__

if TYPE_CHECKING:
    from .model import VolumesFromScope

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_OUTPUT = 0, 1, 2, 3

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (warnings may have been printed)
  1  the Codeship files are invalid (or have warnings, with --strict); with
     translate --check, also: the outputs on disk are stale
  2  usage error (unknown option, missing argument)
  3  the outputs could not be written (a file not written by this tool, or
     edited by hand since, or not a regular file, is in the way; a folder
     leads outside the project; an I/O error); nothing was changed unless
     the message says otherwise
"""
# The top level's list also names audit's exit 1 (audit --help has its own list).
MAIN_EXIT_CODES_HELP = EXIT_CODES_HELP.replace(
    "translate --check, also: the outputs on disk are stale\n",
    "translate --check, also: the outputs on disk are stale; with audit: a\n"
    "     project does not translate (each is listed with its first error)\n")
# encrypt, decrypt and generate read no Codeship files: their exit codes speak of keys and files.
KEY_EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  the key or the input file is unusable (missing, not base64, the wrong
     key, not encrypted by jet); nothing was written
  2  usage error (unknown option, missing argument)
  3  the output file exists (pass --force) or cannot be written; nothing
     was written
"""

def _folder(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """DIRECTORY is a folder; a file given there was most likely meant for --services/--steps."""
    if _is_file(value):
        option = "--steps" if "steps" in value.name else "--services"
        raise click.BadParameter(f"'{value}' is a file, not a folder: to read it as the "
                                 f"{option.strip('-')} file, pass `{option} {value}`", ctx, param)
    return value


def _is_file(path: Path) -> bool:
    """Path.is_file, False for a name the system refuses (too long, …) as for a missing one."""
    try:
        return path.is_file()
    except OSError:
        return False


_dir_arg = click.argument("directory", required=False, default=".", callback=_folder,
                          type=click.Path(path_type=Path))
_services_opt = click.option("--services", "services", type=click.Path(dir_okay=False, path_type=Path),
                             help="The services file (default: codeship-services.yml, else "
                                  "docker-compose.yml, in DIRECTORY).")
_steps_opt = click.option("--steps", "steps", type=click.Path(dir_okay=False, path_type=Path),
                          help="The steps file (default: codeship-steps.yml, else codeship-steps.json).")
# The choices are model.VOLUMES_FROM_SCOPES (a test keeps them equal): --help does not import the core.
_scope_opt = click.option("--volumes-from-scope", type=click.Choice(["step", "build"]), default="step",
                          show_default=True,
                          help="How long container-only volumes shared with volumes_from live: one step "
                               "(the Codeship volumes tutorial) or the whole run (what jet 2.x does).")


class _Main(click.Group):
    """A user error (errors.UserError) that no command handled is still reported as one: its
    message and hint, exit 1 (3 for outputs that cannot be written). Any other exception is a
    bug and keeps its traceback."""

    def invoke(self, ctx: click.Context):
        from .errors import UserError

        try:
            return super().invoke(ctx)
        except UserError as exc:
            from .outputs import OutputError
            from .reporters import user_error

            click.echo(user_error(exc), err=True)
            sys.exit(EXIT_OUTPUT if isinstance(exc, OutputError) else EXIT_INVALID)


@click.group(cls=_Main, epilog=MAIN_EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codeship2compose")
def main() -> None:
    """Translate a Codeship Pro build into Docker Compose.

    \b
    In the root of a Codeship Pro repository:
      codeship2compose translate        # writes compose.yaml + codeship-steps.sh
      docker compose up                 # the services, for local work
      ./codeship-steps.sh --list        # the steps and which ones would run
      ./codeship-steps.sh --tag master  # run the steps like `jet steps --tag master`

    \b
    With many repositories, take stock of them all first:
      codeship2compose audit ~/src      # every Codeship project under ~/src
    """


@main.command(epilog=EXIT_CODES_HELP)
@_dir_arg
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the outputs (default: next to the services file, so that relative "
                   "paths need no rewriting).")
@click.option("--force", is_flag=True, help="Overwrite output files that codeship2compose did not write, "
                                           "or that were edited by hand since it wrote them (a symbolic link "
                                           "is replaced, never written through; an input, a directory or a "
                                           "FIFO never).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors: write nothing and exit 1.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a migration report: every key with what became of it, and the manual tasks "
                   "left to you. Written also when the translation fails.")
@click.option("--report-format", type=click.Choice(["markdown", "json"]),
              help="The report's format (default: json for a .json file, else markdown).")
@click.option("--check", is_flag=True,
              help="Write nothing: exit 0 when the outputs on disk are what translate would write "
                   "now, 1 (listing the stale files) when not. For pre-commit hooks and CI.")
@click.option("--ci", "ci", type=click.Choice(["github", "gitlab"]), multiple=True,
              help="Also write a CI pipeline that runs the steps as jobs: github writes "
                   ".github/workflows/codeship.yml (codeship-FOLDER.yml for a project in a folder of "
                   "the repository), gitlab .gitlab-ci.yml, at the root of the git repository (else "
                   "next to the outputs). Repeatable. A build runs on one runner, as on Codeship, each "
                   "top-level step shown on its own.")
@click.option("--ci-fanout", is_flag=True,
              help="With --ci: run the branches of parallel groups as jobs on runners of their own (more "
                   "runner starts; the checkout travels between jobs as an artifact).")
@_services_opt
@_steps_opt
@_scope_opt
def translate(directory: Path, out_dir: Path | None, force: bool, strict: bool, report_path: Path | None,
              report_format: str | None, check: bool, ci: tuple[str, ...], ci_fanout: bool, services: Path | None,
              steps: Path | None, volumes_from_scope: VolumesFromScope) -> None:
    """Write compose.yaml and codeship-steps.sh for the project in DIRECTORY (default: here).

    Also compose.override.yaml when there is something only `docker compose up` uses (published
    ports; step-only helpers held back with the profile `steps`); the script never reads it.
    All files are written or none is; a file that codeship2compose did not write, or one edited
    by hand since it wrote it, is never replaced unless --force. Warnings and errors go to stderr
    as FILE:LINE:COL: level[CODE]: ...
    """
    from . import reporters
    from .api import translate as run_translate
    from .outputs import OutputError, refuse_report_path, stamp, write_outputs
    from .paths import for_command
    from .shell import word

    if check and report_path:
        raise click.UsageError("--check compares the outputs and writes nothing: leave out --report")
    if ci_fanout and not ci:
        raise click.UsageError("--ci-fanout shapes the CI pipelines: give --ci github or --ci gitlab too")
    result = run_translate(directory, out_dir, services, steps, volumes_from_scope, report=bool(report_path),
                           ci=ci, ci_fanout=ci_fanout)
    click.echo(reporters.TextReporter().diagnostics(result.diagnostics), err=True, nl=False)
    failed = reporters.failed(result, strict)
    if check:
        _check_outputs(result, failed, strict)
        return
    outputs = {} if failed else dict(result.outputs)
    try:
        if report_path and result.report is not None:
            refuse_report_path(report_path, result.reserved, result.inputs)
            fmt = report_format or ("json" if report_path.suffix == ".json" else "markdown")
            outputs[report_path] = stamp(reporters.REPORT_FORMATS[fmt](result.report))
        removed = write_outputs(outputs, force=force, modes=result.modes, stale=[] if failed else result.stale,
                                bounds=result.bounds, inputs=result.inputs)
    except OutputError as exc:
        _output_failed(exc)
    if failed:
        wrote = bool(report_path and report_path in outputs)
        if wrote:
            click.echo(reporters.wrote(report_path, "the migration report"), err=True)
        click.echo(reporters.fail_summary(result.diagnostics, strict, "nothing else was written" if wrote else
                                          "nothing was written"), err=True)
        sys.exit(EXIT_INVALID)
    for path in outputs:
        click.echo(reporters.wrote(path), err=True)
    for path in removed:
        click.echo(reporters.wrote(path).replace("wrote", "removed", 1) +
                   " (written by an earlier translation; nothing needs it now)", err=True)
    project = result.project
    assert project is not None
    script = next(p for p in outputs if p.suffix == ".sh")
    _next_steps(result, word(for_command(script)), report_path if report_path in outputs else None)
    _local_summary(result, script.parent)
    _ci_setup(result)


def _ci_setup(result) -> None:
    """What to set up on each platform before the first CI run (also in the files' header; each
    item one line of plain text, ci.render made sure)."""
    names = {"github": "GitHub", "gitlab": "GitLab"}
    for platform, items in result.ci_setup.items():
        if not items:
            continue
        click.echo(f"Set up on {names[platform]} before the first run:", err=True)
        for n, item in enumerate(items, 1):
            click.echo(f"  {n}. {item}", err=True)


def _next_steps(result, script: str, report: Path | None) -> None:
    """The counts, then what to do next for this project, in order (next_steps computes them)."""
    import os

    from . import reporters
    from .next_steps import next_steps

    project = result.project
    report_tasks = len(getattr(result.report, "manual_tasks", []) or [])
    steps = next_steps(project, script, os.environ, warnings=len(result.diagnostics),
                       report=str(report) if report else None, manual_tasks=report_tasks)
    from .model import count_steps

    click.echo(reporters.translated(len(project.services), count_steps(project.steps), steps), err=True)


def _local_summary(result, out_dir: Path) -> None:
    """What `docker compose up` starts, and where to reach it."""
    from .localdev import compose_command, other_compose_files, summary
    from .paths import for_command
    from .shell import word

    local = result.local
    if local is None:
        return
    compose = compose_command(bool(local.document), other_compose_files(out_dir))
    here = for_command(out_dir)
    where = "" if here in ("./", "./.") else f" in {word(here.removeprefix('./'))}"
    for line in summary(local, compose, where):
        click.echo(line, err=True)


def _check_outputs(result, failed: bool, strict: bool) -> None:
    from . import reporters
    from .outputs import OutputError, locked, stale_outputs

    if failed:
        click.echo(reporters.fail_summary(result.diagnostics, strict, "nothing was written"), err=True)
        sys.exit(EXIT_INVALID)
    try:
        with locked(sorted(set(result.bounds.values())), shared=True):
            stale = stale_outputs(result.outputs, result.stale)
    except OutputError as exc:
        click.echo(reporters.user_error(exc, exc.path), err=True)
        sys.exit(EXIT_OUTPUT)
    click.echo(reporters.freshness(stale, list(result.outputs)), err=True)
    if stale:
        sys.exit(EXIT_INVALID)


@main.command(epilog=EXIT_CODES_HELP)
@_dir_arg
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
              show_default=True, help="text for people, json for tools, github for Actions annotations, "
                                      "sarif for GitHub code scanning.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@_services_opt
@_steps_opt
@_scope_opt
def check(directory: Path, fmt: str, strict: bool, services: Path | None, steps: Path | None,
          volumes_from_scope: VolumesFromScope) -> None:
    """Validate the Codeship files in DIRECTORY, like `jet validate`, printing every diagnostic.

    Writes nothing.
    """
    from .api import check as run_check
    from .reporters import REPORTERS, failed

    result = run_check(directory, services, steps, volumes_from_scope)
    click.echo(REPORTERS[fmt]().render(result, strict), nl=False)
    if failed(result, strict):
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("code", required=False)
@click.option("--list", "list_codes", is_flag=True, help="List every code with its level and title.")
def explain(code: str | None, list_codes: bool) -> None:
    """Explain a diagnostic CODE (like C2C205): what it means, why, and how to fix it.

    `explain --list` lists every code.
    """
    from .catalogue import CATALOGUE, CODES
    from .examples import explain as explain_code

    if list_codes:
        if code:
            raise click.UsageError("give a CODE or --list, not both")
        for entry in CODES:
            click.echo(f"{entry.code}  {entry.level!s:<7}  {entry.title}")
        click.echo(f"\n{_diagnostics_page()}")
        return
    if not code:
        raise click.UsageError("Missing argument 'CODE' (or --list for every code)")
    code = code.strip().upper()
    if code not in CATALOGUE:
        hint = "codes look like C2C205; `codeship2compose explain --list` lists every one"
        if code.isdigit() and f"C2C{code.zfill(3)}" in CATALOGUE:
            hint = f"did you mean C2C{code.zfill(3)}?"
        raise click.UsageError(f"unknown diagnostic code {code!r} ({hint})")
    click.echo(explain_code(code, every=_diagnostics_page()), nl=False)


def _diagnostics_page() -> str:
    """Where to read every code: the published page when the package names its repository or
    documentation (pyproject's [project.urls]), else the commands that show them."""
    from importlib import metadata

    try:
        urls = metadata.metadata("codeship2compose").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    labelled = {label.strip().lower(): url.strip() for label, _, url in (u.partition(",") for u in urls)}
    for label in ("repository", "source", "homepage"):
        url = labelled.get(label, "")
        if url.startswith("https://github.com/") or url.startswith("https://gitlab.com/"):
            return f"Every code, with examples: {url.rstrip('/')}/blob/HEAD/docs/diagnostics.md"
    if "documentation" in labelled:
        return f"Every code, with examples: {labelled['documentation']} (the diagnostics page)"
    return ("Every code: `codeship2compose explain --list`; each one with its example: "
            "`codeship2compose explain CODE` (the page docs/diagnostics.md of the source holds them all)")


@main.command("init-example")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init_example(directory: Path) -> None:
    """Write a tiny Codeship Pro project into DIRECTORY (new or empty), to try the tool on.

    \b
    Then:
      codeship2compose translate DIRECTORY
      DIRECTORY/codeship-steps.sh --list
      DIRECTORY/codeship-steps.sh            # needs Docker with Compose v2
    """
    from .example import FILES
    from .paths import for_command
    from .reporters import error_text
    from .shell import word

    try:
        if directory.exists() and any(directory.iterdir()):
            click.echo(error_text("is not empty; nothing was written", directory,
                                  "give a new folder; to translate your own project, run "
                                  "`codeship2compose translate` in its repository"), err=True)
            sys.exit(EXIT_OUTPUT)
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in FILES.items():
            (directory / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(error_text(f"cannot write: {exc.strerror or exc}", directory), err=True)
        sys.exit(EXIT_OUTPUT)
    here = word(for_command(directory).rstrip("/"))
    click.echo(f"wrote a Codeship Pro example project in {directory} ({', '.join(FILES)})\n"
               f"Next: `codeship2compose translate {here}`, then `{here}/codeship-steps.sh --list`", err=True)


AUDIT_EPILOG = """\b
Examples:
  codeship2compose audit ~/src                 # every repository checked out under ~/src
  codeship2compose audit repo-a repo-b         # several roots
  codeship2compose audit --format json | jq '.projects[] | select(.outcome == "failed") | .path'
  codeship2compose audit -o audit.md           # a Markdown report to share
  codeship2compose audit --key-path codeship.aes  # with each project's own key: the
                                               # variable names in its encrypted files

\b
Outcomes: translated (nothing left to do by hand), manual (translates, with
manual tasks), failed (`translate` in that folder exits 1; its first error is
listed). The JSON shape is in docs/audit.md.

\b
Exit codes:
  0  every project translates (some may have manual tasks)
  1  at least one project fails to translate (each is listed with its first error)
  2  usage error (a ROOT that is not a folder, an unusable key)
  3  the --output file could not be written (a file not written by this tool is
     in the way, or an I/O error); nothing was changed
"""


@main.command(epilog=AUDIT_EPILOG)
@click.argument("roots", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              help="text for people (default), json for scripts, markdown for a report to share "
                   "(default with --output: json for a .json file, markdown for .md, else text).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the audit to this file instead of standard output (atomically; never over a "
                   "file codeship2compose did not write).")
@click.option("--force", is_flag=True, help="With --output: overwrite the file even if codeship2compose did "
                                           "not write it.")
@click.option("--key-path", type=click.Path(dir_okay=False, path_type=Path),
              help="An AES key file: list the variable names (never the values) inside the encrypted files. "
                   "A relative path is looked for in each project's folder first (each project has its own "
                   "key), then here. CODESHIP_AES_KEY, if set, is one key for every project.")
def audit(roots: tuple[Path, ...], fmt: str | None, output: Path | None, force: bool,
          key_path: Path | None) -> None:
    """Inventory every Codeship project under the ROOT folders (default: here).

    For a team with many repositories: check them all out under one folder and audit it
    before translating any. A project is a folder with a services file and a steps file
    (any name translate accepts), at any depth, several per repository included; .git,
    node_modules, vendor and the like are skipped and no symlink out of a ROOT is
    followed. Each project is translated in memory: nothing is written under the ROOTs.

    Prints one line per project (outcome, steps, services, keys converted / with a
    caveat / unsupported, manual tasks, encrypted files and values, CI runner starts),
    the totals, the manual tasks grouped by kind, the secrets to re-create (which
    services and steps use each) and the projects that fail.
    """
    from .audit import AuditError
    from .audit import audit as run_audit
    from .audit.render import FORMATS, failures, shown

    if fmt is None:
        suffix = output.suffix.lower() if output else ""
        fmt = "json" if suffix == ".json" else "markdown" if suffix in (".md", ".markdown") else "text"
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        result = run_audit(list(roots) or [Path(".")], key_path, progress=progress)
    except AuditError as exc:
        raise click.UsageError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None
    finally:
        if progress:
            progress.clear()
    rendered = FORMATS[fmt](result)
    if output is None:
        click.echo(rendered, nl=False)
    else:
        _write_audit(output, rendered, fmt, force, {f: w for p in result.projects for f, w in p.inputs.items()})
    if output is not None or fmt != "text":  # the text on stdout lists them already
        for line in failures(result):
            click.echo(line, err=True)
    if not result.projects:  # an empty table alone looks like a wrong folder that went unnoticed
        click.echo(f"found no Codeship project under {', '.join(shown(r) for r in result.roots)} (a project is a "
                   "folder with a services file and a steps file, like codeship-services.yml and "
                   "codeship-steps.yml)", err=True)
    if result.failed:
        sys.exit(EXIT_INVALID)


class _Progress:
    """`[12/300] path`, rewritten in place on a terminal's stderr, at most ten times a second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.width = 0

    def __call__(self, done: int, total: int, path: str) -> None:
        import shutil
        import time

        from .audit.render import shown

        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        columns = shutil.get_terminal_size().columns - 1
        text = f"auditing [{done}/{total}] {shown(path)}"[:columns]
        click.echo("\r" + text.ljust(self.width), err=True, nl=False)
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            click.echo("\r" + " " * self.width + "\r", err=True, nl=False)


def _write_audit(path: Path, text: str, fmt: str, force: bool, inputs: dict[Path, str]) -> None:
    """Write the audit like the other outputs (outputs.write_outputs: atomic; with a checksum
    line; never over a file this tool did not write, or one edited since, unless --force; never
    over an audited project's services or steps file, even with --force)."""
    from .audit.render import GENERATOR
    from .outputs import OutputError, stamp, write_outputs
    from .reporters import wrote

    if fmt == "text":  # json and markdown name their generator themselves
        text = f"# {GENERATOR}\n{text}"
    try:
        write_outputs({path: stamp(text)}, force=force, inputs=inputs)
    except OutputError as exc:
        _output_failed(exc)
    click.echo(wrote(path, "the audit"), err=True)


def _output_failed(exc) -> NoReturn:
    """An output could not be written (outputs.OutputError): what, whether anything changed, exit 3."""
    from .reporters import user_error

    said = {None: "; nothing was written", False: "; nothing was changed"}.get(exc.changed, "")
    click.echo(user_error(exc, exc.path, said), err=True)
    sys.exit(EXIT_OUTPUT)


_key_opt = click.option("--key-path", type=click.Path(dir_okay=False, path_type=Path), default="codeship.aes",
                        show_default=True,
                        help="The project's AES key file (base64). The CODESHIP_AES_KEY variable, if set, "
                             "is used instead.")


@main.command(epilog=KEY_EXIT_CODES_HELP)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@_key_opt
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
def encrypt(source: Path, target: Path, key_path: Path, force: bool) -> None:
    """Encrypt SOURCE into TARGET like `jet encrypt` (the v2 format, with a checksum).

    \b
    Example: codeship2compose encrypt .env .env.encrypted
    """
    from . import codeship_aes

    _require_cryptography()
    key = _load_key(key_path)
    _write_secret_output(target, codeship_aes.encrypt(source.read_bytes(), key), force, mode=0o644)


@main.command(epilog=KEY_EXIT_CODES_HELP)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@_key_opt
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
def decrypt(source: Path, target: Path, key_path: Path, force: bool) -> None:
    """Decrypt SOURCE (jet's v1 or v2 format) into TARGET ('-' for standard output).

    A wrong key is reported, never written out as garbage: v2 files carry a checksum; for v1 files
    the result must look like an env file or JSON. TARGET is created with mode 0600.
    """
    from . import codeship_aes

    _require_cryptography()
    key = _load_key(key_path)
    try:
        plain = codeship_aes.decrypt_checked(source.read_bytes(), key, str(source))
    except codeship_aes.AesError as exc:
        _aes_fail(exc, source)
    if str(target) == "-":
        click.get_binary_stream("stdout").write(plain)  # type: ignore[operator]  # click types it as object
        return
    _write_secret_output(target, plain, force, mode=0o600)


@main.command(epilog=KEY_EXIT_CODES_HELP)
@_key_opt
@click.option("--force", is_flag=True, help="Replace an existing key file (files encrypted with it can no "
                                           "longer be decrypted).")
def generate(key_path: Path, force: bool) -> None:
    """Write a new random AES key (like `jet generate`), for encrypting files locally.

    A build that must read files encrypted on Codeship needs the project's own key instead
    (Project Settings > General).
    """
    from . import codeship_aes

    # the hint searches the key's folder for .encrypted files: only when a key is in the way
    hint = _key_exists_hint(key_path) if key_path.exists() and not force else ""
    _write_secret_output(key_path, codeship_aes.generate_key().encode(), force, mode=0o600, exists_hint=hint)


def _key_exists_hint(key_path: Path) -> str:
    """What an existing key is worth, said before --force: in a repository moving from Codeship it
    is the project's key, and the only one that decrypts its `.encrypted` files."""
    encrypted = _encrypted_files(key_path.parent if str(key_path.parent) else Path("."))
    n = f"{len(encrypted)}{'+' if len(encrypted) >= 20 else ''}"
    what = (f"{n} `.encrypted` files here (e.g. {encrypted[0]}) need the key they were encrypted with, likely "
            "this one" if len(encrypted) > 1 else f"{encrypted[0]} needs the key it was encrypted with, likely "
            "this one" if encrypted else
            "in a repository moving from Codeship it is the project's key, the only one that decrypts its "
            "`.encrypted` files")
    return f"keep this key: {what}; back it up before passing --force, or give another --key-path"


def _encrypted_files(root: Path, limit: int = 20) -> list[str]:
    """Up to `limit` `*.encrypted` files under root (hidden folders and node_modules skipped)."""
    import os

    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        found += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files) if f.endswith(".encrypted")]
        if len(found) >= limit:
            break
    return found[:limit]


def _require_cryptography() -> None:
    from . import codeship_aes, reporters

    try:
        codeship_aes.require_cryptography()
    except codeship_aes.AesError as exc:
        click.echo(reporters.user_error(exc), err=True)
        sys.exit(EXIT_INVALID)


def _load_key(key_path: Path) -> bytes:
    from . import codeship_aes

    try:
        return codeship_aes.load_key(key_path)
    except codeship_aes.AesError as exc:
        import os

        # the variable wins over the file: its error names the variable, not the file
        _aes_fail(exc, None if codeship_aes.ENV_VAR in os.environ else key_path)
        raise  # pragma: no cover - _aes_fail exits


def _aes_fail(exc, path: Path | None) -> None:
    from .reporters import error_text

    message = exc.message if path is None or str(exc.message).startswith(str(path)) else f"{path}: {exc.message}"
    click.echo(error_text(message, hint=exc.hint), err=True)
    sys.exit(EXIT_INVALID)


def _write_secret_output(target: Path, data: bytes, force: bool, mode: int,
                         exists_hint: str = "pass --force to replace it") -> None:
    import os
    import tempfile

    from .reporters import error_text, wrote

    if target.exists() and not force:
        click.echo(error_text("exists; nothing was written", target, exists_hint), err=True)
        sys.exit(EXIT_OUTPUT)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        click.echo(error_text(f"cannot write: {exc.strerror or exc}", target), err=True)
        sys.exit(EXIT_OUTPUT)
    click.echo(wrote(target), err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
