#ifndef _ASM_PGTABLE_H
#define _ASM_PGTABLE_H

#include <linux/types.h>

/* Two-level i386 paging, 4 KiB pages, no PAE. */
typedef struct { u32 pte_low; } pte_t;
typedef struct { u32 pgd; } pgd_t;

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define _PAGE_PRESENT	0x001
#define _PAGE_RW	0x002
#define _PAGE_KERNEL	(_PAGE_PRESENT | _PAGE_RW)

#define __pte(x)	((pte_t){ (x) })
#define pfn_pte(pfn, prot) __pte(((pfn) << PAGE_SHIFT) | (prot))

static inline void native_set_pte(pte_t *ptep, pte_t pte) { ptep->pte_low = pte.pte_low; }

static inline void native_flush_tlb(void)
{
	unsigned long cr3;
	asm volatile("movl %%cr3, %0; movl %0, %%cr3" : "=r"(cr3) : : "memory");
}

static inline void native_flush_tlb_single(unsigned long addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

#define set_pte(ptep, pte)		native_set_pte(ptep, pte)
#define __flush_tlb()			native_flush_tlb()
#define __flush_tlb_single(addr)	native_flush_tlb_single(addr)

void paging_init(void);
pte_t *lookup_pte(unsigned long vaddr);

#endif
