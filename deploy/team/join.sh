#!/usr/bin/env bash
# A second machine joins the team stack as a worker. On it: the project checked out at the same path as on the
# stack's machine (deployments start flows there), `make install`, then, with the stack's
# .mtclin/team/client.env copied over (scp; keep it mode 600):
#
#   deploy/team/join.sh client.env        # DVC remote `team`, `dvc pull`, a worker on pool mtclin-team
#
# Stop it with deploy/team/stop.sh prefect-worker (or `make stop`).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/team/env.sh
. deploy/team/procs.sh
. deploy/team/client.sh
file=$(realpath "${1:?usage: deploy/team/join.sh CLIENT_ENV_FILE}")
mkdir -p "$TEAM_DIR"
chmod 700 "$TEAM_DIR"
if service_running "$TEAM_DIR" prefect-worker; then
  echo "a worker already runs here (deploy/team/stop.sh prefect-worker first)" >&2
  exit 1
fi
configure_dvc_remote "$file"
"$BIN/dvc" pull -q  # raw and processed data: flows here start without preprocessing
start_worker "$file"
echo "worker mtclin-$(hostname -s) started on pool mtclin-team; log: $TEAM_DIR/prefect-worker.log"
