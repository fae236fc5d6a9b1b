/*
 * start_kernel: bring up the console, descriptor tables, interrupts, timer and paging,
 * run the smoke workload and print the verdict the host waits for.
 */
#include <asm/desc.h>
#include <asm/irqflags.h>
#include <asm/pgtable.h>
#include <asm/ptrace.h>
#include <linux/kernel.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

struct multiboot_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

void serial_init(void);
void run_checks(void);
int checks_failed(void);

/* The backends this kernel was built with, for "pq: backends=". */
static const char *const backends[] = { "native" };

static int have_backend(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(backends); i++)
		if (streq(backends[i], name))
			return 1;
	return 0;
}

static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

void start_kernel(u32 magic, struct multiboot_info *info)
{
	const char *backend;
	unsigned int i;

	serial_init();
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("not started by a multiboot loader");
	if (info->flags & 4)
		parse_cmdline((const char *)info->cmdline);
	printk("pq: cmdline=\"%s\"\n", (info->flags & 4) ? (const char *)info->cmdline : "");
	backend = cmdline_value("paravirt");
	if (!backend)
		backend = "native";
	printk("pq: boot kernel=kernel-model backend=%s\n", backend);
	printk("pq: backends=");
	for (i = 0; i < ARRAY_SIZE(backends); i++)
		printk("%s%s", i ? "," : "", backends[i]);
	printk("\n");
	if (!have_backend(backend)) {
		printk("pq: smoke=skip reason=\"no %s backend in this kernel\"\n", backend);
		halt_forever();
	}

	gdt_init();
	trap_init();
	irq_init();
	time_init();
	paging_init();
	printk("pq: init gdt idt pic pit paging ok\n");

	run_checks();

	local_irq_disable();
	if (checks_failed())
		printk("pq: smoke=fail reason=\"%d check(s) failed\"\n", checks_failed());
	else
		printk("pq: smoke=pass\n");
	halt_forever();
}
