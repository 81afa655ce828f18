#!/usr/bin/env bash
# Trains on every host of a Cloud TPU VM slice (v4-32, v5e-64, ...): gcloud starts
# `python -m experiments.train --jax_distributed` on all workers at once, one process
# per host; jax.distributed.initialize() reads the coordinator and the process ids from
# the TPU metadata, so no address is passed. See BUILD.md "Several processes and pods".
#
#   experiments/launch/tpu_vm.sh [--dry_run] TPU_NAME ZONE [experiments.train flags]
#   experiments/launch/tpu_vm.sh my-v4-32 us-central2-b --config=enformer \
#       --workdir=/mnt/runs/enformer --config.mesh_shape='(-1, 1)'
#
# --dry_run prints the gcloud command instead of running it. The workdir must be one
# folder every host sees (NFS/Filestore, or a gcsfuse mount). Environment: REPO_DIR (the
# checkout on every worker, default ~/genereg-jax), PYTHON (default python3 on the
# workers), PROJECT (gcloud --project; default gcloud's own).
set -euo pipefail

usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }

dry_run=0
if [[ "${1:-}" == "--dry_run" ]]; then dry_run=1; shift; fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then usage; exit 0; fi
if (( $# < 2 )); then usage >&2; exit 2; fi
name=$1 zone=$2
shift 2

# Single quotes where a shell needs them ('--config.mesh_shape=(-1, 1)').
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then printf '%s' "$1"
  else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

# The workers' shell reads this line (and expands REPO_DIR's ~).
remote="cd ${REPO_DIR:-~/genereg-jax} && ${PYTHON:-python3} -m experiments.train --jax_distributed"
for arg in "$@"; do remote+=" $(quote "$arg")"; done
command=(gcloud compute tpus tpu-vm ssh "$name" --zone "$zone" --worker=all)
if [[ -n "${PROJECT:-}" ]]; then command+=(--project "$PROJECT"); fi
command+=(--command "$remote")

if (( dry_run )); then
  # All but the remote line as words, the remote line in double quotes.
  for word in "${command[@]:0:${#command[@]}-1}"; do printf '%s ' "$(quote "$word")"; done
  escaped=${remote//\\/\\\\}; escaped=${escaped//\"/\\\"}
  escaped=${escaped//\$/\\\$}; escaped=${escaped//\`/\\\`}
  printf '"%s"\n' "$escaped"
else
  exec "${command[@]}"
fi
