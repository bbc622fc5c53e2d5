"""The README as a newcomer reads it: the demo's sign-ins are those seed_demo makes, every
link leads to a file of this repository, and `make serve` prints the address passkeys
work on."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from accounts.management.commands import seed_demo

ROOT = Path(settings.BASE_DIR)
DOCUMENTS = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
QUOTED_PATH = re.compile(r"`([\w./-]+/[\w.-]*|[\w.-]+\.md)`")  # `docs/API.md`, `var/mail/`


def test_the_readme_names_the_demo_sign_ins_seed_demo_makes():
    readme = (ROOT / "README.md").read_text()
    for value in [
        seed_demo.DEMO_LOGIN_ID,
        seed_demo.DEMO_PASSWORD,
        seed_demo.DEMO_USER_PASSWORD,
        *(login_id for login_id, *_profile in seed_demo.DEMO_USERS),
    ]:
        assert f"`{value}`" in readme


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_leads_to_a_file_of_the_repository(document):
    text = document.read_text()
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
    targets = [t.split("#")[0] for t in targets if t.split("#")[0]]
    for target in targets:
        path = (document.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{target} is outside the repository"
        assert path.exists(), f"{target} does not exist"
    for quoted in QUOTED_PATH.findall(text):
        assert not quoted.startswith("../"), f"{quoted} is outside the repository"


def test_make_serve_prints_the_address_passkeys_work_on(tmp_path):
    """bin/serve with stand-ins for gunicorn and manage.py that end at once."""
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "serve", tmp_path / "bin" / "serve")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    for program in ("gunicorn", "python"):
        (venv / program).write_text("#!/bin/sh\nexit 0\n")
        (venv / program).chmod(0o755)
    printed = subprocess.run(
        [tmp_path / "bin" / "serve"],
        env={name: value for name, value in os.environ.items() if name != "BIND"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout
    assert "http://localhost:8000/" in printed
    assert "127.0.0.1" not in printed.replace("not on 127.0.0.1", "")
    assert "http://localhost:8000" in settings.OTP_WEBAUTHN_ALLOWED_ORIGINS
