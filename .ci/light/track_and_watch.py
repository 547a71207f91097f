"""track and watch in the light install; exits non-zero on a wrong verdict."""

import subprocess
import sys

from handler import clean, leaky

import memleak_cli

tracked_leak = memleak_cli.track("leaky", repeat=True, level=None)(leaky)
tracked_clean = memleak_cli.track("clean", repeat=True, level=None)(clean)
for _ in range(20):
    tracked_leak()
    tracked_clean()
assert tracked_leak.tracker.verdict().verdict == "LEAK", tracked_leak.tracker.verdict()
assert tracked_clean.tracker.verdict().verdict == "CLEAN", tracked_clean.tracker.verdict()

# watch a short-lived process to its exit (no timing: it ends when the process does)
watch = subprocess.run(
    [sys.executable, "-m", "memleak_cli", "watch", "--interval", "100ms", "--json", "watch.json",
     "--", sys.executable, "-c", "import time; time.sleep(1)"],
    capture_output=True, text=True, check=False,
)
assert watch.returncode == 0, watch.stdout + watch.stderr
assert "process exited (exit status 0)" in watch.stdout, watch.stdout
print("light install: track LEAK/CLEAN and watch OK")
