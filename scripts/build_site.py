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
import re
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
SITE_DOCS = DOCS / "site"
LANGUAGES = ("en", "zh")        # English at the site's root, Chinese under zh/
ROOT = {"en": "", "zh": "zh/"}
CELL_KEY = re.compile(r"^<!-- cell: (.*?) -->[ \t]*$", re.M)   # before each cell of a section's Chinese prose

WORDS = {
    "en": {"home": "Home", "sections": "Sections", "figures": "Figures", "results": "Results",
           "errata": "Errata", "robustness": "Robustness", "design": "Design",
           "site_name": "dlbook: Chapter 1, Introduction to Deep Learning"},
    "zh": {"home": "首页", "sections": "各节", "figures": "插图", "results": "实验结果",
           "errata": "勘误", "robustness": "健壮性", "design": "设计",
           "site_name": "dlbook：第 1 章《深度学习入门》"},
}
#: Chinese titles of the pages kept in English only (each Chinese page says so and shows the text).
ENGLISH_ONLY_ZH = {
    "robustness.md": "健壮性：错误的输入、保存时被终止、信号、磁盘已满与可复现性",
    "design.md": "设计：代码包的结构",
    "results/cifar10/explore/index.md": "CIFAR-10 训练配方的探索",
}
ENGLISH_ONLY_NOTE = "*本页正文为英文（与英文版相同），标题与导航为中文。*"
#: Chinese captions of the chapter's figures (dlbook.plots.FIGURES holds the English ones).
FIGURE_CAPTIONS_ZH = {
    "fig1_03_decision_boundaries": "神经元的决策边界 w·x + b = 0（有偏置与无偏置）",
    "fig1_06_logic_gates": "与、或、与非、或非是线性可分的；异或、同或不是",
    "fig1_07_xor_mlp": "异或 = 与(或, 与非)：在输入空间中不可分，在特征空间中可分",
    "fig1_08_activations": "激活函数及其导数",
    "fig1_09_gradient_descent": "单参数与双参数损失上的梯度下降",
    "fig1_10_learning_rate": "学习率过小与过大",
    "fig1_11_cross_validation": "4 折交叉验证",
    "fig1_12_overfitting": "过拟合：多项式的次数",
    "fig1_13_l1_l2": "L1 与 L2 约束下的最优点",
    "fig1_16_early_stopping": "提前停止",
    "fig1_19_pooling": "步长为 2 的 2×2 最大池化与平均池化",
}


def section_label(section, lang):
    return f"{section.number} {section.title}" if lang == "en" else section.title_zh


def figures_page(lang):
    """docs/figures/*.png with the book's figure numbers and captions (dlbook.plots.FIGURES)."""
    from dlbook import plots
    if lang == "en":
        lines = ["# Figures", "", "The chapter's computed figures, drawn by `dlbook figures` from the same "
                 "functions the sections print (each section's page shows its own).", ""]
    else:
        lines = ["# 插图", "", "本章可计算的插图，由 `dlbook figures` 用各节打印结果的同一批函数绘制"
                 "（每一节的页面也显示它自己的插图）。", ""]
    for name, (number, caption, _) in plots.FIGURES.items():
        title = f"Figure {number}" if lang == "en" else f"图 {number}"
        text = caption if lang == "en" else FIGURE_CAPTIONS_ZH.get(name, caption)
        lines += [f"## {title}", "", text, "", f"![{title}](figures/{name}.png)", ""]
    results = [(name, caption) for name, (caption, _) in plots.RESULT_FIGURES.items()
               if (DOCS / "figures" / f"{name}.png").is_file()]
    if results:
        lines += (["## Recorded runs", "", "Drawn by `dlbook figures` from the recorded training histories in "
                   "`docs/results` (no retraining).", ""] if lang == "en" else
                  ["## 已记录的训练", "", "由 `dlbook figures` 根据 `docs/results` 中记录的训练历史绘制（不重新训练）。", ""])
    for name, caption in results:
        lines += [f"### {caption}", "", f"![{caption}](figures/{name}.png)", ""]
    return "\n".join(lines)


def english_only(text, title_zh):
    """A page kept in English, for the Chinese site: a Chinese title and note, then the text."""
    body = text.split("\n", 1)[1] if text.startswith("# ") else text
    return f"# {title_zh}\n\n{ENGLISH_ONLY_NOTE}\n{body}"


