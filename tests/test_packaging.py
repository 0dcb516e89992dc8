"""`pip install loaxa` (not editable) carries everything a deployment reads at run time."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
IGNORED = (".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "test-artifacts")


def test_a_real_install_finds_its_default_schedule_and_templates(tmp_path: Path) -> None:
    target, source = tmp_path / "site", tmp_path / "source"
    # A copy without build/ or egg-info: setuptools would otherwise reuse files built before.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*IGNORED))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    code = (
        "import controller.config as c, web, pathlib;"
        "from controller.planning import load_schedule;"
        "print(c.DEFAULT_SCHEDULE);"
        "print([w.name for w in load_schedule(c.DEFAULT_SCHEDULE).windows]);"
        "print((pathlib.Path(web.__file__).parent / 'templates' / 'ui').is_dir())"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path,
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    assert shown[0].startswith(str(target)), "the schedule came from the source tree, not the install"
    assert shown[1:3] == ["['morning', 'evening']", "True"]
