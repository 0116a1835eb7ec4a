/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_ops.h: a stand-in for the burn-cpu backend (fault_cpu_ops), so the
 * registry can be tested without forking burners. Every slot counts its
 * calls; prepare allocates priv and a record, release frees priv.
 */
#ifndef CHAOS_TEST_FAKE_OPS_H
#define CHAOS_TEST_FAKE_OPS_H

struct fake_calls {
	int prepare, commit, revert, describe;
	int release;		/* calls of release */
	int release_priv;	/* of those, calls that freed a priv */
	int prepare_rc;		/* what prepare returns (0 by default) */
	int revert_rc;		/* what revert returns (0 by default) */
};

extern struct fake_calls fake_calls;

struct fault_ops;
extern const struct fault_ops fault_cpu_ops;

/* Zero every counter and make every slot succeed. */
void fake_ops_reset(void);

#endif
