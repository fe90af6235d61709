# SPDX-License-Identifier: GPL-2.0
#
# Kbuild reads ./Kbuild; this Makefile is for people.
#
#   make check        install what is missing, build, run every test suite
#   make fresh-check  make check and make demo as README says, in a fresh
#                     Debian 12 root made with debootstrap (a cold build)
#   make demo         boot the x86_64 VM, load the module, run the demo
#   make              build the modules against the running kernel's headers,
#                     as out-of-tree modules are built
#   make KDIR=/path/to/kernel/build
#                     build the modules against another kernel
#   make vm-module    build them against the project's own x86_64 kernel
#                     (built on first use; make check uses its own trees)
#   make kunit-uml    KUnit on UML (built-in, gcc, lockdep + KASAN)
#   make kunit-x86_64 KUnit on x86_64 under QEMU (modules, clang)
#   make kunit-min    kunit.py on x86_64 with tests/.kunitconfig alone
#   make static       checkpatch, kernel-doc, sparse, W=1, out-of-tree build
#   make fault        the fault injection run in the x86_64 VM
#   make distro       the userspace suites and binder_test on Debian's own
#                     6.12 kernel image, with the module built against its
#                     headers
#   make kcsan        KUnit on the x86_64 KCSAN kernel with kunit.py, then the
#                     userspace stress tests on the same kernel
#   make binder       binder_alloc.c on the page range (its patch): KUnit,
#                     upstream's selftest and binder traffic on that kernel
#   make bench        build the two benchmark kernels, run the benchmarks
#                     against upstream binder in ten boots of them (with the
#                     default BENCH_PAIRS=3): build/bench/results.txt
#   make mutants      plant each deliberate bug of tests/mutants/ in a copy
#                     and run the suites that must catch it: a table and
#                     the score, in build/mutants/results.txt
#   make soak DURATION=seconds
#                     the fuzzer and the memory-pressure test in a loop
#   make in-tree KSRC=/path/to/linux [SUBDIR=drivers/android/page_range]
#                     place the driver in a kernel tree and hook it up
#   make patches      the driver as a git format-patch series against the
#                     pristine linux-source-6.12 tree: build/patches/
#   make clean        remove objects of out-of-tree builds in this directory
#   make distclean    also remove build/ (kernel trees and logs)

BPR_BUILD ?= $(CURDIR)/build
export BPR_BUILD

KDIR ?= /lib/modules/$(shell uname -r)/build
DURATION ?= 600
SUBDIR ?= drivers/android/page_range

.PHONY: all module vm-module check fresh-check distro demo kunit kunit-uml kunit-min kunit-x86_64 vm-kernel static \
	fault kcsan binder soak bench mutants user in-tree patches deps clean distclean

all: module

module:
	@test -f $(KDIR)/Makefile || { echo "no kernel build tree at $(KDIR):" \
		"install the headers of the running kernel" \
		"(apt-get install linux-headers-$$(uname -r)) or give KDIR=" >&2; \
		exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

vm-module: vm-kernel
	$(MAKE) -C $(BPR_BUILD)/x86_64 M=$(CURDIR) LLVM=1 modules

check:
	scripts/check.sh

fresh-check:
	scripts/fresh-check.sh

distro: deps
	scripts/distro-run.sh

demo: vm-kernel
	scripts/build-user.sh
	BPR_VM_DEMO=1 BPR_VM_KUNIT_MODULE= BPR_VM_SUITE=demo \
		BPR_VM_TESTS=$(BPR_BUILD)/demo scripts/vm-run.sh

kunit: kunit-x86_64 kunit-uml kunit-min

kunit-uml: deps
	scripts/kunit-uml.sh

kunit-min: deps
	scripts/kunit-min.sh

kunit-x86_64: vm-kernel
	scripts/vm-run.sh

vm-kernel: deps
	scripts/kernel-src.sh
	scripts/vm-kernel.sh

static: deps
	scripts/kernel-src.sh
	scripts/static-checks.sh

user: deps
	scripts/build-user.sh

fault: vm-kernel user
	scripts/fault-run.sh

kcsan: deps user
	scripts/kcsan-run.sh

binder: deps
	scripts/binder-run.sh

bench: deps
	scripts/kernel-src.sh
	scripts/bench.sh

mutants: deps
	scripts/kernel-src.sh
	scripts/mutants.sh

soak: vm-kernel user
	DURATION=$(DURATION) scripts/soak.sh

in-tree:
	scripts/place-in-tree.sh $(KSRC) $(SUBDIR)

patches: deps
	scripts/make-patches.sh

deps:
	scripts/deps.sh

clean:
	rm -f *.o *.ko *.mod *.mod.c .*.cmd *.order Module.symvers .module-common.o \
		tests/*.o tests/*.ko tests/*.mod tests/*.mod.c tests/.*.cmd \
		tests/*.order bench/*.o bench/.*.cmd

distclean: clean
	rm -rf --one-file-system $(BPR_BUILD)
