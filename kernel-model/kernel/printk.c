/* A small printf to COM1: %s %c %d %u %x and %%. */
#include <linux/kernel.h>

void serial_putc(char c);

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

static void put(char c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
}

static void put_unsigned(unsigned int v, unsigned int base)
{
	char buf[12];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put(buf[--n]);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	const char *s;
	int d;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				put(*s);
			break;
		case 'c':
			put((char)va_arg(ap, int));
			break;
		case 'd':
			d = va_arg(ap, int);
			if (d < 0) {
				put('-');
				d = -d;
			}
			put_unsigned((unsigned int)d, 10);
			break;
		case 'u':
			put_unsigned(va_arg(ap, unsigned int), 10);
			break;
		case 'x':
			put_unsigned(va_arg(ap, unsigned int), 16);
			break;
		case '%':
			put('%');
			break;
		default:
			put('?');
		}
	}
	va_end(ap);
}
