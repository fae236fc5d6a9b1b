#ifndef _ASM_PTRACE_H
#define _ASM_PTRACE_H

#include <linux/types.h>

/* The frame entry.S builds: segment registers, pushal, vector, error code, then the CPU's. */
struct pt_regs {
	u32 es, ds;
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
	u32 vector, error_code;
	u32 eip, cs, eflags;
};

void do_trap(struct pt_regs *regs);
void irq_init(void);
void handle_irq(unsigned int irq, struct pt_regs *regs);
void time_init(void);

#endif
