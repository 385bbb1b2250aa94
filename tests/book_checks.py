"""The checkers behind tests/test_book_fidelity.py, as functions of a listing's printed lines and a
module's source, so that tests/test_book_checks_catch.py can show each one failing on a broken copy.

Marks a module may carry on a line of a printed listing (docs/errata.md, top):
``# errata: <id>`` (the line replaces the printed line(s) that entry quotes), ``# book: <printed
line>`` (the printed value comes from an option or parameter defaulting to it), ``# added: <why>``
(a line dlbook adds inside a printed listing; lines indented under it belong to it).
"""
import ast
import re

from chapter_source import code_line, strip_comment

ERRATA_MARK = re.compile(r"# errata: ([a-z0-9.\-]+)")
BOOK_MARK = re.compile(r"# book: (.*?)\s*$")
ADDED_MARK = re.compile(r"# added: \S")


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


def _docstring_lines(source):
    """Line numbers (0-based) of string statements (docstrings) in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n for node in ast.walk(tree) if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for n in range(node.lineno - 1, node.end_lineno)}


def module_lines(source):
    """One dict per line of ``source``: ``code`` (a ``# book:`` line counts as the printed line
    its marker quotes), ``errata`` (the id it is marked with, or None), ``added``, ``indent``,
    ``doc`` (part of a docstring)."""
    docs, lines = _docstring_lines(source), []
    for n, line in enumerate(source.splitlines()):
        book, errata = BOOK_MARK.search(line), ERRATA_MARK.search(line)
        lines.append({"code": code_line(book.group(1)) if book else code_line(line),
                      "errata": errata.group(1) if errata else None, "added": bool(ADDED_MARK.search(line)),
                      "indent": len(line) - len(line.lstrip()), "doc": n in docs})
    return lines


def _printed(book_lines):
    """[(code, index in book_lines)] for the printed lines that hold code."""
    return [(code, n) for n, code in enumerate(map(code_line, book_lines)) if code]


def _match(printed, module):
    """{printed index: module index}: each printed line looked for, in order, on the next lines of
    the module, alone or joined with the next printed lines (a line the page wrapped)."""
    found, start, k = {}, 0, 0
    while k < len(printed):
        match = next(((i, n) for i in range(start, len(module)) for n in range(1, 4)
                      if k + n <= len(printed) and module[i]["code"] == "".join(printed[k:k + n])), None)
        if match is None:
            k += 1
            continue
        i, n = match
        found.update({j: i for j in range(k, k + n)})
        start, k = i + 1, k + n
    return found


def _excused(run, quotes):
    """The printed lines ``run`` are among the lines an entry quotes (a wrapped line may be quoted
    as its pieces, in order)."""
    return "".join(run) in "".join(code_line(quote) for quote in quotes)


def _replacements(printed, module, found, used, excuses, problems):
    """Printed lines not found, each replaced in place by a marked line (whose entry, when
    ``excuses`` is given, quotes it); appends the rest to ``problems``; returns the marks used."""
    k, taken = 0, {}
    while k < len(printed):
        if k in found:
            k += 1
            continue
        low = max((i for j, i in found.items() if j < k), default=-1)
        high = min((i for j, i in found.items() if j > k), default=len(module))
        mark = next((i for i in range(low + 1, high) if module[i]["errata"] and i not in used), None)
        if mark is None:
            problems.append(printed[k])
            k += 1
            continue
        run = 1   # the printed lines this mark stands for: enough to close its brackets
        for n in range(1, len(printed) - k + 1):
            if k + n - 1 in found:
                break
            if sum(map(_depth, printed[k:k + n])) == _depth(module[mark]["code"]):
                run = n
                break
        entry = module[mark]["errata"]
        if excuses is not None and not _excused(printed[k:k + run], excuses.get(entry, ())):
            problems.append(f"{''.join(printed[k:k + run])} (changed under errata {entry}, "
                            f"which does not quote it)")
        else:
            used.add(mark)
            taken.update({j: mark for j in range(k, k + run)})
        k += run
    return taken


def unexplained_printed_lines(book_lines, source, used=None, excuses=None):
    """The printed lines that are neither in ``source`` in the printed order nor replaced in place.

    In order, each printed line is looked for on the next lines of ``source``: a line equal to it,
    or to it joined with the printed lines after it (a line the page wrapped), whitespace and
    comments aside; a ``# book: <printed line>`` line counts as its marker. The printed lines
    not found are replaced in place if, between their found neighbours, a line marked
    ``# errata: <id>`` stands for them: each marked line for one printed line, or for as many
    as it takes to close the brackets as the marked line does (a statement the page wrapped).
    ``excuses`` ({id: quotes}) requires the entry a mark names to quote the lines it replaces.
    ``used`` collects the marked lines taken (pass one set for all the listings of a file).
    """
    printed = [code for code, _ in _printed(book_lines)]
    module = module_lines(source)
    problems = []
    _replacements(printed, module, _match(printed, module), set() if used is None else used,
                  excuses, problems)
    return problems


def inserted_lines(book_lines, source):
    """Lines of ``source`` inserted between two printed lines that stand together in the book (no
    blank line between them, the first not an import), unless each is a docstring, a marked line
    (``# errata:``, ``# added:``), or indented under a ``# added:`` line of the same gap."""
    printed = _printed(book_lines)
    codes = [code for code, _ in printed]
    module = module_lines(source)
    found = _match(codes, module)
    _replacements(codes, module, found, set(), None, [])
    inserted, ks = [], sorted(found)
    for a, b in zip(ks, ks[1:]):
        gap = book_lines[printed[a][1] + 1:printed[b][1]]
        if any(not line.strip() for line in gap) or codes[a].startswith(("import", "from")):
            continue
        owner = None   # the indentation of the last ``# added:`` line in this gap
        for line in module[found[a] + 1:found[b]]:
            if owner is not None and line["indent"] > owner:
                continue
            owner = line["indent"] if line["added"] else None
            if line["code"] and not (line["doc"] or line["errata"] or line["added"]):
                inserted.append(line["code"])
    return inserted


# --- `# book:` lines: the printed line, with each option at its default -----------------------

def _enclosing_function(tree, lineno):
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and node.lineno <= lineno <= node.end_lineno]
    return max(functions, key=lambda node: node.lineno, default=None)


