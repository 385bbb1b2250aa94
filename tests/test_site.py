"""The companion site (scripts/build_site.py): it builds in mkdocs' strict mode, has its pages,
no local link or image of it is broken, and it loads nothing from the network.

The notebooks are built without being executed here (their execution is tests/test_notebooks.py).
Skips, naming the fix, only when mkdocs is not installed (the test extra installs it).
"""
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from dlbook.cli.sections import SECTION_LIST

REPO = Path(__file__).resolve().parents[1]

for module, why in (("mkdocs", "mkdocs"), ("material", "mkdocs-material"), ("mkdocs_jupyter", "mkdocs-jupyter")):
    pytest.importorskip(module, reason=f"{why} is not installed: pip install -e '.[docs]' (the test extra has it)")

PAGES = (["index.html", "index.zh.html", "figures.html", "errata.html", "errata.zh.html",
          "robustness.html", "design.html"]
         + [f"sections/{s.module}.html" for s in SECTION_LIST]
         + [f"{p.parent.relative_to(REPO / 'docs').as_posix()}/index.html"
            for p in (REPO / "docs" / "results").rglob("README.md")])


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.scripts = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag in ("script", "link", "img") and re.match(r"https?://", attrs.get("src") or
                                                         (attrs.get("href") if tag == "link" else "") or ""):
            self.scripts.append(attrs.get("src") or attrs.get("href"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "build_site.py"), "--no-execute", "--out", str(out)],
                         capture_output=True, text=True, cwd=tmp_path_factory.mktemp("cwd"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    return out


@pytest.mark.slow
def test_site_has_every_page(site):
    missing = [page for page in PAGES if not (site / page).is_file()]
    assert not missing
    index = (site / "index.html").read_text(encoding="utf-8")
    for section in SECTION_LIST:   # each section, findable by its Chinese heading
        assert section.title_zh in index and f"sections/{section.module}.html" in index
    assert "index.zh.html" in index and "index.html" in (site / "index.zh.html").read_text(encoding="utf-8")
    figures = (site / "figures.html").read_text(encoding="utf-8")
    shown = re.findall(r'<img [^>]*src="figures/(\w+)\.png"', figures)
    assert sorted(shown) == sorted(path.stem for path in (REPO / "docs" / "figures").glob("*.png"))


@pytest.mark.slow
def test_no_local_link_is_broken_and_nothing_comes_from_the_network(site):
    broken, remote = [], []
    for page in site.rglob("*.html"):
        if page.name == "404.html":   # a server's error page: its links are from the site's root
            continue
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        remote += [(page.name, url) for url in parser.scripts]
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:", "data:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if parts.path and not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
    assert not broken, "\n".join(broken[:20])
    assert not remote, remote[:5]


@pytest.mark.slow
def test_strict_mode_fails_on_a_broken_link(tmp_path):
    """The checks the site is built with catch a link to a page that does not exist."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# x\n\n[nowhere](nowhere.md)\n", encoding="utf-8")
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import build_site
    finally:
        sys.path.remove(str(REPO / "scripts"))
    config = build_site.mkdocs_yml([]).split("nav:")[0]
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(tmp_path / "mkdocs.yml"),
                          "-d", str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode != 0 and "nowhere.md" in run.stderr
