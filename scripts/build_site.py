"""Build the companion site: ``pip install -e ".[docs]" && python scripts/build_site.py`` -> site/.

One page per section with its notebook executed on the tiny data (generated from the section's
module by dlbook.cli.notebook), the figures, the results tables (docs/results/**/README.md), the
errata in English and Chinese, docs/robustness.md and docs/design.md, and front pages in English
and Chinese (docs/site/index.md, docs/site/index.zh.md). mkdocs runs in strict mode: a broken
link, a missing image or a missing anchor fails the build. The site needs no network: open
site/index.html from the file system, or serve it with ``python -m http.server -d site`` (the
search box works when served); fonts are the system's and no page loads anything from a CDN.

    python scripts/build_site.py                 # executes the 14 notebooks first (a few minutes)
    python scripts/build_site.py --no-execute    # the notebooks without their outputs (quick)
    python scripts/build_site.py --out /tmp/site --keep-source /tmp/site-src
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dlbook.cli.sections import SECTION_LIST  # noqa: E402

DOCS = REPO / "docs"
PAGES = ["errata.md", "errata.zh.md", "robustness.md", "design.md"]


def section_label(section):
    return f"{section.number} {section.title} · {section.title_zh.split(' ', 1)[1]}"


def figures_page():
    """docs/figures/*.png with the book's figure numbers and captions (dlbook.plots.FIGURES)."""
    from dlbook import plots
    lines = ["# Figures", "",
             "The chapter's computed figures, drawn by `dlbook figures` from the same functions the "
             "sections print (each section's page shows its own). 中文：本章可计算的插图。", ""]
    for name, (number, caption, _) in plots.FIGURES.items():
        lines += [f"## Figure {number}", "", caption, "", f"![Figure {number}](figures/{name}.png)", ""]
    results = [(name, caption) for name, (caption, _) in plots.RESULT_FIGURES.items()
               if (DOCS / "figures" / f"{name}.png").is_file()]
    if results:
        lines += ["## Recorded runs", "", "Drawn by `dlbook figures` from the recorded training histories in "
                  "`docs/results` (no retraining).", ""]
    for name, caption in results:
        lines += [f"### {caption}", "", f"![{caption}](figures/{name}.png)", ""]
    return "\n".join(lines)


def results_pages(src):
    """Copy docs/results/**/README.md (and the files beside them) as results/**/index.md."""
    pages = []
    for readme in sorted((DOCS / "results").rglob("README.md")):
        rel = readme.parent.relative_to(DOCS)
        target = src / rel
        shutil.copytree(readme.parent, target, dirs_exist_ok=True)
        (target / "README.md").rename(target / "index.md")
        title = next((line[2:].strip() for line in readme.read_text(encoding="utf-8").splitlines()
                      if line.startswith("# ")), str(rel))
        pages.append((title, f"{rel.as_posix()}/index.md"))
    return pages


def write_notebooks(src, execute, jobs):
    from dlbook.cli import notebook
    import nbformat
    (src / "sections").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dlbook-site-run-"))
    (work / "no-real-data").mkdir()
    os.environ["DLBOOK_DATA_DIR"] = str(work / "no-real-data")   # the notebooks' tiny data
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    def one(section):
        start = time.time()
        nb = notebook.build_notebook(section.number)
        if execute:
            cwd = work / section.module
            cwd.mkdir()
            notebook.execute(nb, cwd)
        nbformat.write(nb, src / "sections" / f"{section.module}.ipynb")
        return section, time.time() - start

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for section, seconds in pool.map(one, SECTION_LIST):
                print(f"  {section.number:<7} sections/{section.module}.ipynb"
                      + (f" executed in {seconds:.0f} s" if execute else ""), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def mkdocs_yml(results):
    import yaml
    nav = [{"Home": "index.md"}, {"首页 (中文)": "index.zh.md"},
           {"Sections": [{section_label(s): f"sections/{s.module}.ipynb"} for s in SECTION_LIST]},
           {"Figures": "figures.md"}]
    if results:
        nav.append({"Results": [{title: path} for title, path in results]})
    nav += [{"Errata": "errata.md"}, {"勘误 (中文)": "errata.zh.md"},
            {"Robustness": "robustness.md"}, {"Design": "design.md"}]
    config = {
        "site_name": "dlbook: Chapter 1, Introduction to Deep Learning",
        "docs_dir": "docs",
        "use_directory_urls": False,          # pages open from the file system
        "strict": True,
        "validation": {"omitted_files": "warn", "absolute_links": "warn", "unrecognized_links": "warn",
                       "anchors": "warn", "not_found": "warn"},
        "theme": {"name": "material", "font": False, "features": ["navigation.sections"]},
        "markdown_extensions": ["tables", "toc", "admonition", "pymdownx.superfences"],
        "plugins": ["search",
                    {"mkdocs-jupyter": {"execute": False, "include_source": True,
                                        "include_requirejs": False}}],
        "nav": nav,
    }
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def build(out, execute=True, jobs=2, keep_source=None):
    src_root = Path(keep_source) if keep_source else Path(tempfile.mkdtemp(prefix="dlbook-site-src-"))
    if src_root.exists():
        shutil.rmtree(src_root)
    src = src_root / "docs"
    src.mkdir(parents=True)
    for page in PAGES:
        shutil.copy(DOCS / page, src / page)
    shutil.copytree(DOCS / "figures", src / "figures")
    for page in ("index.md", "index.zh.md"):
        shutil.copy(DOCS / "site" / page, src / page)
    (src / "figures.md").write_text(figures_page(), encoding="utf-8")
    results = results_pages(src)
    print(f"notebooks ({'executed' if execute else 'not executed'}):", flush=True)
    write_notebooks(src, execute, jobs)
    (src_root / "mkdocs.yml").write_text(mkdocs_yml(results), encoding="utf-8")
    out = Path(out).resolve()
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
                             "-f", str(src_root / "mkdocs.yml"), "-d", str(out)],
                            env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
                            cwd=src_root)   # mkdocs-jupyter's .cache/ goes there, not into the repo
    if not keep_source:
        shutil.rmtree(src_root, ignore_errors=True)
    if result.returncode:
        raise SystemExit(f"mkdocs build failed (exit {result.returncode}); see the warnings above")
    print(f"site written to {out}: open {out / 'index.html'} (or: python -m http.server -d {out})")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default=str(REPO / "site"), help="where to write the site")
    parser.add_argument("--no-execute", dest="execute", action="store_false",
                        help="do not run the notebooks (pages without outputs; quick)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once")
    parser.add_argument("--keep-source", default=None, metavar="DIR",
                        help="build the mkdocs project in DIR and keep it (default: a temporary directory)")
    args = parser.parse_args(argv)
    build(args.out, execute=args.execute, jobs=args.jobs, keep_source=args.keep_source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
