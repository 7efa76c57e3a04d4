#!/usr/bin/env bash
# Runs the whole test suite. PostgreSQL: DATABASE_URL, else the local server on
# 127.0.0.1:5432, else a throwaway cluster started by the test fixtures. The S3
# server (nanio) is started by the fixtures unless PERMIT_TEST_S3_ENDPOINT is set.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
workers=${PYTEST_WORKERS:-2}
"$PY" -m pytest -n "$workers" --dist loadgroup "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "no tests collected"
  exit 0
fi
exit "$rc"
