/* The 16550 UART on COM1: the console, and the host's only view of the kernel. */
#include <asm/io.h>

#define COM1 0x3f8

void serial_init(void)
{
	outb(0x00, COM1 + 1);	/* no UART interrupts */
	outb(0x80, COM1 + 3);	/* DLAB on */
	outb(0x01, COM1 + 0);	/* 115200 baud */
	outb(0x00, COM1 + 1);
	outb(0x03, COM1 + 3);	/* 8N1 */
	outb(0xc7, COM1 + 2);	/* FIFOs on */
	outb(0x0b, COM1 + 4);
}

void serial_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(c, COM1);
}
