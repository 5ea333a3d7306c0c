/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code of the passthrough test VM: 32-bit flat protected mode, copied
 * by the host to PTVM_CODE_GPA.  Position independent except for the fixed
 * addresses of ptvm_layout.h.
 *
 * Each vCPU enables its local APIC, reports ready and then waits for
 * interrupts (halting, spinning or executing CPUID, as the mailbox says;
 * a spinning vCPU counts its rounds, so the host can tell it runs guest
 * code).  Every vector has a 10-byte stub that pushes its number and jumps
 * to one handler, which counts the arrival per (APIC ID, vector) and EOIs.
 * An exception is fatal: it is recorded in the mailbox and reported to the
 * VMM through an OUT.
 */
#include "ptvm_layout.h"

	.section .rodata.ptvm_guest, "a"
	.code32

	.globl ptvm_guest_start
	.globl ptvm_guest_entry
	.globl ptvm_guest_stubs
	.globl ptvm_guest_end

ptvm_guest_start:
ptvm_guest_entry:
	movl	$PTVM_LAPIC_BASE, %ebx
	movl	$0, 0x80(%ebx)				/* TPR: accept all */
	movl	$(0x100 | PTVM_SPURIOUS_VECTOR), 0xf0(%ebx)	/* SVR: enable */
	movl	0x20(%ebx), %eax			/* APIC ID */
	shrl	$24, %eax
	movl	%eax, %esi				/* APIC ID, kept (CPUID spares it) */
	movl	$1, (PTVM_MBOX_GPA + PTVM_MBOX_READY)(,%eax,4)
1:
	cmpl	$0, (PTVM_MBOX_GPA + PTVM_MBOX_MODE)
	jne	2f
	sti
	hlt
	jmp	1b
2:
	cmpl	$PTVM_MODE_CPUID, (PTVM_MBOX_GPA + PTVM_MBOX_MODE)
	je	5f
	sti
	incl	(PTVM_MBOX_GPA + PTVM_MBOX_SPINS)(,%esi,4)
	pause
	jmp	1b
5:
	/* Exit to KVM as often as possible: CPUID is handled in the kernel. */
	sti
	xorl	%eax, %eax
	cpuid
	jmp	1b

common_handler:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	movl	12(%esp), %ecx				/* vector */
	cmpl	$32, %ecx
	jb	fatal
	movl	$PTVM_LAPIC_BASE, %edx
	movl	0x20(%edx), %eax
	shrl	$24, %eax
	cmpl	$PTVM_MAX_VCPUS, %eax
	jae	fatal
	movl	%ecx, (PTVM_MBOX_GPA + PTVM_MBOX_LAST)(,%eax,4)
	shll	$8, %eax
	addl	%ecx, %eax
	lock incl PTVM_COUNTS_GPA(,%eax,4)
	cmpl	$PTVM_SPURIOUS_VECTOR, %ecx		/* no EOI for spurious */
	je	3f
	movl	$0, 0xb0(%edx)				/* EOI */
3:
	popl	%edx
	popl	%ecx
	popl	%eax
	addl	$4, %esp
	iret

fatal:
	/* Error-code exceptions leave a different frame: never return. */
	movl	$PTVM_LAPIC_BASE, %edx
	movl	0x20(%edx), %eax
	shrl	$24, %eax
	andl	$(PTVM_MAX_VCPUS - 1), %eax
	orl	$0x100, %ecx
	movl	%ecx, (PTVM_MBOX_GPA + PTVM_MBOX_FATAL)(,%eax,4)
	movw	$PTVM_FATAL_PORT, %dx
	outb	%al, %dx
	cli
4:	hlt
	jmp	4b

	.balign	16
ptvm_guest_stubs:
	.set	vec, 0
	.rept	256
	.byte	0x68				/* push imm32 */
	.long	vec
	.byte	0xe9				/* jmp rel32 */
	.long	common_handler - (. + 4)
	.set	vec, vec + 1
	.endr
ptvm_guest_end:

	.section .note.GNU-stack, "", @progbits
