"""docs/errata.md and the code agree: every `# errata: <id>` names an entry, every test an entry
cites exists."""
import re


def test_code_comments_point_to_existing_entries(repo_root):
    doc = (repo_root / "docs" / "errata.md").read_text()
    entries = set(re.findall(r"^### ([a-z0-9.\-]+) ", doc, re.M))
    assert len(entries) >= 20
    cited = set()
    for folder in ("dlbook", "chapters", "scripts"):
        for path in (repo_root / folder).rglob("*.py"):
            cited |= set(re.findall(r"errata: ([a-z0-9.\-]+)", path.read_text()))
    assert cited, "no errata comments found in the code"
    assert cited <= entries, f"comments name missing entries: {sorted(cited - entries)}"


def test_every_cited_test_exists(repo_root):
    doc = (repo_root / "docs" / "errata.md").read_text()
    citations = re.findall(r"(tests/test_\w+\.py)::(\w+)", doc)
    assert len(citations) >= 20
    for path, name in citations:
        source = (repo_root / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} cited in errata.md does not exist"
