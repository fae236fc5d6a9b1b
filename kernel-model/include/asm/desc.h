#ifndef _ASM_DESC_H
#define _ASM_DESC_H

#include <linux/types.h>

struct desc_ptr {
	u16 size;
	u32 address;
} __attribute__((packed));

struct gate_desc {
	u16 offset_low;
	u16 segment;
	u8 reserved;
	u8 type_attr;
	u16 offset_high;
} __attribute__((packed));

#define __KERNEL_CS 0x08
#define __KERNEL_DS 0x10

static inline void native_load_gdt(const struct desc_ptr *dtr) { asm volatile("lgdt %0" : : "m"(*dtr)); }
static inline void native_load_idt(const struct desc_ptr *dtr) { asm volatile("lidt %0" : : "m"(*dtr)); }

#define load_gdt(dtr) native_load_gdt(dtr)
#define load_idt(dtr) native_load_idt(dtr)

void gdt_init(void);
void trap_init(void);
void set_intr_gate(unsigned int vector, void (*handler)(void));

#endif
