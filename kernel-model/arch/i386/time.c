/*
 * The 8254 PIT on channel 0. v86 runs its timers on host time, so the model programs
 * a fast 1000 Hz tick and waits for few ticks: a boot stays in the tens of milliseconds.
 */
#include <asm/io.h>
#include <asm/ptrace.h>
#include <linux/kernel.h>

#define PIT_HZ 1193182
#define HZ 1000

volatile u32 jiffies;

void timer_interrupt(void)
{
	jiffies++;
}

void time_init(void)
{
	u32 divisor = PIT_HZ / HZ;

	outb(0x34, 0x43);		/* channel 0, lo/hi byte, rate generator */
	outb(divisor & 0xff, 0x40);
	outb(divisor >> 8, 0x40);
}
