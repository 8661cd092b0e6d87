#!/usr/bin/env bash
# Install aisci with everything it uses: LaTeX for the PDF and chromium for the browser tests
# (Debian/Ubuntu packages, when this user may run apt-get), the CPU build of PyTorch, and the
# package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
              lmodern latexmk chktex poppler-utils
              bubblewrap  # the sandbox every generated-code kernel runs in (fail closed without it)
              chromium)  # the browser tests drive Debian's chromium; Playwright never downloads one

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" != "none" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
  else
    echo "install.sh: no root: skipping ${APT_PACKAGES[*]}; studies will write the .tex and a Markdown paper, browser tests will skip" >&2
  fi
fi

# PyTorch's CPU build: on Linux the default index serves the CUDA build (several GB), so take
# PyTorch's CPU wheel index when it answers within a few seconds (one try), else the plain pin
# (on machines with a local mirror of the CPU build, as in CI)
TORCH="torch==2.13.0"
CPU_INDEX="https://download.pytorch.org/whl/cpu"
if python - "$CPU_INDEX/torch/" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=5).close()
except Exception:
    sys.exit(1)
PY
then
  python -m pip install -q --timeout 20 --retries 1 --index-url "$CPU_INDEX" "$TORCH"
else
  echo "install.sh: $CPU_INDEX cannot be reached; installing $TORCH from the configured index" >&2
  python -m pip install -q "$TORCH"
fi
python -m pip install -q -e '.[test]'
# the browser tests (JupyterLab + Playwright's Python package only: never `playwright install`) and the
# Binder configuration check (repo2docker --no-build needs no Docker); until pyproject's test extras list them
python -m pip install -q jupyterlab playwright jupyter-repo2docker
# the JupyterLab extension, built from source (TypeScript, with Node 20 and jlpm) into a wheel that carries the
# prebuilt frontend and the server extension; `jupyter labextension list` and `jupyter server extension list` show it
if command -v node >/dev/null 2>&1; then
  rm -rf extensions/jupyterlab-aisci/jupyterlab_aisci/labextension  # a development build is never shipped
  python -m pip install -q ./extensions/jupyterlab-aisci
  # capture each listing before grep reads it: `grep -q` stops at the first match, the lister then dies of a
  # broken pipe (exit 1) and pipefail would fail a good install
  labextensions="$(jupyter labextension list 2>&1)"
  server_extensions="$(jupyter server extension list 2>&1)"
  grep -q "jupyterlab-aisci.*enabled.*OK" <<<"$labextensions" \
    || { echo "install.sh: jupyterlab-aisci is not enabled in JupyterLab" >&2; exit 1; }
  grep -q "jupyterlab_aisci.*enabled" <<<"$server_extensions" \
    || { echo "install.sh: the jupyterlab_aisci server extension is not enabled" >&2; exit 1; }
else
  echo "install.sh: no Node.js: skipping the JupyterLab extension (extensions/jupyterlab-aisci needs Node 20 to build)" >&2
fi
echo "install.sh: aisci $(python -c 'import aisci; print(aisci.__version__)') installed;" \
     "$(python -c 'import torch; print("torch", torch.__version__, "(CUDA)" if torch.version.cuda else "(CPU build)")')"
