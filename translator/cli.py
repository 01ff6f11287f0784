"""Command line: the only module that prints or exits. The core is imported lazily, inside the
commands, so that `--help` costs no more than click itself."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_OUTPUT = 0, 1, 2, 3

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (warnings may have been printed)
  1  the Codeship files are invalid (or have warnings, with --strict); with
     translate --check, also: the outputs on disk are stale
  2  usage error (unknown option, missing argument)
  3  the outputs could not be written (a file not written by this tool, or
     edited by hand since, is in the way, or an I/O error); nothing was changed
"""

_dir_arg = click.argument("directory", required=False, default=".",
                          type=click.Path(file_okay=False, path_type=Path))
_services_opt = click.option("--services", "services", type=click.Path(dir_okay=False, path_type=Path),
                             help="The services file (default: codeship-services.yml, else "
                                  "docker-compose.yml, in DIRECTORY).")
_steps_opt = click.option("--steps", "steps", type=click.Path(dir_okay=False, path_type=Path),
                          help="The steps file (default: codeship-steps.yml, else codeship-steps.json).")
_scope_opt = click.option("--volumes-from-scope", type=click.Choice(["step", "build"]), default="step",
                          show_default=True,
                          help="How long container-only volumes shared with volumes_from live: one step "
                               "(the Codeship volumes tutorial) or the whole run (what jet 2.x does).")


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codeship2compose")
def main() -> None:
    """Translate a Codeship Pro build into Docker Compose.

    \b
    In the root of a Codeship Pro repository:
      codeship2compose translate        # writes compose.yaml + codeship-steps.sh
      docker compose up                 # the services, for local work
      ./codeship-steps.sh --list        # the steps and which ones would run
      ./codeship-steps.sh --tag master  # run the steps like `jet steps --tag master`
    """


@main.command(epilog=EXIT_CODES_HELP)
@_dir_arg
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the outputs (default: next to the services file, so that relative "
                   "paths need no rewriting).")
@click.option("--force", is_flag=True, help="Overwrite output files that codeship2compose did not write, "
                                           "or that were edited by hand since it wrote them.")
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
                   ".github/workflows/codeship.yml, gitlab .gitlab-ci.yml, at the root of the git "
                   "repository (else next to the outputs). Repeatable.")
@_services_opt
@_steps_opt
@_scope_opt
def translate(directory: Path, out_dir: Path | None, force: bool, strict: bool, report_path: Path | None,
              report_format: str | None, check: bool, ci: tuple[str, ...], services: Path | None,
              steps: Path | None, volumes_from_scope: str) -> None:
    """Write compose.yaml and codeship-steps.sh for the project in DIRECTORY (default: here).

    Both files are written or neither is; a file that codeship2compose did not write, or one
    edited by hand since it wrote it, is never replaced unless --force. Warnings and errors go
    to stderr as FILE:LINE:COL: level[CODE]: ...
    """
    from .api import translate as run_translate
    from .emit import OutputError, write_outputs

    if check and report_path:
        raise click.UsageError("--check compares the outputs and writes nothing: leave out --report")
    result = run_translate(directory, out_dir, services, steps, volumes_from_scope, report=bool(report_path),
                           ci=ci)
    _print_diagnostics(result.diagnostics)
    failed = not result.ok or (strict and result.diagnostics)
    if check:
        _check_outputs(result, failed, strict)
        return
    outputs = {} if failed else dict(result.outputs)
    if report_path and result.report is not None:
        from .report import to_json, to_markdown

        fmt = report_format or ("json" if report_path.suffix == ".json" else "markdown")
        outputs[report_path] = (to_json if fmt == "json" else to_markdown)(result.report)
    try:
        write_outputs(outputs, force=force, modes=result.modes)
    except OutputError as exc:
        click.echo(f"{exc.path}: error: {exc.message}; nothing was written\n  hint: {exc.hint}", err=True)
        sys.exit(EXIT_OUTPUT)
    except OSError as exc:
        click.echo(f"error: cannot write the outputs: {exc}; nothing was changed", err=True)
        sys.exit(EXIT_OUTPUT)
    if failed:
        wrote = bool(report_path and report_path in outputs)
        if wrote:
            click.echo(f"wrote {report_path} (the migration report)", err=True)
        _fail_summary(result.diagnostics, strict, wrote=wrote)
        sys.exit(EXIT_INVALID)
    for path in outputs:
        click.echo(f"wrote {path}", err=True)
    project = result.project
    assert project is not None
    script = next(p for p in outputs if p.suffix == ".sh")
    click.echo(f"{len(project.services)} services, {_count_steps(project)} steps. Next: "
               f"`{_shell_path(script)} --list`, then `{_shell_path(script)}` to run them.", err=True)


def _check_outputs(result, failed: bool, strict: bool) -> None:
    from .emit import stale_outputs

    if failed:
        _fail_summary(result.diagnostics, strict)
        sys.exit(EXIT_INVALID)
    stale = stale_outputs(result.outputs)
    for path, why in stale.items():
        click.echo(f"{path}: stale ({why})", err=True)
    if stale:
        click.echo(f"failed: {len(stale)} of {len(result.outputs)} outputs differ from what translate would "
                   "write now; nothing was written\n  hint: run `codeship2compose translate` (with --force "
                   "for a file edited by hand) and commit the result", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"up to date: {', '.join(str(p) for p in result.outputs)}", err=True)


