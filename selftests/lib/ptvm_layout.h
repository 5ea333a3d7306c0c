/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-physical layout of a passthrough test VM.  Shared by the guest code
 * (guest.S, assembled as 32-bit code) and the host side (ptvm.c), so it holds
 * preprocessor constants only.
 *
 * The guest runs flat 32-bit protected mode without paging: every address
 * here is both a guest-physical and a guest-linear address.
 */
#ifndef PTVM_LAYOUT_H
#define PTVM_LAYOUT_H

#define PTVM_MAX_VCPUS		4
#define PTVM_MEM_SIZE		0x100000	/* 1 MiB of guest RAM at GPA 0 */

#define PTVM_GDT_GPA		0x1000
#define PTVM_IDT_GPA		0x2000
#define PTVM_MBOX_GPA		0x3000		/* struct ptvm_mbox */
#define PTVM_COUNTS_GPA		0x10000		/* u32 [PTVM_MAX_VCPUS][256] */
#define PTVM_CODE_GPA		0x20000
#define PTVM_STACK_GPA		0x30000		/* one 4 KiB stack per vCPU */

/* Offsets in the mailbox page. */
#define PTVM_MBOX_MODE		0x00	/* 0: halt between interrupts, 1: spin, */
#define PTVM_MODE_CPUID		2	/* 2: CPUID in a loop (VM exits) */
#define PTVM_MBOX_READY		0x10	/* u32 [PTVM_MAX_VCPUS], set by each vCPU */
#define PTVM_MBOX_FATAL		0x20	/* u32 [PTVM_MAX_VCPUS], 0x100 | exception */
#define PTVM_MBOX_LAST		0x30	/* u32 [PTVM_MAX_VCPUS], last vector seen */
#define PTVM_MBOX_SPINS		0x40	/* u32 [PTVM_MAX_VCPUS], spin-loop rounds */

#define PTVM_LAPIC_BASE		0xfee00000
#define PTVM_SPURIOUS_VECTOR	0xff
#define PTVM_FATAL_PORT		0xe9	/* guest reports a fatal exception here */

#define PTVM_SEL_CODE		0x08
#define PTVM_SEL_DATA		0x10

#define PTVM_STUB_SIZE		10	/* push imm32 + jmp rel32 */

#endif
