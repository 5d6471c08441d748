"""The first `make run` on a fresh machine: Django's checks pass before anything has created
the upload directories (they once failed at `migrate` with files.E001)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_checks_pass_with_upload_dirs_that_do_not_exist_yet(tmp_path):
    uploads = tmp_path / "fresh" / "uploads"
    assert not uploads.exists()
    env = {**os.environ, "CITYGRID_UPLOAD_DIR": str(uploads)}
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (uploads / "spool").is_dir()


def test_the_recommendation_model_directory_is_made_at_start(tmp_path):
    models = tmp_path / "fresh" / "recommend"
    env = {**os.environ, "CITYGRID_CASES_RECOMMEND_DIR": str(models)}
    done = subprocess.run(
        [sys.executable, "manage.py", "train_recommend", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert models.is_dir() and not any(models.iterdir())
