#!/usr/bin/env bash
# The load run of docs/performance.md ("Load"): builds caseledger and the
# load generator, seeds a demo population into a temporary directory
# unless one is given, and runs scripts/loadgen against a real
# `caseledger serve` on loopback: a trivial handler (this machine's
# ceiling), the caseworkers' mix, and writes alone.
#
#   scripts/load.sh                      # 10,000 participants, 20 s per phase
#   scripts/load.sh --large              # 100,000 participants (seeding takes about 12 minutes)
#   scripts/load.sh --data DIR           # an existing seeded directory (the run adds its writes to it)
#   scripts/load.sh -- -duration 60s -conns 128 -profile-dir /tmp/prof
#
# Everything after -- goes to the load generator (go run ./scripts/loadgen
# -h lists its flags). The exit status is 1 when any request failed: such a
# run is not a valid measurement.
set -euo pipefail

cd "$(dirname "$0")/.."

participants=10000
data=""
keep=false
while [ $# -gt 0 ]; do
	case "$1" in
	--large) participants=100000 ;;
	--participants) participants="$2"; shift ;;
	--data) data="$2"; shift ;;
	--keep) keep=true ;;
	--) shift; break ;;
	-h | --help)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		echo "  --participants N   seed N participants instead (default 10000)"
		echo "  --keep             keep the seeded temporary directory"
		exit 0
		;;
	*) echo "load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

work="$(mktemp -d "${TMPDIR:-/tmp}/caseledger-load.XXXXXX")"
cleanup() {
	if [ "$keep" = true ] && [ -z "$data" ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

echo "== build"
go build -o "$work/caseledger" ./cmd/caseledger
go build -o "$work/loadgen" ./scripts/loadgen

if [ -z "$data" ]; then
	data="$work/data"
	echo "== seed $participants participants into $data"
	# The fixed seed makes the population the same on every run; the
	# reference date is today, since the writes of the run are dated today.
	"$work/caseledger" seed --participants "$participants" --seed 1 --data "$data" >"$work/seed.out"
	head -3 "$work/seed.out"
fi

echo "== machine"
echo "nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== load"
"$work/loadgen" -caseledger "$work/caseledger" -data "$data" -server-log "$work/server.log" "$@"
