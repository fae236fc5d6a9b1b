/* A panic prints the protocol's panic line and stops the CPU for good. */
#include <asm/irqflags.h>
#include <linux/kernel.h>

void panic(const char *msg)
{
	asm volatile("cli");
	printk("pq: panic msg=\"%s\"\n", msg);
	for (;;)
		asm volatile("cli; hlt");
}

static int failed_checks;

void check(const char *name, int ok)
{
	printk("pq: check name=%s %s\n", name, ok ? "ok" : "failed");
	if (!ok)
		failed_checks++;
}

int checks_failed(void)
{
	return failed_checks;
}
