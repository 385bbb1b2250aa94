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
import ast
import importlib
import re

from chapter_source import (REPO, algorithm_numbers, chapter_text, checked_table, code_line,
                            equation_numbers, errata_doc, errata_entries, listings, printed_quotes,
                            squeeze)

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

ERRATA_MARK = re.compile(r"# errata: ([a-z0-9.\-]+)")
BOOK_MARK = re.compile(r"# book: (.*?)\s*$")


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


def _depth(code):
    """Brackets a line of code opens minus those it closes (outside strings)."""
    depth, quote = 0, None
    for char in code:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
    return depth


def _module_lines(source):
    """(code, marked) per line of ``source``: a ``# book:`` line counts as the line its marker
    quotes; ``marked``: the line carries ``# errata: <id>``."""
    lines = []
    for line in source.splitlines():
        book = BOOK_MARK.search(line)
        lines.append((code_line(book.group(1)) if book else code_line(line), bool(ERRATA_MARK.search(line))))
    return lines


def unexplained_printed_lines(book_lines, source, used=None):
    """The printed lines that are neither in ``source`` in the printed order nor replaced in place.

    In order, each printed line is looked for on the next lines of ``source``: a line equal to it,
    or to it joined with the printed lines after it (a line the page wrapped), whitespace and
    comments aside; a ``# book: <printed line>`` line counts as its marker. The printed lines
    not found are replaced in place if, between their found neighbours, a line marked
    ``# errata: <id>`` stands for them: each marked line for one printed line, or for as many
    as it takes to close the brackets as the marked line does (a statement the page wrapped).
    ``used`` collects the marked lines taken (pass one set for all the listings of a file).
    """
    printed = [code for code in map(code_line, book_lines) if code]
    module = _module_lines(source)
    found, start, k = {}, 0, 0   # found: printed index -> module index
    while k < len(printed):
        match = next(((i, n) for i in range(start, len(module)) for n in range(1, 4)
                      if k + n <= len(printed) and module[i][0] == "".join(printed[k:k + n])), None)
        if match is None:
            k += 1
            continue
        i, n = match
        found.update({j: i for j in range(k, k + n)})
        start, k = i + 1, k + n
    unexplained, used, k = [], set() if used is None else used, 0
    while k < len(printed):
        if k in found:
            k += 1
            continue
        low = max((i for j, i in found.items() if j < k), default=-1)
        high = min((i for j, i in found.items() if j > k), default=len(module))
        mark = next((i for i in range(low + 1, high) if module[i][1] and i not in used), None)
        if mark is None:
            unexplained.append(printed[k])
            k += 1
            continue
        used.add(mark)
        run = 1   # the printed lines this mark stands for
        for n in range(1, len(printed) - k + 1):
            if k + n - 1 in found:
                break
            if sum(map(_depth, printed[k:k + n])) == _depth(module[mark][0]):
                run = n
                break
        k += run
    return unexplained


def test_every_listing_of_the_chapter_is_mapped_to_its_file():
    found = listings(chapter_text())
    assert len(found) == 13
    assert set(found) == set(LISTING_SOURCES), (
        f"listings without a file: {sorted(set(found) - set(LISTING_SOURCES))}; "
        f"mapped but not in the chapter: {sorted(set(LISTING_SOURCES) - set(found))}")


def test_every_listing_is_shown_as_printed():
    found, problems, used = listings(chapter_text()), [], {}
    for label, path in LISTING_SOURCES.items():   # in the book's order
        source = (REPO / path).read_text(encoding="utf-8")
        missing = unexplained_printed_lines(found[label], source, used.setdefault(path, set()))
        if missing:
            problems.append(f"{label} ({path}): {missing}")
    assert not problems, ("printed lines missing from their file (in the printed order), or changed "
                          "without an errata or book mark:\n" + "\n".join(problems))


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


# --- `# book:` lines: the printed line, with each option at its default -----------------------

def _strip_comment(line):
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i]
    return line


def _enclosing_function(tree, lineno):
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and node.lineno <= lineno <= node.end_lineno]
    return max(functions, key=lambda node: node.lineno, default=None)


_NAME = r"(?<![\w.])({})(?!\w)(?!\s*(?:\.|\(|=(?!=)))"   # a value, not a call, attribute or keyword


def at_defaults(source, lineno, options):
    """Line ``lineno`` of ``source`` (without its comment) with each option and parameter at its
    default (a def line: its required parameters only, as a call that leaves the others out); local variables it passes are replaced by their assigned expression (in the
    enclosing function, before the line), then ``args.<name>`` by ``repr(options[name])``, then
    parameters of the enclosing function by their default. Raises KeyError for an unknown option."""
    tree = ast.parse(source)
    code = _strip_comment(source.splitlines()[lineno - 1]).strip()
    function = _enclosing_function(tree, lineno)
    if function is not None and function.lineno == lineno:  # a def line: called with its defaults,
        required = function.args.args[:len(function.args.args) - len(function.args.defaults)]
        return f"def {function.name}({', '.join(arg.arg for arg in required)}):"  # as if not given
    assigned, defaults = {}, {}
    if function is not None:
        for node in sorted((n for n in ast.walk(function) if isinstance(n, ast.Assign)), key=lambda n: n.lineno):
            if node.lineno < lineno and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned[node.targets[0].id] = ast.get_source_segment(source, node.value)
        arguments = function.args.posonlyargs + function.args.args
        for arg, default in zip(arguments[len(arguments) - len(function.args.defaults):], function.args.defaults):
            defaults[arg.arg] = ast.get_source_segment(source, default)
    for _ in range(3):
        code = re.sub(_NAME.format("|".join(map(re.escape, assigned)) or "(?!)"),
                      lambda m: assigned[m.group(1)], code)
    code = re.sub(r"\bargs\.(\w+)", lambda m: repr(options[m.group(1)]), code)
    return re.sub(_NAME.format("|".join(map(re.escape, defaults)) or "(?!)"), lambda m: defaults[m.group(1)], code)


def _option_defaults(module):
    """The defaults of a chapter module's command-line options ({} for a package module)."""
    if hasattr(module, "parse_args"):
        return vars(module.parse_args([]))
    if hasattr(module, "build_parser"):
        return vars(module.build_parser().parse_args([]))
    return {}


def test_book_lines_are_the_printed_lines_with_each_option_at_its_default():
    checked = []
    for path in sorted(set(LISTING_SOURCES.values())):
        source = (REPO / path).read_text(encoding="utf-8")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        options = _option_defaults(module)
        for lineno, line in enumerate(source.splitlines(), 1):
            mark = BOOK_MARK.search(line)
            if mark:
                code = at_defaults(source, lineno, options)
                assert code_line(code) == code_line(mark.group(1)), (
                    f"{path}:{lineno}: at its defaults the line reads {code!r}, the book {mark.group(1)!r}")
                checked.append((path, mark.group(1)))
    assert len(checked) >= 5, checked   # 1.10.4's optimizer, batch size and epochs; 1.10.6's n_layer, n_units


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
