#ifndef _ASM_IRQFLAGS_H
#define _ASM_IRQFLAGS_H

/*
 * Interrupt flag manipulation: the hottest privileged operations in the kernel, and so
 * the ones paravirtualization must keep cheap on bare hardware.
 */
#define X86_EFLAGS_IF 0x00000200

static inline unsigned long native_save_fl(void)
{
	unsigned long flags;
	asm volatile("pushfl; popl %0" : "=rm"(flags) : : "memory");
	return flags;
}

static inline void native_restore_fl(unsigned long flags)
{
	asm volatile("pushl %0; popfl" : : "g"(flags) : "memory", "cc");
}

static inline void native_irq_disable(void) { asm volatile("cli" : : : "memory"); }
static inline void native_irq_enable(void) { asm volatile("sti" : : : "memory"); }
static inline void native_safe_halt(void) { asm volatile("sti; hlt" : : : "memory"); }
static inline void native_halt(void) { asm volatile("hlt" : : : "memory"); }

#define raw_local_save_flags(flags)	do { (flags) = native_save_fl(); } while (0)
#define raw_local_irq_restore(flags)	native_restore_fl(flags)
#define raw_local_irq_disable()		native_irq_disable()
#define raw_local_irq_enable()		native_irq_enable()
#define raw_safe_halt()			native_safe_halt()
#define halt()				native_halt()

#define local_irq_save(flags)	do { raw_local_save_flags(flags); raw_local_irq_disable(); } while (0)
#define local_irq_restore(flags) raw_local_irq_restore(flags)
#define local_irq_disable()	raw_local_irq_disable()
#define local_irq_enable()	raw_local_irq_enable()
#define safe_halt()		raw_safe_halt()

static inline int irqs_disabled_flags(unsigned long flags) { return !(flags & X86_EFLAGS_IF); }

#endif
