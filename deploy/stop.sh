#!/usr/bin/env bash
# Stop what deploy/serve.sh started.
cd "$(dirname "$0")/.."
for name in prefect-worker mlflow-server prefect-server; do
  pidfile=.mtclin/$name.pid
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
done
