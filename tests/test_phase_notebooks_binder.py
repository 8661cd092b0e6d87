"""The Binder demo's configuration: repo2docker reads binder/ as intended (checked with
`repo2docker --no-build`, which writes the Dockerfile without needing Docker), the files say
what the demo needs, and the README's badge opens the quickstart."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BINDER = REPO / "binder"
TEX = ("texlive-latex-base", "texlive-latex-recommended", "texlive-latex-extra", "texlive-fonts-recommended",
       "lmodern", "latexmk")


def test_binder_files_install_aisci_on_the_cpu_build_of_torch_with_tex():
    requirements = (BINDER / "requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements and "torch==2.13.0" in requirements
    apt = (BINDER / "apt.txt").read_text().split()
    assert set(TEX) <= set(apt)
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK) and "pip install --no-cache-dir ." in post_build.read_text()
    # the JupyterLab extension, built from source with the Node of repo2docker's environment
    assert "pip install --no-cache-dir ./extensions/jupyterlab-aisci" in post_build.read_text()
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    # the demo runs the offline engine: nothing in binder/ names a model or a key
    assert not re.search(r"(?i)api_key|openai:|OPENAI", "".join(p.read_text() for p in BINDER.iterdir()))


def test_readme_badge_opens_the_quickstart_below_the_first_code_block():
    readme = (REPO / "README.md").read_text()
    badge = re.search(r"\[!\[[^\]]*\]\(https://mybinder\.org/badge_logo\.svg\)\]\((https://mybinder\.org/v2/[^)]+)\)",
                      readme)
    assert badge, "README.md has no Binder badge"
    assert "labpath=notebooks%2F00_quickstart.ipynb" in badge[1]
    first_block_end = readme.index("```", readme.index("```") + 3)
    assert badge.start() > first_block_end
    assert (REPO / "notebooks" / "00_quickstart.ipynb").exists()


@pytest.mark.skipif(shutil.which("jupyter-repo2docker") is None,
                    reason="jupyter-repo2docker is not installed (pip install jupyter-repo2docker; scripts/install.sh does it)")
def test_repo2docker_no_build_reads_the_binder_folder(tmp_path):
    # a copy of what repo2docker looks at, so the check does not read the whole working tree
    for name in ("binder", "pyproject.toml", "README.md"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, tmp_path / name)
    result = subprocess.run(["jupyter-repo2docker", "--no-build", "--debug", str(tmp_path)], capture_output=True, check=False,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    dockerfile = result.stdout + result.stderr
    assert "python=3.11" in dockerfile
    install = next(line for line in dockerfile.splitlines() if "apt-get install" in line and "texlive" in line)
    assert all(package in install for package in TEX)
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "./binder/postBuild" in dockerfile
