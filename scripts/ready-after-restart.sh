#!/usr/bin/env bash
# Time from starting `caseledger serve` on an existing data directory to
# its /readyz answering 200: the restart figure of docs/performance.md
# ("Projections and caseload"). The directory must hold read-model
# snapshots (a previous serve, or `caseledger rebuild`) for the figure to
# be a restart's; without them it is a first start's.
#
#   scripts/ready-after-restart.sh DATA_DIR [RUNS]
#
# The master key is read from DATA_DIR/master.key (as `caseledger demo`
# and `seed` leave it). Each run is stopped with SIGTERM, which writes the
# snapshots again.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:?usage: scripts/ready-after-restart.sh DATA_DIR [RUNS]}"
runs="${2:-3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/caseledger-restart.XXXXXX")"
trap 'rm -rf "$work"' EXIT
go build -o "$work/caseledger" ./cmd/caseledger
port=18181
for i in $(seq "$runs"); do
	start=$(date +%s.%N)
	"$work/caseledger" serve --data "$data" --master-key-file "$data/master.key" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
	pid=$!
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)" = 200 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$work/serve.log" >&2
			echo "serve exited before it was ready" >&2
			exit 1
		fi
		sleep 0.02
	done
	end=$(date +%s.%N)
	echo "run $i: ready after $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') s"
	kill -TERM "$pid"
	wait "$pid" || true
done
