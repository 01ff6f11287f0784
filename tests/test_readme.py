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