@main.command(epilog=EXIT_CODES_HELP)
@_dir_arg
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="text for people, json for tools, github for Actions annotations.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@_services_opt
@_steps_opt
@_scope_opt
def check(directory: Path, fmt: str, strict: bool, services: Path | None, steps: Path | None,
          volumes_from_scope: str) -> None:
    """Validate the Codeship files in DIRECTORY, like `jet validate`, printing every diagnostic.

    Writes nothing.
    """
    from .api import check as run_check

    result = run_check(directory, services, steps, volumes_from_scope)
    if fmt == "json":
        import json

        click.echo(json.dumps([d.as_dict() for d in result.diagnostics], indent=2))
    elif fmt == "github":
        for d in result.diagnostics:
            loc = d.loc
            where = f" file={loc.file},line={loc.line},col={loc.col}" if loc and loc.line else (
                f" file={loc.file}" if loc else "")
            message = d.message + (f" (hint: {d.hint})" if d.hint else "")
            click.echo(f"::{d.level}{where},title={d.code}::{_gh_escape(message)}")
    else:
        _print_diagnostics(result.diagnostics, err=False)
        if result.ok and not (strict and result.diagnostics):
            warnings = len(result.diagnostics)
            click.echo("ok: the Codeship files are valid" + (f" ({warnings} warnings)" if warnings else ""))
    if not result.ok or (strict and result.diagnostics):
        if fmt == "text":
            _fail_summary(result.diagnostics, strict, err=False)
        sys.exit(EXIT_INVALID)


_key_opt = click.option("--key-path", type=click.Path(dir_okay=False, path_type=Path), default="codeship.aes",
                        show_default=True,
                        help="The project's AES key file (base64). The CODESHIP_AES_KEY variable, if set, "
                             "is used instead.")


@main.command(epilog=EXIT_CODES_HELP)
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

    key = _load_key(key_path)
    _write_secret_output(target, codeship_aes.encrypt(source.read_bytes(), key), force, mode=0o644)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@_key_opt
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
def decrypt(source: Path, target: Path, key_path: Path, force: bool) -> None:
    """Decrypt SOURCE (jet's v1 or v2 format) into TARGET ('-' for standard output).

    A wrong key is reported, never written out as garbage: v2 files carry a checksum; for v1 files
    the result must look like an env file or JSON. TARGET is created with mode 0600.
    """
    import json

    from . import codeship_aes

    key = _load_key(key_path)
    data = source.read_bytes()
    try:
        plain = codeship_aes.decrypt(data, key)
        if codeship_aes.detect_version(data) == 1 and not codeship_aes.looks_like_env_file(plain):
            try:
                json.loads(plain)
            except ValueError:
                raise codeship_aes.AesError(
                    f"{source}: the decrypted bytes are neither KEY=value lines nor JSON: wrong AES key?",
                    "v1 files carry no checksum; check that the key is this project's codeship.aes") from None
    except codeship_aes.AesError as exc:
        _aes_fail(exc, source)
    if str(target) == "-":
        click.get_binary_stream("stdout").write(plain)
        return
    _write_secret_output(target, plain, force, mode=0o600)


@main.command(epilog=EXIT_CODES_HELP)
@_key_opt
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def generate(key_path: Path, force: bool) -> None:
    """Write a new random AES key (like `jet generate`), for encrypting files locally.

    A build that must read files encrypted on Codeship needs the project's own key instead
    (Project Settings > General).
    """
    from . import codeship_aes

    _write_secret_output(key_path, codeship_aes.generate_key().encode(), force, mode=0o600)


def _load_key(key_path: Path) -> bytes:
    from . import codeship_aes

    try:
        return codeship_aes.load_key(key_path)
    except codeship_aes.AesError as exc:
        _aes_fail(exc, key_path)
        raise  # pragma: no cover - _aes_fail exits


def _aes_fail(exc, path: Path) -> None:
    hint = f"\n  hint: {exc.hint}" if getattr(exc, "hint", "") else ""
    message = exc.message if str(exc.message).startswith(str(path)) else f"{path}: {exc.message}"
    click.echo(f"error: {message}{hint}", err=True)
    sys.exit(EXIT_INVALID)


def _write_secret_output(target: Path, data: bytes, force: bool, mode: int) -> None:
    import os
    import tempfile

    if target.exists() and not force:
        click.echo(f"{target}: error: exists; nothing was written\n  hint: pass --force to replace it", err=True)
        sys.exit(EXIT_OUTPUT)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        click.echo(f"{target}: error: cannot write: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_OUTPUT)
    click.echo(f"wrote {target}", err=True)


def _print_diagnostics(diagnostics, err: bool = True) -> None:
    for d in diagnostics:
        click.echo(d.format(), err=err)


def _fail_summary(diagnostics, strict: bool, err: bool = True, wrote: bool = False) -> None:
    errors = sum(1 for d in diagnostics if d.level == "error")
    warnings = len(diagnostics) - errors
    what = f"{errors} error(s)" + (f" and {warnings} warning(s) (--strict)" if strict and warnings else "")
    click.echo(f"failed: {what}; nothing else was written" if err and wrote else
               f"failed: {what}; nothing was written" if err else f"failed: {what}", err=err)


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _count_steps(project) -> int:
    from .model import GroupStep, walk

    return sum(1 for s in walk(project.steps) if not isinstance(s, GroupStep))


def _shell_path(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return f"./{rel}"
    except ValueError:
        return str(path)


if __name__ == "__main__":  # pragma: no cover
    main()
