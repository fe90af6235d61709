#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the test VM (scripts/soak.sh): fuzzer runs, each with a seed of
# its own, and the memory-pressure test, in turn, until SOAK_SECONDS have
# passed. A progress line every 10 s, a summary at the end; TAP "ok" when
# every run passed. A failed fuzzer run prints its seed, which
# BPR_FUZZ_SEED= replays.

duration=${SOAK_SECONDS:-600}
progress=/tmp/soak.progress
start=$(date +%s)
end=$((start + duration))
fuzz=0 fuzz_bad=0 pressure=0 pressure_bad=0 seeds_bad=

report() {
	echo "fuzz=$fuzz fuzz_failed=$fuzz_bad pressure=$pressure pressure_failed=$pressure_bad" > $progress
}

report
# The progress line, from a loop of its own: one run may take minutes.
(
	while :; do
		sleep 10
		echo "# soak: $(($(date +%s) - start)) s of $duration: $(cat $progress)"
	done
) &
ticker=$!

seed=$(($(date +%s) * 1000 + $$))
while [ "$(date +%s)" -lt $end ]; do
	seed=$((seed + 1))
	# At most 120 s a run, no longer than the time left (at least 10 s).
	left=$((end - $(date +%s)))
	[ $left -gt 120 ] && left=120
	[ $left -lt 10 ] && left=10
	if ! BPR_FUZZ_SEED=$seed BPR_FUZZ_SECONDS=$left /tests/bin/bpr_fuzz \
		> /tmp/fuzz.log 2>&1; then
		fuzz_bad=$((fuzz_bad + 1))
		seeds_bad="$seeds_bad $seed"
		echo "# fuzzer failed with BPR_FUZZ_SEED=$seed:"
		tail -n 40 /tmp/fuzz.log | sed 's/^/#   /'
	fi
	fuzz=$((fuzz + 1))
	report
	[ "$(date +%s)" -lt $end ] || break
	if ! /tests/bin/bpr_test -t reclaim > /tmp/pressure.log 2>&1; then
		pressure_bad=$((pressure_bad + 1))
		tail -n 40 /tmp/pressure.log | sed 's/^/#   /'
	fi
	pressure=$((pressure + 1))
	report
done
kill $ticker
wait $ticker 2> /dev/null

echo "# soak summary: $(($(date +%s) - start)) s, $(cat $progress)${seeds_bad:+, failed seeds:$seeds_bad}"
echo "1..1"
if [ $((fuzz_bad + pressure_bad)) -eq 0 ] && [ $fuzz -gt 0 ]; then
	echo "ok 1 soak"
else
	echo "not ok 1 soak"
	exit 1
fi
