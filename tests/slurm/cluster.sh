#!/bin/sh
# cluster.sh: a one-node Slurm cluster on this machine, for `make test-slurm`.
#   tests/slurm/cluster.sh start DIR   start munged, slurmctld and slurmd with
#                                      their state, logs and slurm.conf in DIR;
#                                      prints `export SLURM_CONF=DIR/slurm.conf`
#   tests/slurm/cluster.sh stop DIR    stop the daemons started there, by pid
# Needs root (SlurmUser=root) and the Debian packages slurmctld, slurmd,
# slurm-client and munge (harness/deps.sh slurm); no systemd. Exit 77 with the
# reason on stderr when the cluster cannot start (the test then skips).
set -eu
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop_pid() { # kill the daemon whose pid file is $1, wait for it to go
  [ -f "$1" ] || return 0
  pid=$(cat "$1"); rm -f "$1"
  kill "$pid" 2>/dev/null || return 0
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
}

if [ "$cmd" = stop ]; then
  stop_pid "$dir/slurmd.pid"; stop_pid "$dir/slurmctld.pid"; stop_pid "$dir/munged.pid"
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

skip() { echo "slurm cluster: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to run slurmd and munged as their users (running as uid $(id -u))"
for b in munged slurmctld slurmd sbatch squeue scancel; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || skip "$b is not installed (harness/deps.sh slurm)"
done
id munge >/dev/null 2>&1 || skip "no 'munge' user (the munge package creates it)"
PATH=$PATH:/usr/sbin

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 / 2 }' /proc/meminfo)

# munge: its own key, socket and files, run as the munge user
mkdir -p "$dir/munge" "$dir/spool" "$dir/state" "$dir/log"
chmod 0755 "$dir" "$dir/munge" # the socket's directory must be searchable by all
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 0400 "$dir/munge/munge.key"
chown -R munge:munge "$dir/munge"
touch "$dir/munged.log" && chown munge "$dir/munged.log"
runuser -u munge -- munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" --log-file="$dir/munged.log" \
  || skip "munged did not start: $(tail -n 3 "$dir/munged.log" 2>/dev/null)"
i=0; while [ ! -s "$dir/munge/munged.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cp "$dir/munge/munged.pid" "$dir/munged.pid" 2>/dev/null || skip "munged wrote no pid file"

cat > "$dir/slurm.conf" <<CONF
ClusterName=embsweep-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SchedulerType=sched/backfill
KillWait=5
MinJobAge=30
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -D -i -f "$dir/slurm.conf" >"$dir/log/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -f "$dir/slurm.conf" >"$dir/log/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"
# ready when the node is idle
i=0
while [ $i -lt 300 ]; do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n 1 || true)
  case "$state" in idle*|mix*|alloc*) echo "export SLURM_CONF=$dir/slurm.conf"; exit 0 ;; esac
  kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null || break
  kill -0 "$(cat "$dir/slurmd.pid")" 2>/dev/null || break
  sleep 0.2; i=$((i + 1))
done
why=$(tail -n 3 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" 2>/dev/null | tr '\n' ' ')
"$0" stop "$dir"
skip "slurmctld/slurmd did not bring the node up (state '${state:-none}'): $why"
