#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the KCSAN VM (scripts/kcsan-run.sh): the userspace tests that run
# several CPUs against one another.
exec /tests/bin/bpr_test -t stress -t two_way -t two_way_write_read \
	-t sender_killed -t close_while_receiving -t reclaim_drop_caches
