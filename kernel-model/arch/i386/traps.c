/* The IDT: CPU exceptions panic with their name; vectors 32-47 are the remapped PIC IRQs. */
#include <asm/desc.h>
#include <asm/ptrace.h>
#include <asm/processor.h>
#include <linux/kernel.h>

static struct gate_desc idt[256] __attribute__((aligned(8)));

#define DECLARE_VECTOR(n) extern void vector_##n(void)
DECLARE_VECTOR(0); DECLARE_VECTOR(1); DECLARE_VECTOR(2); DECLARE_VECTOR(3);
DECLARE_VECTOR(4); DECLARE_VECTOR(5); DECLARE_VECTOR(6); DECLARE_VECTOR(7);
DECLARE_VECTOR(8); DECLARE_VECTOR(9); DECLARE_VECTOR(10); DECLARE_VECTOR(11);
DECLARE_VECTOR(12); DECLARE_VECTOR(13); DECLARE_VECTOR(14); DECLARE_VECTOR(16);
DECLARE_VECTOR(17); DECLARE_VECTOR(18); DECLARE_VECTOR(19);
DECLARE_VECTOR(32); DECLARE_VECTOR(33); DECLARE_VECTOR(34); DECLARE_VECTOR(35);
DECLARE_VECTOR(36); DECLARE_VECTOR(37); DECLARE_VECTOR(38); DECLARE_VECTOR(39);

static const char *const exception_names[20] = {
	"divide error", "debug", "nmi", "int3", "overflow", "bounds", "invalid opcode",
	"device not available", "double fault", "coprocessor overrun", "invalid TSS",
	"segment not present", "stack segment", "general protection", "page fault",
	"reserved", "x87 error", "alignment check", "machine check", "simd error",
};

void set_intr_gate(unsigned int vector, void (*handler)(void))
{
	u32 addr = (u32)handler;

	idt[vector].offset_low = addr & 0xffff;
	idt[vector].segment = __KERNEL_CS;
	idt[vector].reserved = 0;
	idt[vector].type_attr = 0x8e;	/* present, ring 0, 32-bit interrupt gate */
	idt[vector].offset_high = addr >> 16;
}

/* Optional hooks, set by later code (single-step counting, hypercalls). */
void (*debug_trap_hook)(struct pt_regs *regs);

void do_trap(struct pt_regs *regs)
{
	if (regs->vector >= 32 && regs->vector < 48) {
		handle_irq(regs->vector - 32, regs);
		return;
	}
	if (regs->vector == 1 && debug_trap_hook) {
		debug_trap_hook(regs);
		return;
	}
	if (regs->vector < 20) {
		printk("pq: trap vector=%u error=%x eip=%x cr2=%x\n", regs->vector, regs->error_code, regs->eip,
		       (u32)read_cr2());
		panic(exception_names[regs->vector]);
	}
	panic("unexpected interrupt vector");
}

void trap_init(void)
{
	struct desc_ptr dtr = { sizeof(idt) - 1, (u32)idt };

	set_intr_gate(0, vector_0); set_intr_gate(1, vector_1); set_intr_gate(2, vector_2);
	set_intr_gate(3, vector_3); set_intr_gate(4, vector_4); set_intr_gate(5, vector_5);
	set_intr_gate(6, vector_6); set_intr_gate(7, vector_7); set_intr_gate(8, vector_8);
	set_intr_gate(9, vector_9); set_intr_gate(10, vector_10); set_intr_gate(11, vector_11);
	set_intr_gate(12, vector_12); set_intr_gate(13, vector_13); set_intr_gate(14, vector_14);
	set_intr_gate(16, vector_16); set_intr_gate(17, vector_17); set_intr_gate(18, vector_18);
	set_intr_gate(19, vector_19);
	set_intr_gate(32, vector_32); set_intr_gate(33, vector_33); set_intr_gate(34, vector_34);
	set_intr_gate(35, vector_35); set_intr_gate(36, vector_36); set_intr_gate(37, vector_37);
	set_intr_gate(38, vector_38); set_intr_gate(39, vector_39);
	load_idt(&dtr);
}
