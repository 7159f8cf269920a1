"""The pre-commit checks (ruff lint and format, XML, whitespace) pass."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / '.venv' / 'bin'


def test_pre_commit_clean():
    env_path = f'{VENV_BIN}:{shutil.os.environ.get("PATH", "")}'
    result = subprocess.run(
        [str(VENV_BIN / 'pre-commit'), 'run', '--all-files', '--show-diff-on-failure'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(
            shutil.os.environ,
            PATH=env_path,
            PRE_COMMIT_HOME=str(ROOT / 'var' / 'pre-commit'),
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
