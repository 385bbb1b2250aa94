"""dlbook against the printed chapter (../shared/book/chapter1.zh.md, or $DLBOOK_SHARED_DIR/book/):

- every fragment docs/errata.md quotes as printed (``- **Printed:**`` lines) occurs in the chapter
  (whitespace aside), and every entry that says what the book prints quotes it;
- the table of checked items lists every numbered equation, algorithm and listing of the chapter
  and every figure ``dlbook figures`` draws;
- each chapter module shows its listings' printed lines in the printed order; a printed line that
  is not there verbatim is replaced in place by a line marked ``# errata: <id>``.

Tests that read the chapter skip, naming the path, when it is absent.
"""
import re

from chapter_source import (REPO, algorithm_numbers, chapter_text, checked_table, code_line,
                            equation_numbers, errata_doc, errata_entries, listings, printed_quotes,
                            squeeze)

#: The listings each chapter module reproduces. (1.10.4-1.10.6 are checked by their own tests.)
LISTING_MODULES = {
    "Listing 1.1": "s1_10_1_tensors",
    "Listing 1.2": "s1_10_1_tensors",
    "Listing 1.3": "s1_10_2_models",
    "Listing 1.4": "s1_10_2_models",
    "1.10.3 listing 1": "s1_10_3_lambda",
    "1.10.3 listing 2": "s1_10_3_lambda",
    "1.10.3 listing 3": "s1_10_3_lambda",
}

#: Entries on 1.10.5 whose Printed lines come with issue 11's rewrite of that section.
AWAITING_PRINTED = {"tl-data", "crop-random", "random-crop-offsets", "samplewise-norm", "cnn-model-name",
                    "cifar-test-dl-transform"}

ERRATA_MARK = re.compile(r"# errata: ([a-z0-9.\-]+)")


def test_every_printed_quote_occurs_in_the_chapter():
    book = squeeze(chapter_text())
    quotes = printed_quotes(errata_doc())   # every Printed line, in entries or section notes
    assert len(quotes) >= 30
    missing = [quote for quote in quotes if squeeze(quote) not in book]
    assert not missing, "quoted as printed but not in the chapter:\n" + "\n".join(missing)


def test_a_quote_that_is_not_in_the_chapter_is_caught():
    book = squeeze(chapter_text())
    assert squeeze("z = self.dense1(z)") in book
    assert squeeze("z = self.dense1(x)") not in book          # dlbook's fix, not the book's line
    assert squeeze("np.mean(np.equal(np.argmax(_logits, 1), y_batch))") not in book   # TL's docstring
    assert squeeze("top_n=3") not in book and squeeze("emb_dim=1024") not in book


def test_every_entry_that_says_what_the_book_prints_quotes_it():
    entries = errata_entries(errata_doc())
    says = {entry for entry, body in entries.items()
            if re.search(r"^\s*- \*\*Book[^*]*:\*\*", body, re.M)}
    assert len(says) >= 15
    unquoted = sorted(entry for entry in says - AWAITING_PRINTED if not printed_quotes(entries[entry]))
    assert not unquoted, f"entries with a **Book:** field but no **Printed:** quote: {unquoted}"


def _first_cells():
    return [row[0] for row in checked_table(errata_doc())]


def test_table_lists_every_equation_algorithm_and_listing_of_the_chapter():
    text = chapter_text()
    items = " ".join(_first_cells())
    equations = equation_numbers(text)
    assert len(equations) == 26   # (1.1) ... (1.26)
    expected = ([f"({n})" for n in equations] + [f"Algorithm {n}" for n in algorithm_numbers(text)]
                + list(listings(text)))
    assert len(expected) > 26 + 2 + 10
    missing = [item for item in expected if not re.search(rf"(?<![\d.]){re.escape(item)}(?![\d])", items)]
    assert not missing, f"not in the table of docs/errata.md: {missing}"


def test_table_lists_every_figure_dlbook_draws_and_cites_real_errata():
    from dlbook import plots
    rows = checked_table(errata_doc())
    assert all(len(row) == 4 for row in rows), "every row: item | where in dlbook | verdict | test"
    items = " ".join(row[0] for row in rows)
    for number, _, _ in plots.FIGURES.values():
        assert re.search(rf"Figure {re.escape(number)}(?!\d)", items), f"Figure {number} not in the table"
    entries = set(errata_entries(errata_doc()))
    cited = {name for row in rows for name in re.findall(r"errata ([a-z0-9.\-]+[a-z0-9])", row[2])}
    assert cited and cited <= entries, f"the table cites missing entries: {sorted(cited - entries)}"


def unexplained_printed_lines(book_lines, source):
    """The printed lines that are neither in ``source`` (in the printed order) nor replaced in
    place, i.e. between the neighbouring printed lines, by a line marked ``# errata: <id>``."""
    printed = [code for code in map(code_line, book_lines) if code]
    module = [(code_line(line), bool(ERRATA_MARK.search(line))) for line in source.splitlines()]
    found, start = [], 0
    for code in printed:   # greedy, in order
        index = next((i for i in range(start, len(module)) if module[i][0] == code), None)
        found.append(index)
        start = start if index is None else index + 1
    unexplained, used = [], set()
    for k, (code, index) in enumerate(zip(printed, found)):
        if index is not None:
            continue
        low = max((i for i in found[:k] if i is not None), default=-1)
        high = min((i for i in found[k + 1:] if i is not None), default=len(module))
        marked = [i for i in range(low + 1, high) if module[i][1] and i not in used]
        if marked:
            used.add(marked[0])
        else:
            unexplained.append(code)
    return unexplained


def test_chapter_modules_show_their_listings_as_printed():
    found = listings(chapter_text())
    assert set(LISTING_MODULES) <= set(found)
    for label, module in LISTING_MODULES.items():
        source = (REPO / "chapters" / "ch01" / f"{module}.py").read_text(encoding="utf-8")
        assert not unexplained_printed_lines(found[label], source), (
            f"{label}: printed lines missing from {module}.py (or changed without an errata mark): "
            f"{unexplained_printed_lines(found[label], source)}")


def test_the_listing_check_catches_a_changed_line_and_accepts_a_marked_one():
    printed = ["import tensorflow as tf", "def f(x):", "    return 2*x  # twice", "y = f(1)"]
    faithful = "import tensorflow as tf\n\n\ndef f(x):\n    return 2 * x\n\n\ny = f(1)\n"
    assert unexplained_printed_lines(printed, faithful) == []
    changed = faithful.replace("2 * x", "3 * x")
    assert unexplained_printed_lines(printed, changed) == ["return2*x"]
    marked = changed.replace("3 * x", "3 * x  # errata: some-id")
    assert unexplained_printed_lines(printed, marked) == []
    reordered = "y = f(1)\nimport tensorflow as tf\ndef f(x):\n    return 2*x\n"
    assert unexplained_printed_lines(printed, reordered) == ["y=f(1)"]
