/* A flat GDT: kernel code and data segments covering all 4 GiB. */
#include <asm/desc.h>

static u64 gdt[3] __attribute__((aligned(8))) = {
	0,
	0x00cf9a000000ffffULL,	/* 0x08: code, base 0, limit 4G, ring 0 */
	0x00cf92000000ffffULL,	/* 0x10: data */
};

void gdt_init(void)
{
	struct desc_ptr dtr = { sizeof(gdt) - 1, (u32)gdt };

	load_gdt(&dtr);
	asm volatile("ljmp %0, $1f\n1:\n"
		     "movl %1, %%eax\n"
		     "movl %%eax, %%ds\n movl %%eax, %%es\n movl %%eax, %%ss\n"
		     "movl %%eax, %%fs\n movl %%eax, %%gs\n"
		     : : "i"(__KERNEL_CS), "i"(__KERNEL_DS) : "eax", "memory");
}
