#!/usr/bin/env bash
# Stop what deploy/team/serve.sh (or join.sh) started, clients before servers, and wait until every process of
# it has exited: its process group and every descendant (deploy/team/procs.sh), SIGKILL after MTCLIN_STOP_TIMEOUT
# seconds. Data and secrets stay.
#
#   deploy/team/stop.sh                   everything
#   deploy/team/stop.sh mlflow-server     one service
cd "$(dirname "$0")/../.." || exit 1
. deploy/team/env.sh
. deploy/team/procs.sh

stop_one() {
  case $1 in
    # PostgreSQL: SIGINT is its fast shutdown (disconnect clients, checkpoint); SIGTERM would wait for every client
    postgres) stop_service "$TEAM_DIR" postgres INT ;;
    prefect-worker) stop_service "$TEAM_DIR" prefect-worker TERM "$WORKER_STOP_TIMEOUT" ;;
    *) stop_service "$TEAM_DIR" "$1" TERM ;;
  esac
}

status=0
if [ $# -gt 0 ]; then
  for service in "$@"; do stop_one "$service" || status=1; done
else
  stop_one prefect-worker || status=1            # flow runs first: they write to both servers
  stop_one mlflow-server & mlflow=$!
  stop_one prefect-server & prefect=$!
  wait "$mlflow" || status=1
  wait "$prefect" || status=1
  stop_one s3 || status=1                        # then what the servers write to
  stop_one postgres || status=1
fi
exit $status
