#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites on UML (kunit.py's default architecture), gcc, with
# lockdep, KASAN and the list and VM checks; a warning or a KASAN report
# panics the kernel, which kunit.py counts as a crash. BPR_KUNIT_SUITE
# names the run in the results and logs (kunit-uml), as make mutants does.
. "$(dirname "$0")/common.sh"

args=()
for opt in DEBUG_KERNEL PROVE_LOCKING DEBUG_ATOMIC_SLEEP KASAN DEBUG_LIST DEBUG_VM; do
	args+=(--kconfig_add "CONFIG_$opt=y")
done
# kunit.py enables this on UML, and 6.12 then warns at every boot.
args+=(--kconfig_add "# CONFIG_UML_PCI_OVER_VIRTIO is not set")
for a in $BPR_PANIC_ARGS kasan.fault=panic; do
	args+=(--kernel_args "$a")
done
exec "$BPR_ROOT/scripts/kunit-run.sh" "${BPR_KUNIT_SUITE:-kunit-uml}" --make_options="${BPR_UML_CC[0]}" \
	"${args[@]}" ${BPR_KUNIT_ARGS:-}
