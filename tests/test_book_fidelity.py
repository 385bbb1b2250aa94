"""dlbook against the printed chapter (../shared/book/chapter1.zh.md, or $DLBOOK_SHARED_DIR/book/):

- every fragment docs/errata.md quotes as printed (``- **Printed:**`` lines) occurs in the chapter
  (whitespace aside), and every entry that says what the book prints quotes it;
- the table of checked items lists every numbered equation, algorithm and listing of the chapter
  and every figure ``dlbook figures`` draws;
- every listing's printed lines are in its file (LISTING_SOURCES) in the printed order. A printed
  line that is not there verbatim is replaced in place, between its printed neighbours, by a line
  marked ``# errata: <id>`` (the book is wrong there), or by a line whose value comes from an
  option or a parameter whose default is the printed value, marked ``# book: <the printed line>``
  (the marker must be the printed line; the line with each option at its default must read as it).

Tests that read the chapter skip, naming the path, when it is absent.
"""
import importlib
import re

from book_checks import at_defaults, drifted_book_lines, inserted_lines, unexplained_printed_lines
from chapter_source import (REPO, algorithm_numbers, chapter_text, checked_table, equation_numbers,
                            errata_doc, errata_entries, listings, printed_quotes, squeeze,
                            typo_rows)

#: Where each listing of the chapter is, in dlbook. Each listing is checked on its own (two
#: listings may share one import line), but no marked line stands in for lines of two listings.
LISTING_SOURCES = {
    "Listing 1.1": "chapters/ch01/s1_10_1_tensors.py",
    "Listing 1.2": "chapters/ch01/s1_10_1_tensors.py",
    "Listing 1.3": "chapters/ch01/s1_10_2_models.py",
    "Listing 1.4": "chapters/ch01/s1_10_2_models.py",
    "1.10.3 listing 1": "chapters/ch01/s1_10_3_lambda.py",
    "1.10.3 listing 2": "chapters/ch01/s1_10_3_lambda.py",
    "1.10.3 listing 3": "chapters/ch01/s1_10_3_lambda.py",
    "1.10.4 listing 1": "chapters/ch01/s1_10_4_mnist_mlp.py",
    "1.10.4 listing 2": "chapters/ch01/s1_10_4_mnist_mlp.py",
    "1.10.4 listing 3": "chapters/ch01/s1_10_4_mnist_mlp.py",
    "1.10.5 listing 1": "chapters/ch01/s1_10_5_cifar10_cnn.py",
    "1.10.5 listing 2": "dlbook/models/cnn.py",
    "1.10.6 listing 1": "dlbook/models/seq2seq.py",
}

#: Listings kept in the package (which needs them without importing chapters/): the chapter
#: module of the section uses the package's function, the very object.
PACKAGE_LISTINGS = {
    "dlbook/models/cnn.py": ("chapters.ch01.s1_10_5_cifar10_cnn", "get_model_batchnorm"),
    "dlbook/models/seq2seq.py": ("chapters.ch01.s1_10_6_chatbot", "get_seq2seq_model"),
}


def all_quotes(doc):
    """Every quote of an errata file: its Printed (原文) lines, in entries or section notes, and
    its table of typos."""
    return printed_quotes(doc) + [quote for quotes in typo_rows(doc).values() for quote in quotes]


def test_every_printed_quote_occurs_in_the_chapter():
    book = squeeze(chapter_text())
    for name in ("errata.md", "errata.zh.md"):
        quotes = all_quotes(errata_doc(name))
        assert len(quotes) >= 80, name
        missing = [quote for quote in quotes if squeeze(quote) not in book]
        assert not missing, f"quoted in docs/{name} as printed but not in the chapter:\n" + "\n".join(missing)


def test_both_errata_files_carry_the_same_entries_quotes_and_typos():
    english, chinese = errata_doc(), errata_doc("errata.zh.md")
    quotes = {name: {entry: printed_quotes(body) for entry, body in errata_entries(doc).items()}
              for name, doc in (("errata.md", english), ("errata.zh.md", chinese))}
    assert quotes["errata.md"] == quotes["errata.zh.md"]
    assert len(typo_rows(english)) >= 15 and typo_rows(english) == typo_rows(chinese)
    assert printed_quotes(english) == printed_quotes(chinese)   # section notes too, in order


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
    unquoted = sorted(entry for entry in says if not printed_quotes(entries[entry]))
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


def test_every_listing_of_the_chapter_is_mapped_to_its_file():
    found = listings(chapter_text())
    assert len(found) == 13
    assert set(found) == set(LISTING_SOURCES), (
        f"listings without a file: {sorted(set(found) - set(LISTING_SOURCES))}; "
        f"mapped but not in the chapter: {sorted(set(LISTING_SOURCES) - set(found))}")


def errata_excuses():
    """{id: the quotes of its Printed lines}: the printed lines each entry may replace."""
    return {entry: printed_quotes(body) for entry, body in errata_entries(errata_doc()).items()}