def results_pages(src, lang):
    """Copy docs/results/**/README.md (and the files beside them) as results/**/index.md."""
    pages = []
    for readme in sorted((DOCS / "results").rglob("README.md")):
        rel = readme.parent.relative_to(DOCS)
        target = src / rel
        shutil.copytree(readme.parent, target, dirs_exist_ok=True)
        (target / "README.md").unlink()
        text = readme.read_text(encoding="utf-8")
        path = f"{rel.as_posix()}/index.md"
        if lang == "zh":
            text = english_only(text, ENGLISH_ONLY_ZH.get(path, rel.as_posix()))
        (target / "index.md").write_text(text, encoding="utf-8")
        pages.append((next(line[2:].strip() for line in text.splitlines() if line.startswith("# ")), path))
    return pages


def chinese_prose(module):
    """{key: Chinese markdown} of a section (docs/site/zh/sections/<module>.md): each cell follows
    a line ``<!-- cell: KEY -->``, KEY the first line of the English cell it stands for (``#`` for
    the title cell)."""
    path = SITE_DOCS / "zh" / "sections" / f"{module}.md"
    parts = CELL_KEY.split(path.read_text(encoding="utf-8") if path.is_file() else "")
    return {key.strip(): text.strip("\n") + "\n" for key, text in zip(parts[1::2], parts[2::2])}


def cell_key(nb, cell):
    return "#" if cell is next(c for c in nb.cells if c.cell_type == "markdown") else cell.source.split("\n", 1)[0].strip()


def untranslated(nb, module):
    """The keys of the section's markdown cells that have no Chinese version."""
    prose = chinese_prose(module)
    return [cell_key(nb, cell) for cell in nb.cells if cell.cell_type == "markdown" and cell_key(nb, cell) not in prose]


def translated(nb, module):
    """A copy of the section's notebook with its prose in Chinese (the same code and outputs)."""
    import copy
    prose, nb_zh = chinese_prose(module), copy.deepcopy(nb)
    for cell, original in zip(nb_zh.cells, nb.cells):
        if cell.cell_type == "markdown":
            cell.source = prose.get(cell_key(nb, original), cell.source)
    return nb_zh


