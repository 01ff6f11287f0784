"""Two runs of the same script at once in one repository share no container, network or volume."""

from __future__ import annotations

import subprocess

import pytest

from helpers import translate_to_disk, write_project


@pytest.mark.docker
def test_two_runs_at_once_are_isolated(tmp_path):
    write_project(tmp_path, """\
        data:
          image: busybox
          volumes: [/shared]
        app:
          image: busybox
          volumes_from: [data]
        """, """\
        - name: write then read
          service: app
          command: sh -c 'echo $RUN_MARK > /shared/mark; sleep 2; cat /shared/mark'
        """)
    translate_to_disk(tmp_path)
    runs = [subprocess.Popen([str(tmp_path / "codeship-steps.sh"), "-e", f"RUN_MARK=run-{i}"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             stdin=subprocess.DEVNULL) for i in (1, 2)]
    outputs = [p.communicate(timeout=300)[0] for p in runs]
    for i, (proc, out) in enumerate(zip(runs, outputs), start=1):
        assert proc.returncode == 0, out
        # each run read back its own mark: the volume was not shared with the other run
        assert f"(service: app) (step: write then read) run-{i}" in out
        assert f"run-{3 - i}" not in out.replace(f"RUN_MARK=run-{3 - i}", "")
