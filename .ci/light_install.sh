#!/usr/bin/env bash
# The light install: `pip install .` in a second venv brings none of the built-in scenarios'
# ML libraries, and memleak still checks the user's own code (run, pytest plugin, track, watch);
# a built-in scenario stops with one line naming the extra (exit 2).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv=${LIGHT_VENV:-$repo/.venv-light}
rm -rf "$venv" && python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "$repo" pytest
heavy=$("$venv/bin/pip" list --format=freeze | grep -iE '^(optuna|lightgbm|autofeat|tsfresh|numba|scikit-learn|pandas)==' || true)
if [ -n "$heavy" ]; then echo "light install brought: $heavy"; exit 1; fi
work=$(mktemp -d) && cp .ci/light/*.py "$work" && cd "$work"
# the user's own code: a leaking handler is LEAK (exit 1 with --fail-on-leak), a clean one CLEAN
"$venv/bin/memleak" run handler.py::clean -n 12 --json clean.json --fail-on-leak >/dev/null
set +e
"$venv/bin/memleak" run handler.py::leaky -n 12 --json leaky.json --fail-on-leak >/dev/null; status=$?
set -e
[ "$status" = 1 ] || { echo "memleak run handler.py::leaky exited $status, not 1"; exit 1; }
# the pytest plugin (its pytest11 entry point): one test passes, the leaking one fails
"$venv/bin/python" -m pytest -q -p no:cacheprovider test_plugin.py -k clean
if "$venv/bin/python" -m pytest -q -p no:cacheprovider test_plugin.py -k leaky >plugin.out; then
  echo "the pytest plugin passed a leaking test"; cat plugin.out; exit 1
fi
"$venv/bin/python" track_and_watch.py
# a built-in scenario without the extra: exit 2, one line naming it
set +e
err=$("$venv/bin/memleak" run optuna --iterations 20 2>&1 >/dev/null); status=$?
set -e
[ "$status" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [[ "$err" == *"memleak[scenarios]"* ]] \
  || { echo "memleak run optuna without the extra: exit $status, stderr: $err"; exit 1; }
echo "light install OK: no ML libraries; run, pytest plugin, track, watch work; optuna says: $err"
