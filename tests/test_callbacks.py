"""Codeship: "containers are bidirectionally discoverable". A dependency (a Selenium browser, a
webhook sender) reaches the step's container by its service name, as the step reaches it."""

from __future__ import annotations

import pytest

from e2e_support import make_project, run_script

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("no_leftovers")]


@pytest.fixture(scope="module")
def callback_project(tmp_path_factory):
    services = {
        # Waits for the step to knock, then calls it back by the step's service name.
        "browser": {"image": "busybox", "command": [
            "sh", "-c", "nc -l -p 9001 >/dev/null; until echo called-back | nc app 9000; do sleep 0.2; done"]},
        "app": {"image": "busybox", "depends_on": ["browser"]},
    }
    # The step listens, knocks at the dependency, and prints what came back (nothing after 60 s:
    # it breaks as soon as the answer is there; a loaded 2-core host once needed more than 10 s).
    steps = [{"name": "callback", "service": "app", "command": [
        "sh", "-c", "nc -l -p 9000 >/tmp/got & until echo knock | nc browser 9001; do sleep 0.2; done; "
                    "for i in $(seq 600); do test -s /tmp/got && break; sleep 0.1; done; cat /tmp/got"]}]
    return make_project(tmp_path_factory.mktemp("callback"), services, steps)


def test_a_dependency_reaches_the_step_container_by_its_service_name(callback_project, compose):
    run = run_script(callback_project, compose, "--stop-timeout", "0")
    assert run.returncode == 0, run
    assert run.said("callback", "app") == ["called-back"], run
