#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suites as anyone with the driver in a kernel tree runs them on
# x86_64: kunit.py run --arch=x86_64 with tests/.kunitconfig alone, on
# kunit.py's own minimal config (no memory cgroups, debugfs or
# tracepoints; one CPU), built with gcc. What the README promises, with
# only the kernel arguments of every test boot added (panic_args(), from
# the config, which has neither KASAN nor KCSAN): a warning panics the
# kernel, and kunit.py counts the case as crashed.
. "$(dirname "$0")/common.sh"

args=()
for a in $(panic_args "$BPR_ROOT/tests/.kunitconfig"); do
	args+=(--kernel_args="$a")
done
exec "$BPR_ROOT/scripts/kunit-run.sh" kunit-min --arch=x86_64 \
	--make_options="${BPR_X86_GCC[0]}" "${args[@]}"
