"""README.md and README.zh.md, docs/errata.md and docs/errata.zh.md: the two languages in step.

- every command of one README is in the other: the lines of its ```bash / ```python blocks and
  the ``$ ...`` lines of other blocks (comments aside: they are translated), and every inline
  code span that is a command (``dlbook ...``, ``python ...``, ``pip ...``);
- every image (figure) and every link of one README is in the other (the link from each README to
  the other aside), and each links to the other;
- the two errata files have the same entry ids, in the same order;
- the Chinese README names each section by the book's Chinese heading (dlbook/cli/sections.py).
"""
import re

from chapter_source import REPO, errata_entries

from dlbook.cli.sections import SECTION_LIST

COMMAND = re.compile(r"^(dlbook|python|pip|TF_CONFIG=)\b")


def _strip_comment(line):
    return re.sub(r"(^|\s+)#(\s.*)?$", "", line).rstrip()


def commands(markdown):
    """The commands of a README: fenced bash/python lines, ``$`` lines, inline command spans."""
    found = set()
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", markdown, re.S | re.M):
        for line in body.splitlines():
            if lang in ("bash", "python", "sh"):
                line = _strip_comment(line)
                if line:
                    found.add(line)
            elif line.startswith("$ "):
                found.add(line)
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    spans = (re.sub(r"\s+", " ", span).strip() for span in re.findall(r"`([^`]+)`", prose))
    found |= {span for span in spans if COMMAND.match(span)}
    return found


def images(markdown):
    return set(re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown))


def links(markdown):
    return set(re.findall(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)", markdown))


def differences(english, chinese):
    """What one README has and the other lacks: a list of readable lines ([] when in step)."""
    problems = []
    for what, get in (("command", commands), ("image", images)):
        a, b = get(english), get(chinese)
        problems += [f"{what} only in README.md: {x}" for x in sorted(a - b)]
        problems += [f"{what} only in README.zh.md: {x}" for x in sorted(b - a)]
    own = {"README.md", "README.zh.md", "docs/errata.zh.md"}   # each README's links to the other language
    a, b = links(english) - own, links(chinese) - own
    problems += [f"link only in README.md: {x}" for x in sorted(a - b)]
    problems += [f"link only in README.zh.md: {x}" for x in sorted(b - a)]
    return problems


def _read(name):
    return (REPO / name).read_text(encoding="utf-8")


def test_the_two_readmes_have_the_same_commands_figures_and_links():
    english, chinese = _read("README.md"), _read("README.zh.md")
    # the extraction finds them: the gallery shows every book figure, the results the ablation's
    assert len(commands(english)) > 20 and len(images(english)) == 11 + 1
    assert not differences(english, chinese), "\n".join(differences(english, chinese))


def test_each_readme_links_to_the_other():
    assert "README.zh.md" in links(_read("README.md"))
    assert "README.md" in links(_read("README.zh.md"))


def test_a_missing_command_or_figure_is_caught():
    english = _read("README.md")
    without_command = english.replace("dlbook run 1.10.4 --epochs 40 --resume", "dlbook run 1.10.4 --epochs 40")
    assert any("--resume" in line for line in differences(english, without_command))
    without_figure = english.replace("docs/figures/fig1_19_pooling.png", "docs/figures/missing.png")
    assert any("fig1_19_pooling" in line for line in differences(english, without_figure))
    translated_comment = english.replace("# every section of the chapter", "# 本章各节")
    assert not differences(english, translated_comment)


def test_the_chinese_readme_names_the_sections_by_the_book_headings():
    chinese = _read("README.zh.md")
    missing = [s.title_zh for s in SECTION_LIST
               if s.number.startswith("1.10") and s.title_zh not in chinese]
    assert not missing
    assert "1.2 感知器" in chinese and "1.9 循环神经网络" in chinese


def test_the_section_headings_are_the_book_headings():
    from chapter_source import chapter_text
    headings = {re.sub(r"\s+", " ", h).strip() for h in re.findall(r"^#+ (1\.\d+(?:\.\d+)? .*)$", chapter_text(), re.M)}
    assert [s.title_zh for s in SECTION_LIST if s.title_zh not in headings] == []


def test_the_two_errata_have_the_same_entries():
    english = list(errata_entries(_read("docs/errata.md")))
    chinese = list(errata_entries(_read("docs/errata.zh.md")))
    assert len(english) >= 40
    assert chinese == english, (f"only in errata.md: {sorted(set(english) - set(chinese))}; "
                                f"only in errata.zh.md: {sorted(set(chinese) - set(english))}")
    assert "(errata.md)" in _read("docs/errata.zh.md")
