#!/usr/bin/env bash
# Build the Linux one-folder bundle dist/ai-container-studio/ and its tarball
# dist/ai-container-studio-<version>-linux-<arch>.tar.gz.
#   packaging/build-linux.sh            (uses .venv/bin/python, or $PYTHON)
# Needs the project installed with the `package` extra: pip install -e '.[package]'
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
DIST=${DIST:-$ROOT/dist}
WORK=${WORK:-$ROOT/build/pyinstaller}

"$PYTHON" -m PyInstaller --version >/dev/null 2>&1 || {
  echo "PyInstaller is missing: $PYTHON -m pip install -e '.[package]'" >&2; exit 1; }
"$PYTHON" packaging/sync_resources.py --check >/dev/null || {
  echo "gui/_resources differs from resources/: run $PYTHON packaging/sync_resources.py" >&2; exit 1; }

version=$("$PYTHON" -c 'import gui; print(gui.__version__)')
arch=$(uname -m)
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" packaging/ai-container-studio.spec

bundle="$DIST/ai-container-studio"
"$bundle/ai-container-studio" --version
tarball="$DIST/ai-container-studio-$version-linux-$arch.tar.gz"
tar -C "$DIST" -czf "$tarball" ai-container-studio
echo "bundle:  $bundle ($(du -sh "$bundle" | cut -f1))"
echo "tarball: $tarball ($(du -sh "$tarball" | cut -f1))"
echo "built in $(( $(date +%s) - start ))s"
