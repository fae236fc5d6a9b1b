#ifndef _LINUX_KERNEL_H
#define _LINUX_KERNEL_H

#include <linux/types.h>

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *msg) __attribute__((noreturn));
void check(const char *name, int ok);
int streq(const char *a, const char *b);

/* The multiboot command line: "paravirt=native|xen|vmi", "nopatch", "bench". */
void parse_cmdline(const char *cmdline);
const char *cmdline_value(const char *key);
int cmdline_flag(const char *flag);

extern volatile u32 jiffies;

#endif
