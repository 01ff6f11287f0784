"""The docs stay true: the conversion matrix is generated from the translator's rule table, and
the README links every docs page, with links that resolve."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MATRIX_PAGE = ROOT / "docs" / "migration.md"


def test_conversion_matrix_is_current():
    spec = importlib.util.spec_from_file_location("update_conversion_matrix", ROOT / "scripts" /
                                                  "update_conversion_matrix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = MATRIX_PAGE.read_text(encoding="utf-8")
    assert module.with_matrix(text) == text, "run: python3 scripts/update_conversion_matrix.py"
    assert "| `volumes_from` | converted with a caveat |" in text


def _links(page: Path) -> list[str]:
    import re

    return [target for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
            if not target.startswith(("http://", "https://", "#"))]


def test_the_readme_is_a_storefront_that_links_every_docs_page():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250
    linked = {(README.parent / target.split("#")[0]).resolve() for target in _links(README)}
    pages = {page.resolve() for page in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set(), "link these docs pages from the README"


def test_every_relative_link_in_the_readme_and_docs_resolves():
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in _links(page):
            assert (page.parent / target.split("#")[0]).exists(), f"{page.name}: {target}"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(title)
    return text[start:text.index("\n#", start + len(title))]


def test_the_use_section_starts_with_audit_for_many_repositories():
    use = _section("## Use")
    first_command = use[use.index("```sh"):].splitlines()[1]
    assert first_command.startswith("codeship2compose audit")


def test_the_ci_section_lists_the_set_up_in_the_order_translate_prints_it():
    """The README's CI section says what to set up, per platform and plan, in the order a team
    does it: the order and the names are those of translator/ci/setup.py and the generated files."""
    from translator.ci import gitlab
    from translator.ci.github import APPROVERS_VARIABLE

    ci = _section("### Your new CI")
    order = [ci.index(f"{n}. **{word}") for n, word in enumerate(["Runner", "The AES key", "The approval gate",
                                                                    "Registry logins"], 1)]
    assert order == sorted(order)
    for name in (gitlab.DOCKER_MODE_VAR, gitlab.SECRETS_ENVIRONMENT, gitlab.APPROVAL_ENVIRONMENT,
                 APPROVERS_VARIABLE, "CODESHIP_AES_KEY"):
        assert f"`{name}" in ci, name
    assert "Enterprise" in ci and "Premium" in ci and "Free" in ci  # what each plan gives


def test_the_readme_names_where_each_ci_file_goes():
    from translator.ci.plan import GITHUB_PATH

    assert f"`{GITHUB_PATH}`" in _section("### Your new CI") and "codeship-FOLDER.yml" in _section("### Your new CI")
