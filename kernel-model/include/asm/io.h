#ifndef _ASM_IO_H
#define _ASM_IO_H

#include <linux/types.h>

static inline void outb(u8 v, u16 port) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* The classic ISA delay: a write to the unused POST port. */
static inline void native_io_delay(void) { asm volatile("outb %al, $0x80"); }
#define slow_down_io() native_io_delay()

static inline void outb_p(u8 v, u16 port) { outb(v, port); slow_down_io(); }

#endif
