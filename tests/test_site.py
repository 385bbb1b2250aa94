"""The companion site (scripts/build_site.py): it builds in mkdocs' strict mode, has every page in
English and in Chinese (navigation and section prose in Chinese on the Chinese pages), no link,
image or anchor of it is broken, it names nothing of how the project was built, and it loads
nothing from the network.

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

PAGES = (["index.html", "figures.html", "errata.html", "robustness.html", "design.html"]
         + [f"sections/{s.module}.html" for s in SECTION_LIST]
         + [f"{p.parent.relative_to(REPO / 'docs').as_posix()}/index.html"
            for p in (REPO / "docs" / "results").rglob("README.md")])


CJK = re.compile(r"[\u4e00-\u9fff]")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.scripts, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])
        self.ids.update(attrs[name] for name in ("id", "name") if attrs.get(name))
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


def _build_site():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import build_site
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return build_site


def _parsed(page, cache={}):
    if page not in cache:
        cache[page] = Links()
        cache[page].feed(page.read_text(encoding="utf-8"))
    return cache[page]


@pytest.mark.slow
@pytest.mark.parametrize("root", ["", "zh/"])
def test_site_has_every_page_in_both_languages(site, root):
    missing = [root + page for page in PAGES if not (site / root / page).is_file()]
    assert not missing
    index = (site / root / "index.html").read_text(encoding="utf-8")
    for section in SECTION_LIST:   # each section, findable by its Chinese heading
        assert section.title_zh in index and f"sections/{section.module}.html" in index
    figures = (site / root / "figures.html").read_text(encoding="utf-8")
    shown = re.findall(r'<img [^>]*src="figures/(\w+)\.png"', figures)
    assert sorted(shown) == sorted(path.stem for path in (REPO / "docs" / "figures").glob("*.png"))


def _nav(page):
    """The labels of the site's navigation on a page (Material's primary navigation, up to the
    page's own table of contents)."""
    html = page.read_text(encoding="utf-8")
    nav = html[html.index('<nav class="md-nav md-nav--primary"'):html.index('<div class="md-sidebar md-sidebar--secondary"')]
    nav = re.sub(r'<nav class="md-nav md-nav--secondary".*?</nav>', "", nav, flags=re.S)   # the page's contents
    return [re.sub(r"<[^>]+>|\s+", " ", label).strip() for label in re.findall(r'<span class="md-ellipsis">(.*?)</span>', nav, re.S)]


@pytest.mark.slow
def test_chinese_pages_have_chinese_navigation_headings_and_prose(site):
    english, chinese = site / "sections" / "s1_10_4_mnist_mlp.html", site / "zh" / "sections" / "s1_10_4_mnist_mlp.html"
    assert '<html lang="zh"' in chinese.read_text(encoding="utf-8") and '<html lang="en"' in english.read_text(encoding="utf-8")
    labels = _nav(chinese)
    assert {"首页", "各节", "插图", "勘误", "健壮性", "设计"} <= set(labels), labels
    assert all(CJK.search(label) for label in labels), labels
    assert {"Home", "Sections", "Figures", "Errata", "Robustness", "Design"} <= set(_nav(english))
    for section in SECTION_LIST:   # every heading and every paragraph of the prose has Chinese in it
        html = (site / "zh" / "sections" / f"{section.module}.html").read_text(encoding="utf-8")
        prose = re.findall(r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>(.*?)</div>', html, re.S)
        headings = [re.sub(r"<[^>]+>", "", h) for part in prose for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", part, re.S)]
        assert headings and all(CJK.search(h) for h in headings), (section.number, headings)


@pytest.mark.slow
def test_every_page_switches_to_the_same_page_in_the_other_language(site):
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        if rel.endswith("404.html") or "/search/" in rel or not _parsed(page).links:
            continue
        other = rel[3:] if rel.startswith("zh/") else "zh/" + rel
        links = {(page.parent / link).resolve() for link in _parsed(page).links if not urlsplit(link).scheme}
        assert (site / other).resolve() in links, f"{rel}: no link to {other}"


def broken_links(site):
    """Every local link of the site's pages whose file or anchor is missing, and every remote resource."""
    broken, remote = [], []
    for page in site.rglob("*.html"):
        if page.name == "404.html":   # a server's error page: its links are from the site's root
            continue
        parser = _parsed(page)
        remote += [f"{page.name} loads {url}" for url in parser.scripts]
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parsed(target).ids:
                broken.append(f"{page.relative_to(site)} -> {link} (no such anchor)")
    return broken + remote


@pytest.mark.slow
def test_no_link_or_anchor_is_broken_and_nothing_comes_from_the_network(site):
    broken = broken_links(site)
    assert not broken, "\n".join(broken[:20])


@pytest.mark.slow
def test_no_page_says_how_the_project_was_built(site):
    words = re.compile(r"\b(issue|phase) #?\d+|\bPR #?\d+", re.I)
    said = [(page.relative_to(site).as_posix(), match.group(0)) for page in site.rglob("*.html")
            for match in [words.search(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))] if match]
    assert not said, said[:10]


def test_the_link_checker_finds_a_missing_page_anchor_or_remote_script(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">b</a> <a href="#here">x</a> <h2 id="here">x</h2>'
                                     '<a href="b.html#elsewhere">ok</a> <img src="c.png">'
                                     '<script src="https://cdn.example/x.js"></script>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<h2 id="elsewhere">y</h2><a href="#nowhere">z</a>', encoding="utf-8")
    assert sorted(broken_links(tmp_path)) == ["a.html -> b.html#there (no such anchor)", "a.html -> c.png",
                                              "a.html loads https://cdn.example/x.js",
                                              "b.html -> #nowhere (no such anchor)"]


@pytest.mark.slow
def test_strict_mode_fails_on_a_broken_link(tmp_path):
    """The checks the site is built with catch a link to a page that does not exist."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# x\n\n[nowhere](nowhere.md)\n", encoding="utf-8")
    config = _build_site().mkdocs_yml([]).split("nav:")[0]
    (tmp_path / "overrides").mkdir()
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(tmp_path / "mkdocs.yml"),
                          "-d", str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode != 0 and "nowhere.md" in run.stderr


@pytest.mark.parametrize("section", SECTION_LIST, ids=lambda s: s.number)
def test_every_section_has_its_prose_in_chinese(section):
    """docs/site/zh/sections/<module>.md has a Chinese cell for every markdown cell of the section."""
    from dlbook.cli import notebook
    build_site = _build_site()
    nb = notebook.build_notebook(section.number)
    assert build_site.untranslated(nb, section.module) == []
    translated = build_site.translated(nb, section.module)
    prose = [cell.source for cell in translated.cells if cell.cell_type == "markdown"]
    assert all(CJK.search(text) for text in prose)
    assert [c.source for c in translated.cells if c.cell_type == "code"] == \
        [c.source for c in nb.cells if c.cell_type == "code"]       # the same code (and outputs)
