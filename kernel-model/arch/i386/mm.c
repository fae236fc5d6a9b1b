/*
 * Identity paging for the first 8 MiB, built entry by entry with set_pte() and switched
 * on through cr3 and cr0, as the real kernel's paging_init does (without highmem).
 */
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <linux/kernel.h>

#define IDENTITY_MB 8
#define PTRS_PER_PTE 1024

static pgd_t swapper_pg_dir[1024] __attribute__((aligned(4096)));
static pte_t pg_tables[IDENTITY_MB / 4 + 1][PTRS_PER_PTE] __attribute__((aligned(4096)));

pte_t *lookup_pte(unsigned long vaddr)
{
	unsigned int pgd = vaddr >> 22;

	if (pgd > IDENTITY_MB / 4)
		return NULL;
	return &pg_tables[pgd][(vaddr >> PAGE_SHIFT) & (PTRS_PER_PTE - 1)];
}

void paging_init(void)
{
	unsigned long pfn;
	unsigned int i;

	for (i = 0; i <= IDENTITY_MB / 4; i++)
		swapper_pg_dir[i].pgd = (u32)pg_tables[i] | _PAGE_KERNEL;
	for (pfn = 0; pfn < IDENTITY_MB * 256; pfn++)
		set_pte(lookup_pte(pfn << PAGE_SHIFT), pfn_pte(pfn, _PAGE_KERNEL));
	write_cr3((unsigned long)swapper_pg_dir);
	write_cr0(read_cr0() | X86_CR0_PG);
	__flush_tlb();
}
