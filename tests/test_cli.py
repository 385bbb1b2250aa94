"""The dlbook command: fast list/help without TensorFlow, one-line errors."""
import re
import subprocess
import sys

from dlbook import cli


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "dlbook", *args], capture_output=True, text=True)


def test_help_and_list_do_not_import_tensorflow():
    code = ("import sys; from dlbook import cli; cli.main(['--help']); cli.main(['list']); "
            "bad = [m for m in ('tensorflow', 'tensorlayer', 'keras') if m in sys.modules]; "
            "print('IMPORTED', bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "IMPORTED []" in out
    for section, _, _ in cli.SECTIONS:
        assert re.search(rf"^\s+{re.escape(section)}\s", out, re.M), section


def test_list_covers_the_chapter():
    sections = [s for s, _, _ in cli.SECTIONS]
    assert sections[0] == "1.2" and sections[-1] == "1.10.6"
    assert {"1.10.1", "1.10.2", "1.10.3", "1.10.4", "1.10.5", "1.10.6"} <= set(sections)


def test_unknown_section_is_one_line_error():
    result = run_cli("run", "1.11")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown section '1.11'" in lines[0] and "dlbook list" in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_command_is_one_line_error():
    result = run_cli("frobnicate")
    assert result.returncode == 2 and "unknown command" in result.stderr
    assert "Traceback" not in result.stderr


def test_ci_runs_the_readme_test_command(repo_root):
    readme = (repo_root / "README.md").read_text()
    ci = (repo_root / ".ci" / "run").read_text()
    commands = re.findall(r"^pip install -e \"\.\[test\]\" && .+$", readme, re.M)
    assert len(commands) == 1, commands
    assert commands[0] in ci