def execute_notebooks(execute, jobs):
    """{module: the section's notebook}, executed on the tiny data when ``execute``."""
    from dlbook.cli import notebook
    work = Path(tempfile.mkdtemp(prefix="dlbook-site-run-"))
    (work / "no-real-data").mkdir()
    os.environ["DLBOOK_DATA_DIR"] = str(work / "no-real-data")   # the notebooks' tiny data
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))  # this checkout

    def one(section):
        start = time.time()
        nb = notebook.build_notebook(section.number)
        if execute:
            cwd = work / section.module
            cwd.mkdir()
            notebook.execute(nb, cwd)
        return section, nb, time.time() - start

    notebooks = {}
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for section, nb, seconds in pool.map(one, SECTION_LIST):
                notebooks[section.module] = nb
                print(f"  {section.number:<7} {section.module}" + (f" executed in {seconds:.0f} s" if execute else ""),
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return notebooks


def mkdocs_yml(results, lang="en"):
    import yaml
    words = WORDS[lang]
    nav = [{words["home"]: "index.md"},
           {words["sections"]: [{section_label(s, lang): f"sections/{s.module}.ipynb"} for s in SECTION_LIST]},
           {words["figures"]: "figures.md"}]
    if results:
        nav.append({words["results"]: [{title: path} for title, path in results]})
    nav += [{words["errata"]: "errata.md"}, {words["robustness"]: "robustness.md"}, {words["design"]: "design.md"}]
    other = {"en": "zh", "zh": "en"}[lang]
    config = {
        "site_name": words["site_name"],
        "docs_dir": "docs",
        "use_directory_urls": False,          # pages open from the file system
        "strict": True,
        "validation": {"omitted_files": "warn", "absolute_links": "warn", "unrecognized_links": "warn",
                       "anchors": "warn", "not_found": "warn"},
        "theme": {"name": "material", "font": False, "language": lang, "custom_dir": "overrides",
                  "features": ["navigation.sections"]},
        # the language switch (overrides/partials/alternate.html): the same page in each language
        "extra": {"alternate": [{"name": "English", "lang": "en", "prefix": "../" if lang == "zh" else ""},
                                {"name": "中文", "lang": "zh", "prefix": "zh/" if lang == "en" else ""}],
                  "other_lang": other},
        "hooks": [str(Path(__file__).with_name("site_hooks.py"))],
        "markdown_extensions": ["tables", "toc", "admonition", "pymdownx.superfences"],
        "plugins": ["search",
                    {"mkdocs-jupyter": {"execute": False, "include_source": True,
                                        "include_requirejs": False}}],
        "nav": nav,
    }
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


ALTERNATE = """<div class="md-header__option">
  <div class="md-select">
    <button class="md-header__button md-icon" aria-label="{{ lang.t('select.language') }}">
      {% include ".icons/material/translate.svg" %}
    </button>
    <div class="md-select__inner">
      <ul class="md-select__list">
        {% for alt in config.extra.alternate %}
          <li class="md-select__item">
            <a href="{{ base_url }}/{{ alt.prefix }}{{ page.url if page and page.url else 'index.html' }}"
               hreflang="{{ alt.lang }}" class="md-select__link">{{ alt.name }}</a>
          </li>
        {% endfor %}
      </ul>
    </div>
  </div>
</div>
"""


def write_sources(src_root, lang, notebooks):
    """The mkdocs project of one language in ``src_root``."""
    src = src_root / "docs"
    src.mkdir(parents=True)
    shutil.copytree(DOCS / "figures", src / "figures")
    pages = {"index.md": SITE_DOCS / ("index.md" if lang == "en" else "index.zh.md"),
             "errata.md": DOCS / ("errata.md" if lang == "en" else "errata.zh.md"),
             "robustness.md": DOCS / "robustness.md", "design.md": DOCS / "design.md"}
    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        if lang == "zh" and name in ENGLISH_ONLY_ZH:
            text = english_only(text, ENGLISH_ONLY_ZH[name])
        if name == "errata.md":   # its link to the other language's page: the language switch does that
            other = "errata.md" if lang == "zh" else "errata.zh.md"
            text = re.sub(r"^\*\[[^\]]+\]\(" + re.escape(other) + r"\)\*\n", "", text, flags=re.M)
            text = re.sub(r"\[([^\]]+)\]\(" + re.escape(other) + r"[^)]*\)", r"\1", text)
        (src / name).write_text(text, encoding="utf-8")
    (src / "figures.md").write_text(figures_page(lang), encoding="utf-8")
    results = results_pages(src, lang)
    (src / "sections").mkdir()
    import nbformat
    for module, nb in notebooks.items():
        nbformat.write(nb if lang == "en" else translated(nb, module), src / "sections" / f"{module}.ipynb")
    (src_root / "overrides" / "partials").mkdir(parents=True)
    (src_root / "overrides" / "partials" / "alternate.html").write_text(ALTERNATE, encoding="utf-8")
    (src_root / "mkdocs.yml").write_text(mkdocs_yml(results, lang), encoding="utf-8")


def build(out, execute=True, jobs=2, keep_source=None):
    src_root = Path(keep_source) if keep_source else Path(tempfile.mkdtemp(prefix="dlbook-site-src-"))
    if src_root.exists():
        shutil.rmtree(src_root)
    print(f"notebooks ({'executed' if execute else 'not executed'}):", flush=True)
    notebooks = execute_notebooks(execute, jobs)
    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    for lang in LANGUAGES:
        write_sources(src_root / lang, lang, notebooks)
        result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                                 "-f", str(src_root / lang / "mkdocs.yml"), "-d", str(out / ROOT[lang])],
                                env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
                                cwd=src_root / lang)   # mkdocs-jupyter's .cache/ goes there, not into the repo
        if result.returncode:
            raise SystemExit(f"mkdocs build ({lang}) failed (exit {result.returncode}); see the warnings above")
    if not keep_source:
        shutil.rmtree(src_root, ignore_errors=True)
    print(f"site written to {out}: open {out / 'index.html'} (中文: {out / 'zh' / 'index.html'}; "
          f"or: python -m http.server -d {out})")
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
