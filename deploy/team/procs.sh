# Starting and stopping the stack's servers so that `stop` ends exactly what `start` began (sourced by
# deploy/serve.sh, deploy/stop.sh and deploy/team/*.sh).
#
# Each service runs in its own session and process group (setsid) and carries MTCLIN_STACK=<stack id>/<service>
# in its environment, which every descendant inherits: the Prefect worker's flow runs (started in sessions of their
# own), MLflow's gunicorn workers and job consumers, the PostgreSQL backends. `<state>/<service>.pid` holds
# "<pid> <start time>" so a pid reused by an unrelated process is never signalled.

STOP_TIMEOUT=${MTCLIN_STOP_TIMEOUT:-20}  # seconds a server gets to exit after its stop signal, then SIGKILL
# Prefect's process worker (3.9.1), asked to stop after it has run a flow, forwards SIGINT to itself and then may
# wait forever ("Received SIGTERM. Sending SIGINT to the process worker"): it and its flow runs get less time.
WORKER_STOP_TIMEOUT=${MTCLIN_WORKER_STOP_TIMEOUT:-8}

_start_time() {  # pid -> the kernel's start time of that process (field 22 of /proc/<pid>/stat), or nothing
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }  # the command name may hold spaces; the fields after it do not
  set -- $stat
  echo "${20}"
}

_stack_id() {  # state dir -> the id marking this stack's processes (made once, kept in the state dir)
  if [ ! -s "$1/stack-id" ]; then
    od -An -N8 -tx1 /dev/urandom | tr -d ' \n' >"$1/stack-id"
  fi
  cat "$1/stack-id"
}

# start_service STATE NAME COMMAND...: run COMMAND in the background in a session of its own, output to
# STATE/NAME.log; records its pid. (In a script, without job control, setsid execs in place: $! is the server.)
start_service() {
  local state=$1 name=$2 pid
  shift 2
  MTCLIN_STACK="$(_stack_id "$state")/$name" setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid $(_start_time "$pid")" >"$state/$name.pid"
}

# service_pids STATE NAME: every live process of the service: its process group and whatever carries its marker.
service_pids() {
  local state=$1 name=$2 pid start marker stat
  [ -f "$state/$name.pid" ] || return 0
  read -r pid start <"$state/$name.pid" || true
  {
    # the recorded process (unless its pid now belongs to another) and its process group
    if [ -n "$pid" ] && { [ -z "$start" ] || [ "$(_start_time "$pid")" = "$start" ]; }; then
      echo "$pid"
      ps -e -o pid= -o pgid= | awk -v g="$pid" '$2 == g {print $1}'
    fi
    # every descendant, whichever session or group it moved to
    if [ -s "$state/stack-id" ]; then
      marker="MTCLIN_STACK=$(cat "$state/stack-id")/$name"
      grep -lzx -- "$marker" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/\([0-9]*\)/environ$|\1|' || true
    fi
  } | sort -un | while read -r p; do
    # alive, that is: still there and no zombie (a zombie has exited: only its parent can reap it)
    stat=$(ps -o stat= -p "$p" 2>/dev/null) || continue
    case $stat in Z*|"") ;; *) echo "$p" ;; esac
  done
  return 0
}

# stop_service STATE NAME [SIGNAL] [SECONDS]: signal every process of the service, wait up to SECONDS (default
# STOP_TIMEOUT) for all of them to exit, then SIGKILL the rest and wait for those too. Returns 1 if something is
# still alive then.
stop_service() {
  local state=$1 name=$2 signal=${3:-TERM} timeout=${4:-$STOP_TIMEOUT} pids p signalled=" " waited=0
  [ -f "$state/$name.pid" ] || return 0
  pids=$(service_pids "$state" "$name")
  if [ -n "$pids" ]; then
    while [ -n "$pids" ] && [ "$waited" -lt $((timeout * 5)) ]; do
      for p in $pids; do  # each process once, those forked while stopping (a respawned worker) included
        case $signalled in *" $p "*) ;; *) kill -s "$signal" "$p" 2>/dev/null || true; signalled="$signalled$p " ;; esac
      done
      sleep 0.2
      waited=$((waited + 1))
      pids=$(service_pids "$state" "$name")
    done
    pids=$(service_pids "$state" "$name")
    if [ -n "$pids" ]; then
      echo "$name: still running ${timeout}s after SIG$signal (pids $(echo $pids)); sending SIGKILL" >&2
      kill -s KILL $pids 2>/dev/null || true
      for _ in $(seq 1 50); do
        [ -z "$(service_pids "$state" "$name")" ] && break
        sleep 0.2
      done
    fi
  fi
  pids=$(service_pids "$state" "$name")
  if [ -n "$pids" ]; then
    echo "$name: could not be stopped (pids $(echo $pids))" >&2
    return 1
  fi
  rm -f "$state/$name.pid"
}

# service_running STATE NAME: true while the recorded server process is alive.
service_running() {
  local pid start
  [ -f "$1/$2.pid" ] || return 1
  read -r pid start <"$1/$2.pid" || return 1
  [ -n "$pid" ] && [ "$(_start_time "$pid")" = "$start" ]
}

# wait_for_url URL NAME STATE [SECONDS]: until URL answers (any HTTP status), or fail naming the log to read.
wait_for_url() {
  local url=$1 name=$2 state=$3 seconds=${4:-120}
  for _ in $(seq 1 $((seconds * 2))); do
    if curl -sS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    if ! service_running "$state" "$name"; then break; fi
    sleep 0.5
  done
  echo "$name did not start: see $state/$name.log" >&2
  tail -n 20 "$state/$name.log" >&2 || true
  return 1
}