def test_every_listing_is_shown_as_printed():
    found, problems, used, excuses = listings(chapter_text()), [], {}, errata_excuses()
    for label, path in LISTING_SOURCES.items():   # in the book's order
        source = (REPO / path).read_text(encoding="utf-8")
        missing = unexplained_printed_lines(found[label], source, used.setdefault(path, set()), excuses)
        if missing:
            problems.append(f"{label} ({path}): {missing}")
    assert not problems, ("printed lines missing from their file (in the printed order), or changed "
                          "without an errata mark whose entry quotes them, or a book mark:\n"
                          + "\n".join(problems))


def test_no_line_is_inserted_inside_a_printed_listing():
    found, problems = listings(chapter_text()), []
    for label, path in LISTING_SOURCES.items():
        inserted = inserted_lines(found[label], (REPO / path).read_text(encoding="utf-8"))
        if inserted:
            problems.append(f"{label} ({path}): {inserted}")
    assert not problems, ("lines inserted between printed lines that stand together in the book, "
                          "without an `# added: <why>` or `# errata: <id>` mark:\n" + "\n".join(problems))


def test_listings_kept_in_the_package_are_what_the_chapter_modules_use():
    for path, (chapter, name) in PACKAGE_LISTINGS.items():
        package = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert getattr(importlib.import_module(chapter), name) is getattr(package, name), (chapter, name)


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
    # one mark stands for one changed line, not two, and only between the line's neighbours
    two_changed = marked.replace("y = f(1)", "y = f(2)")
    assert unexplained_printed_lines(printed, two_changed) == ["y=f(1)"]
    mark_elsewhere = "z = 0  # errata: some-id\n" + changed
    assert unexplained_printed_lines(printed, mark_elsewhere) == ["return2*x"]


def test_the_listing_check_follows_wrapped_lines():
    printed = ["x = load(shape=(-1,", "784)) # a comment", "y = f(x,", "      2)", "z = 1"]
    one_line = "x = load(shape=(-1, 784))\ny = f(x, 2)\nz = 1\n"
    assert unexplained_printed_lines(printed, one_line) == []
    marked = "x = ours(shape=(-1, 784), path=p)  # errata: some-id\ny = f(x, 2)\nz = 1\n"
    assert unexplained_printed_lines(printed, marked) == []   # the mark stands for both lines
    call_marked = "x = ours(shape=(-1,  # errata: some-id\n    784), path=p)\ny = f(x, 2)\nz = 1\n"
    assert unexplained_printed_lines(printed, call_marked) == ["784))"]


def test_the_listing_check_accepts_a_book_line_only_with_the_printed_line():
    printed = ["fit(", "    batch_size=256,", "    n_epoch=20,", ")"]
    ours = "fit(\n    batch_size=args.batch_size,  # book: batch_size=256,\n    n_epoch=20,\n)\n"
    assert unexplained_printed_lines(printed, ours) == []
    wrong = ours.replace("# book: batch_size=256,", "# book: batch_size=128,")
    assert unexplained_printed_lines(printed, wrong) == ["batch_size=256,"]
    unmarked = ours.replace("  # book: batch_size=256,", "")
    assert unexplained_printed_lines(printed, unmarked) == ["batch_size=256,"]


def _option_defaults(module):
    """The defaults of a chapter module's command-line options ({} for a package module)."""
    if hasattr(module, "parse_args"):
        return vars(module.parse_args([]))
    if hasattr(module, "build_parser"):
        return vars(module.build_parser().parse_args([]))
    return {}


def test_book_lines_are_the_printed_lines_with_each_option_at_its_default():
    checked, drifted = 0, []
    for path in sorted(set(LISTING_SOURCES.values())):
        source = (REPO / path).read_text(encoding="utf-8")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        drifted += [(path, *line) for line in drifted_book_lines(source, _option_defaults(module))]
        checked += source.count("# book: ")
    assert checked >= 5   # 1.10.4's optimizer, batch size and epochs; 1.10.6's n_layer, n_units
    assert not drifted, "at their defaults these lines do not read as the printed line:\n" + "\n".join(
        f"{path}:{lineno}: {code!r}, the book {mark!r}" for path, lineno, code, mark in drifted)


def test_at_defaults_sees_options_parameters_and_local_variables():
    source = ("def main(args, n_layer=3):\n"
              "    train_op = Adam(learning_rate=args.learning_rate)\n"
              "    fit(train_op=train_op,  # book: train_op=Adam(learning_rate=0.0001),\n"
              "        batch_size=args.batch_size, n_layer=n_layer)\n")
    options = {"learning_rate": 0.0001, "batch_size": 256}
    assert at_defaults(source, 3, options) == "fit(train_op=Adam(learning_rate=0.0001),"
    assert at_defaults(source, 4, options) == "batch_size=256, n_layer=3)"
    assert at_defaults(source, 3, {"learning_rate": 0.001}) == "fit(train_op=Adam(learning_rate=0.001),"
    assert at_defaults(source, 1, options) == "def main(args):"   # the optional parameter left out
