/* The 8259 PICs, remapped to vectors 32-47 (out of the CPU exceptions' way). */
#include <asm/io.h>
#include <asm/ptrace.h>
#include <linux/kernel.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void timer_interrupt(void);

void irq_init(void)
{
	outb_p(0x11, PIC1_CMD);		/* ICW1: init, expect ICW4 */
	outb_p(0x11, PIC2_CMD);
	outb_p(32, PIC1_DATA);		/* ICW2: vector offsets */
	outb_p(40, PIC2_DATA);
	outb_p(4, PIC1_DATA);		/* ICW3: slave on IRQ2 */
	outb_p(2, PIC2_DATA);
	outb_p(1, PIC1_DATA);		/* ICW4: 8086 mode */
	outb_p(1, PIC2_DATA);
	outb(0xfe, PIC1_DATA);		/* only IRQ0, the timer */
	outb(0xff, PIC2_DATA);
}

void handle_irq(unsigned int irq, struct pt_regs *regs)
{
	if (irq == 0)
		timer_interrupt();
	if (irq >= 8)
		outb(0x20, PIC2_CMD);
	outb(0x20, PIC1_CMD);		/* end of interrupt */
}
