"""Property tests: whatever the input, check and translate end in success or in diagnostics
with a location — never an exception.

CI runs 5,000 examples over the three properties; `C2C_HYPOTHESIS_PROFILE=long` runs 100,000
(a long session started by hand), `quick` 300.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translator.api import check, translate
from translator.rules import BUILD_RULES, SERVICE_RULES, STEP_KEYS
from translator.reporters import diagnostic_text

# Examples per run, over the three properties together: 5,000 in CI, 100,000 in the long mode.
TOTAL = {"ci": 5000, "long": 100_000, "quick": 300}[os.environ.get("C2C_HYPOTHESIS_PROFILE", "ci")]


def examples(share: float):
    return settings(max_examples=int(TOTAL * share), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Numbers of any length: Python's int() refuses text of more than 4,300 digits (issue 21).
DIGITS = st.integers(1, 6000).map(lambda n: "9" * n) | st.text(alphabet="0123456789", min_size=1, max_size=12) | \
    st.integers(4290, 4310).map(lambda n: "1" + "0" * n)
NAMES = st.sampled_from(["app", "db", "data", "web", "App.Web", "x" * 300, "ünï", "a b", "-dash", ""])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "$HOME", "'", '"', "`id`", "$(touch /tmp/c2c-canary)", "a:b:c", "./x:/y:ro", "/abs", "^x$", "{{ .Branch }}",
     "{{ .Nope }}", "x\x00y", "long-" * 2000]) | DIGITS.flatmap(lambda n: st.sampled_from([
         n, f"{n}:80", f"127.0.0.1:{n}:80", f"^a{{{n}}}$", f"^a{{1,{n}}}$", f'{{{{ printf "%.{n}s" .Branch }}}}']))
SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                     max_leaves=12)
SERVICE_KEYS = sorted(set(SERVICE_RULES) | {"unknown_key", "args"})


def service_value(key: str):
    if key in ("volumes", "volumes_from", "links", "depends_on"):
        return st.lists(NAMES | TEXT, max_size=4) | VALUE
    if key == "build":
        return TEXT | st.dictionaries(st.sampled_from(sorted(BUILD_RULES) + ["name"]), VALUE | TEXT, max_size=5)
    return VALUE


services_doc = st.dictionaries(
    NAMES,
    st.dictionaries(st.sampled_from(SERVICE_KEYS), st.just(None), max_size=8).flatmap(
        lambda keys: st.fixed_dictionaries({k: service_value(k) for k in keys})) | VALUE,
    max_size=5,
) | VALUE


def step_strategy():
    base = st.dictionaries(st.sampled_from(sorted(STEP_KEYS | {"tags", "image"})), st.just(None), max_size=6)

    def fill(keys, children):
        values = {}
        for k in keys:
            if k == "type":
                values[k] = st.sampled_from(["serial", "parallel", "push", "manual", "matrix", "bogus"]) | VALUE
            elif k in ("steps", "on_fail"):
                values[k] = st.lists(children, max_size=3) | VALUE
            elif k == "service":
                values[k] = NAMES | VALUE
            else:
                values[k] = TEXT | VALUE
        return st.fixed_dictionaries(values)

    leaf = st.just({"service": "app", "command": "true"})
    return st.recursive(base.flatmap(lambda keys: fill(keys, leaf)),
                        lambda children: base.flatmap(lambda keys: fill(keys, children)), max_leaves=8)


steps_doc = st.lists(step_strategy(), max_size=5) | VALUE

_DIR = Path(tempfile.mkdtemp(prefix="c2c-properties-"))


def assert_clean(result) -> None:
    for d in result.diagnostics:
        assert d.code.startswith("C2C") and d.message
        assert d.loc is not None and d.loc.file, diagnostic_text(d)
    if result.ok:
        assert {"compose.yaml", "codeship-steps.sh"} <= set(p.name for p in result.outputs) <= {
            "compose.yaml", "codeship-steps.sh", "compose.override.yaml"}


def write(services_text: str, steps_text: str) -> None:
    (_DIR / "codeship-services.yml").write_text(services_text, encoding="utf-8", errors="surrogatepass")
    (_DIR / "codeship-steps.yml").write_text(steps_text, encoding="utf-8", errors="surrogatepass")


@examples(0.5)
@given(services_doc, steps_doc)
def test_structured_documents_never_crash(services, steps):
    write(yaml.safe_dump(services, allow_unicode=True), yaml.safe_dump(steps, allow_unicode=True))
    assert_clean(translate(_DIR))  # check runs the same stages, minus rendering


VALID_SERVICES = "app:\n  image: busybox\n  links: [db]\ndb:\n  build:\n    context: .\n    args: {A: '{{ .Branch }}'}\n"
VALID_STEPS = "- type: parallel\n  steps:\n  - service: app\n    command: echo 'a b'\n    tag: ^master$\n"


@examples(0.35)
@given(st.integers(0, len(VALID_SERVICES)), st.text(max_size=6), st.integers(0, len(VALID_STEPS)),
       st.text(alphabet=string.printable, max_size=6))
def test_mutated_text_never_crashes(i, insert, j, insert2):
    write(VALID_SERVICES[:i] + insert + VALID_SERVICES[i:], VALID_STEPS[:j] + insert2 + VALID_STEPS[j:])
    assert_clean(translate(_DIR))


# Where a number from the user meets int(): ports (short and long form, plain YAML numbers),
# regex repeat counts, printf precisions in push tags and build args, plain YAML numbers anywhere.
NUMBER_SERVICES = [
    "app:\n  image: busybox\n  ports: ['{n}:80', '{n}', '1.2.3.4:{n}:80', '{n}-{n}:80']\n",
    "app:\n  image: busybox\n  ports: [{n}]\n  environment: {{A: {n}}}\n  cached: {n}\n",
    "app:\n  image: busybox\n  ports:\n    - target: {n}\n      published: {n}\n",
    "app:\n  build:\n    image: me/app\n    args: {{A: '{{{{ printf \"%.{n}s\" .Branch }}}}'}}\n",
]
NUMBER_STEPS = [
    "- service: app\n  tag: '^a{{{n}}}$'\n  command: 'true'\n",
    "- service: app\n  exclude: '^a{{1,{n}}}$'\n  command: {n}\n",
    "- service: app\n  type: push\n  image_name: me/app\n  image_tag: '{{{{ .CommitID | printf \"%.{n}s\" }}}}'\n"
    "  registry: {n}\n",
]
BASIC_SERVICES, BASIC_STEPS = "app:\n  image: busybox\n", "- service: app\n  command: 'true'\n"


@pytest.mark.parametrize("n", ["5", "0" * 5000 + "7", "9" * 4301, "1" + "0" * 10_000], ids=len)
@pytest.mark.parametrize("template", range(len(NUMBER_SERVICES) + len(NUMBER_STEPS)))
def test_numbers_of_any_length_get_a_diagnostic_not_a_traceback(tmp_path, template, n):
    services, steps = BASIC_SERVICES, BASIC_STEPS
    if template < len(NUMBER_SERVICES):
        services = NUMBER_SERVICES[template].format(n=n)
    else:
        steps = NUMBER_STEPS[template - len(NUMBER_SERVICES)].format(n=n)
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / "codeship-services.yml").write_text(services)
    (tmp_path / "codeship-steps.yml").write_text(steps)
    checked, result = check(tmp_path), translate(tmp_path)
    assert_clean(result)
    # translate keeps jet's behaviour for a tag that is no regex and only warns (C2C762), where check fails (C2C503)
    assert [(d.loc.line, d.loc.col, d.code) for d in checked.diagnostics] == [
        (d.loc.line, d.loc.col, "C2C503" if d.code == "C2C762" else d.code) for d in result.diagnostics]
    if len(n) > 4300 and not n.startswith("0"):  # too big for any of these places: said so
        assert result.diagnostics


@examples(0.05)
@given(st.sampled_from(NUMBER_SERVICES + NUMBER_STEPS), DIGITS)
def test_numbers_of_any_length_never_crash(template, digits):
    text = template.format(n=digits)
    services, steps = (text, BASIC_STEPS) if template in NUMBER_SERVICES else (BASIC_SERVICES, text)
    (_DIR / "Dockerfile").write_text("FROM busybox\n")
    write(services, steps)
    assert_clean(translate(_DIR))


@examples(0.1)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data):
    (_DIR / "codeship-services.yml").write_bytes(data)
    (_DIR / "codeship-steps.yml").write_text(VALID_STEPS)
    assert_clean(check(_DIR))
