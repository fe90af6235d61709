#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suites as anyone with the driver in a kernel tree runs them on
# x86_64: kunit.py run --arch=x86_64 with tests/.kunitconfig alone, on
# kunit.py's own minimal config (no memory cgroups, debugfs or
# tracepoints; one CPU), built with gcc. What the README promises.
. "$(dirname "$0")/common.sh"

exec "$PR_ROOT/scripts/kunit-run.sh" kunit-min --arch=x86_64 \
	--make_options="${PR_X86_GCC[0]}"
