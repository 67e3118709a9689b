#!/usr/bin/env bash
# The Python environment the tests run their Python tools from (fhir.resources, pkilint,
# openapi-spec-validator, schemathesis): .venv-tests at the package root, made on first use with
# `python3 -m venv` and the pinned packages of Tests/requirements.txt. Prints the absolute path of
# its python interpreter on standard output, and nothing else there.
#
# Several test processes may call it at once: the work is done under an exclusive lock on
# .venv-tests.lock. The environment is made again when requirements.txt changes (the file's
# SHA-256 is kept in the environment) or when its interpreter no longer runs. When it cannot be
# made, it says why on standard error and exits non-zero.
#
# It needs Python 3.11 or later with the venv module: OPENCPS_TEST_PYTHON names the interpreter
# to use; otherwise the first of python3, python3.14, python3.13, python3.12, python3.11 that is
# recent enough. CI runs it before `swift test` so that a pip failure is reported on its own.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/Tests/requirements.txt"
venv="$root/.venv-tests"
lock="$root/.venv-tests.lock"
stamp="$venv/requirements.sha256"

fail() {
  echo "Tests/python-env.sh: $*" >&2
  exit 1
}

[ -f "$requirements" ] || fail "$requirements is missing"

# One caller at a time from here on. flock(1) is util-linux; where it is missing (macOS), perl's
# flock(2) takes the lock and runs this script again while holding it.
if [ -z "${OPENCPS_PYTHON_ENV_LOCKED:-}" ]; then
  if command -v flock >/dev/null 2>&1; then
    exec 9>>"$lock"
    flock 9 || fail "cannot lock $lock"
  elif command -v perl >/dev/null 2>&1; then
    export OPENCPS_PYTHON_ENV_LOCKED=1
    # $^F keeps the lock's descriptor open across exec, so the lock lasts as long as the script.
    exec perl -MFcntl=:flock -e '$^F = 255; open(my $l, ">>", shift) or die "cannot open lock: $!\n";
      flock($l, LOCK_EX) or die "cannot lock: $!\n"; exec @ARGV or die "cannot run @ARGV: $!\n"' \
      "$lock" bash "${BASH_SOURCE[0]}"
  else
    fail "neither flock nor perl is available to lock $lock"
  fi
fi

digest() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}
wanted="$(digest "$requirements")"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && "$venv/bin/python" -c "" >/dev/null 2>&1; then
  echo "$venv/bin/python"
  exit 0
fi

recent_enough() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}
if [ -n "${OPENCPS_TEST_PYTHON:-}" ]; then
  base="$OPENCPS_TEST_PYTHON"
  recent_enough "$base" || fail "OPENCPS_TEST_PYTHON=$base is not a Python 3.11 or later"
else
  base=""
  for candidate in python3 python3.14 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && recent_enough "$candidate"; then
      base="$candidate"
      break
    fi
  done
  [ -n "$base" ] || fail "the tests need Python 3.11 or later (python3 is $(python3 --version 2>&1 || echo missing)): install one, or name it in OPENCPS_TEST_PYTHON"
fi

echo "Tests/python-env.sh: making $venv with $("$base" --version 2>&1) and Tests/requirements.txt" >&2
log="$(mktemp "${TMPDIR:-/tmp}/opencps-python-env.XXXXXX")"
trap 'rm -f "$log"' EXIT
rm -rf "$venv"
if ! "$base" -m venv "$venv" >"$log" 2>&1; then
  cat "$log" >&2
  rm -rf "$venv"
  fail "$base -m venv failed (output above; on Debian and Ubuntu, install python3-venv)"
fi
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    --requirement "$requirements" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  rm -rf "$venv"
  fail "pip could not install Tests/requirements.txt (the end of its output is above)"
fi
echo "$wanted" >"$stamp"
echo "$venv/bin/python"
