/*
 * The smoke workload: small tests that only pass when interrupt state, the timer and
 * paging really work. A broken irq-enable never wakes from the idle loop's hlt, which the
 * host reports as a hang.
 */
#include <asm/irqflags.h>
#include <asm/pgtable.h>
#include <linux/kernel.h>

#define TICKS_TO_WAIT 10

static int irqs_on(void)
{
	unsigned long flags;

	raw_local_save_flags(flags);
	return !irqs_disabled_flags(flags);
}

/* Nested local_irq_save/restore must disable, then give back exactly what it found. */
static void check_irq_save_restore(void)
{
	unsigned long outer, inner;
	int ok = 1;

	local_irq_enable();
	ok &= irqs_on();
	local_irq_save(outer);
	ok &= !irqs_on() && !irqs_disabled_flags(outer);
	local_irq_save(inner);
	ok &= !irqs_on() && irqs_disabled_flags(inner);
	local_irq_restore(inner);
	ok &= !irqs_on();
	local_irq_restore(outer);
	ok &= irqs_on();
	local_irq_disable();
	ok &= !irqs_on();
	check("irq-save-restore", ok);
}

/* The idle loop: halt with interrupts enabled until the timer has ticked enough. */
static void check_timer_idle(void)
{
	u32 start = jiffies;
	unsigned int halts = 0;

	while (jiffies - start < TICKS_TO_WAIT) {
		safe_halt();		/* sti; hlt: wakes on the next tick */
		local_irq_disable();
		halts++;
	}
	printk("pq: timer ticks=%u halts=%u\n", jiffies - start, halts);
	check("timer-idle", jiffies - start >= TICKS_TO_WAIT);
}

/* Inside local_irq_save no tick may arrive; it is delivered once the section ends. */
static void check_critical_section(void)
{
	unsigned long flags;
	u32 before, during;
	volatile unsigned int spin;
	int woke = 0;

	local_irq_enable();
	local_irq_save(flags);
	before = jiffies;
	for (spin = 0; spin < 600000 && jiffies == before; spin++)
		;
	during = jiffies;
	local_irq_restore(flags);
	while (jiffies == before && woke < 1000) {
		safe_halt();
		woke++;
	}
	local_irq_disable();
	check("critical-section", during == before && jiffies != before);
}

/* A second virtual alias of a page: writes through one are seen through the other, and a
 * remapped alias only shows the new page after its TLB entry is flushed. */
static u32 page_a[1024] __attribute__((aligned(4096)));
static u32 page_b[1024] __attribute__((aligned(4096)));
#define ALIAS 0x00800000UL

static void check_mapping(void)
{
	volatile u32 *alias = (volatile u32 *)ALIAS;
	pte_t *pte = lookup_pte(ALIAS);
	int ok;

	page_a[0] = 0xaaaa0000;
	page_b[0] = 0xbbbb0000;
	set_pte(pte, pfn_pte((u32)page_a >> PAGE_SHIFT, _PAGE_KERNEL));
	__flush_tlb_single(ALIAS);
	alias[0] = 0x12345678;
	ok = page_a[0] == 0x12345678;
	set_pte(pte, pfn_pte((u32)page_b >> PAGE_SHIFT, _PAGE_KERNEL));
	__flush_tlb_single(ALIAS);
	ok &= alias[0] == 0xbbbb0000;
	set_pte(pte, __pte(0));
	__flush_tlb();
	check("mapping-alias", ok);
}

void run_checks(void)
{
	check_irq_save_restore();
	check_timer_idle();
	check_critical_section();
	check_mapping();
}