_NAME = r"(?<![\w.])({})(?!\w)(?!\s*(?:\.|\(|=(?!=)))"   # a value, not a call, attribute or keyword


def _substitute(code, values):
    return re.sub(_NAME.format("|".join(map(re.escape, values)) or "(?!)"), lambda m: values[m.group(1)], code)


def at_defaults(source, lineno, options):
    """Line ``lineno`` of ``source`` (without its comment) with each option and parameter at its
    default (a def line: its required parameters only, as a call that leaves the others out); local
    variables it passes are replaced by their assigned expression (in the enclosing function, before
    the line), then ``args.<name>`` by ``repr(options[name])``, then parameters of the enclosing
    function by their default. Raises KeyError for an unknown option."""
    tree = ast.parse(source)
    code = strip_comment(source.splitlines()[lineno - 1]).strip()
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
        code = _substitute(code, assigned)
    code = re.sub(r"\bargs\.(\w+)", lambda m: repr(options[m.group(1)]), code)
    return _substitute(code, defaults)


def drifted_book_lines(source, options):
    """[(line number, what the line reads at its defaults, its ``# book:`` marker)] for every
    ``# book:`` line of ``source`` that, with each option (``options``: {name: default}) and
    parameter at its default, does not read as the printed line its marker quotes."""
    drifted = []
    for lineno, line in enumerate(source.splitlines(), 1):
        mark = BOOK_MARK.search(line)
        if mark:
            code = at_defaults(source, lineno, options)
            if code_line(code) != code_line(mark.group(1)):
                drifted.append((lineno, code, mark.group(1)))
    return drifted


def book_marks(source):
    return [mark.group(1) for mark in map(BOOK_MARK.search, source.splitlines()) if mark]
