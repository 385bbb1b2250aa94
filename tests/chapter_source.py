"""Reading the chapter's text (../shared/book/chapter1.zh.md) and docs/errata.md for the tests
that check dlbook against the printed page (tests/test_book_fidelity.py).

The chapter is looked up in $DLBOOK_SHARED_DIR/book/ when that variable is set, else in
<repo>/../shared/book/ (a clone of the repository beside ../shared). Tests that need it skip,
naming the path, when it is absent; under CI (``CI=true``) they fail instead.
"""
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ENV = "DLBOOK_SHARED_DIR"


def chapter_path():
    shared = os.environ.get(SHARED_ENV)
    return (Path(shared) if shared else REPO.parent / "shared") / "book" / "chapter1.zh.md"


def chapter_text():
    """The chapter's markdown; skips the calling test when the file is absent (fails under CI)."""
    path = chapter_path()
    if not path.is_file():
        message = (f"the chapter's text is not at {path}: put the repository beside ../shared, "
                   f"or set {SHARED_ENV} to the directory that holds book/chapter1.zh.md")
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    return path.read_text(encoding="utf-8")


def squeeze(text):
    """``text`` without any whitespace: quotes match across the book's line breaks."""
    return re.sub(r"\s+", "", text)


# --- the chapter --------------------------------------------------------------------------------

def equation_numbers(text):
    """The numbers of the chapter's displayed equations, e.g. {"1.1", ..., "1.26"}: the ``(1.N)``
    or ``\\tag{1.N}`` inside ``$$ ... $$`` blocks."""
    numbers = set()
    for block in re.findall(r"\$\$(.+?)\$\$", text, re.S):
        numbers |= set(re.findall(r"(?:\\tag\{|\()(1\.\d+)[)}]\s*$", block.strip()))
    return numbers


def algorithm_numbers(text):
    return set(re.findall(r"\*\*算法 (1\.\d+)\*\*", text))


def listings(text):
    """The chapter's code listings in order: {label: [lines]}.

    A fenced block preceded by a caption ``代码 1.N`` is "Listing 1.N"; a block separated from the
    previous one by nothing but blank lines and ``---`` rules continues it (page breaks split
    Listing 1.4 and the 1.10.4 and 1.10.5 listings); any other block is "<section> listing k",
    numbered within its section (e.g. "1.10.3 listing 2"). The replies of 1.10.6 (``Query > ...``)
    are output, not code, and are skipped.
    """
    result, label, previous_end, counts = {}, None, None, {}
    for match in re.finditer(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
        before = text[previous_end if previous_end is not None else 0:match.start()]
        previous_end = match.end()
        lines = match.group(1).splitlines()
        if any(line.startswith("Query >") for line in lines):
            continue
        caption = re.findall(r"代码 (1\.\d+)", before)
        if caption:
            label = f"Listing {caption[-1]}"
        elif label is None or re.sub(r"[\s-]", "", before):
            section = re.findall(r"^#+ (1\.\d+(?:\.\d+)?) ", text[:match.start()], re.M)[-1]
            counts[section] = counts.get(section, 0) + 1
            label = f"{section} listing {counts[section]}"
        result.setdefault(label, []).extend(lines)
    return result


def code_line(line):
    """A line of Python without its comment, prompt and whitespace ('' for a comment line)."""
    return squeeze(strip_comment(re.sub(r"^\s*(>>>|\.\.\.)\s", "", line)))


def strip_comment(line):
    """``line`` without its ``#`` comment (a ``#`` inside a string literal kept)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i]
    return line


# --- docs/errata.md ------------------------------------------------------------------------------

def errata_doc(name="errata.md"):
    """docs/errata.md, or ``name`` in docs/ (``errata.zh.md``)."""
    return (REPO / "docs" / name).read_text(encoding="utf-8")


def errata_entries(doc):
    """{id: body} for every ``### <id> — <title>`` entry (the body runs to the next heading)."""
    parts = re.split(r"^(#{2,3} .*)$", doc, flags=re.M)
    entries = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        match = re.match(r"### ([a-z0-9.\-]+) ", heading)
        if match:
            entries[match.group(1)] = body
    return entries


def _code_spans(text):
    return [quote.strip() if len(ticks) > 1 else quote for ticks, quote in re.findall(r"(`+)(.+?)\1", text)]


def printed_quotes(body):
    """The verbatim quotes of an entry: every inline-code span on its ``- **Printed:**`` lines
    (``- **原文：**`` in docs/errata.zh.md)."""
    lines = re.findall(r"^\s*- \*\*(?:Printed:|原文：)\*\* (.*)$", body, re.M)
    return [quote for line in lines for quote in _code_spans(line)]


def typo_rows(doc):
    """{id: [quotes]} of the table of typos and wording slips: rows ``| `typo-...` | quotes | ...``."""
    return {entry: _code_spans(quotes)
            for entry, quotes in re.findall(r"^\| `(typo-[a-z0-9.\-]+)` \| (.*?) \| ", doc, re.M)}


def checked_table(doc):
    """The rows of the table of checked items: a list of cell lists (header and rule excluded)."""
    section = doc.split("## Checked against the chapter", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]
