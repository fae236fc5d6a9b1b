/* The multiboot command line, split into words once at boot. */
#include <linux/kernel.h>

#define MAX_WORDS 16
#define MAX_LEN 256

static char buf[MAX_LEN];
static const char *words[MAX_WORDS];
static int nwords;

int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void parse_cmdline(const char *cmdline)
{
	int i = 0;

	nwords = 0;
	while (cmdline && *cmdline && i < MAX_LEN - 1) {
		while (*cmdline == ' ')
			cmdline++;
		if (!*cmdline || nwords == MAX_WORDS)
			break;
		words[nwords++] = &buf[i];
		while (*cmdline && *cmdline != ' ' && i < MAX_LEN - 1)
			buf[i++] = *cmdline++;
		buf[i++] = 0;
	}
}

const char *cmdline_value(const char *key)
{
	int w;

	for (w = 0; w < nwords; w++) {
		const char *k = key, *p = words[w];

		while (*k && *k == *p)
			k++, p++;
		if (!*k && *p == '=')
			return p + 1;
	}
	return NULL;
}

int cmdline_flag(const char *flag)
{
	int w;

	for (w = 0; w < nwords; w++)
		if (streq(words[w], flag))
			return 1;
	return 0;
}
