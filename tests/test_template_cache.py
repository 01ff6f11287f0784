"""The compiled-template cache: per user, where XDG_CACHE_HOME says, and never in the way."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO
from helpers import write_project

from translator import __version__


def _translate(project, **env):
    return subprocess.run([sys.executable, "-m", "translator", "translate", str(project)], capture_output=True,
                          text=True, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **env})


def test_compiled_templates_go_to_xdg_cache_home(tmp_path):
    project = write_project(tmp_path / "p", "app:\n  image: busybox\n")
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    out = _translate(project, HOME=str(home), XDG_CACHE_HOME=str(cache))
    assert out.returncode == 0, out.stderr
    assert list((cache / "codeship2compose" / __version__).iterdir())  # the compiled templates
    assert list(home.iterdir()) == []
    out = _translate(project, HOME=str(home))  # without XDG_CACHE_HOME: ~/.cache
    assert out.returncode == 0, out.stderr
    assert list((home / ".cache" / "codeship2compose" / __version__).iterdir())


def test_an_unusable_cache_only_costs_speed(tmp_path):
    project = write_project(tmp_path / "p", "app:\n  image: busybox\n")
    (tmp_path / "not-a-dir").write_text("")
    out = _translate(project, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "not-a-dir"))
    assert out.returncode == 0, out.stderr
    assert (project / "codeship-steps.sh").is_file()
