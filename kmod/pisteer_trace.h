/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer's tracepoints: pisteer:vector_add, vector_update, vector_del,
 * emitted when a commit to the model finds a record new, changed or gone, and
 * pisteer:steer when a host IRQ is moved (to = -1: its affinity restored).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pisteer

#if !defined(_PISTEER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PISTEER_TRACE_H

#include <linux/pisteer.h>
#include <linux/tracepoint.h>

#include "pisteer_model.h"

DECLARE_EVENT_CLASS(pisteer_vector_class,
		    TP_PROTO(const struct pst_vec *v),
		    TP_ARGS(v),
		    TP_STRUCT__entry(__field(u32, host_irq)
				     __field(s32, vm_pid)
				     __field(u32, vm_fd)
				     __field(u32, pci_seg)
				     __field(u8, pci_bus)
				     __field(u8, pci_devfn)
				     __field(u8, guest_vector)
				     __field(u8, mode)
				     __field(u32, index)
				     __field(u32, gsi)
				     __field(s32, vcpu)
				     __field(u16, reason)),
		    TP_fast_assign(__entry->host_irq = v->host.irq;
				   __entry->vm_pid = v->vm.pid;
				   __entry->vm_fd = v->vm.fd;
				   __entry->pci_seg = v->host.dev.pci_seg;
				   __entry->pci_bus = v->host.dev.pci_bus;
				   __entry->pci_devfn = v->host.dev.pci_devfn;
				   __entry->guest_vector = v->route.vector;
				   __entry->mode = v->dlv.mode;
				   __entry->index = v->host.dev.index;
				   __entry->gsi = v->route.gsi;
				   __entry->vcpu = v->target.vcpu;
				   __entry->reason = v->dlv.reason;),
		    TP_printk("irq=%u vm=%d-%u dev=%04x:%02x:%02x.%u index=%u gsi=%u gvec=0x%02x vcpu=%d mode=%s reason=%u",
			      __entry->host_irq, __entry->vm_pid, __entry->vm_fd,
			      __entry->pci_seg, __entry->pci_bus,
			      __entry->pci_devfn >> 3, __entry->pci_devfn & 7,
			      __entry->index, __entry->gsi,
			      __entry->guest_vector, __entry->vcpu,
			      __print_symbolic(__entry->mode,
					       { PISTEER_MODE_UNKNOWN, "unknown" },
					       { PISTEER_MODE_REMAPPED, "remapped" },
					       { PISTEER_MODE_POSTED, "posted" }),
			      __entry->reason)
);

DEFINE_EVENT(pisteer_vector_class, vector_add,
	     TP_PROTO(const struct pst_vec *v),
	     TP_ARGS(v)
);

DEFINE_EVENT(pisteer_vector_class, vector_update,
	     TP_PROTO(const struct pst_vec *v),
	     TP_ARGS(v)
);

DEFINE_EVENT(pisteer_vector_class, vector_del,
	     TP_PROTO(const struct pst_vec *v),
	     TP_ARGS(v)
);

TRACE_EVENT(steer,
	    TP_PROTO(unsigned int irq, int from, int to, unsigned int reason),
	    TP_ARGS(irq, from, to, reason),
	    TP_STRUCT__entry(__field(u32, irq)
			     __field(s32, from)
			     __field(s32, to)
			     __field(u32, reason)),
	    TP_fast_assign(__entry->irq = irq;
			   __entry->from = from;
			   __entry->to = to;
			   __entry->reason = reason;),
	    TP_printk("irq=%u from=%d to=%d reason=%s", __entry->irq,
		      __entry->from, __entry->to,
		      __print_symbolic(__entry->reason,
				       { PISTEER_POLICY_OFF, "restore" },
				       { PISTEER_POLICY_FOLLOW, "follow" },
				       { PISTEER_POLICY_STATIC, "static" },
				       { PISTEER_POLICY_HOUSEKEEPING, "housekeeping" }))
);

#endif /* _PISTEER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pisteer_trace
#include <trace/define_trace.h>
