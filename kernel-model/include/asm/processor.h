#ifndef _ASM_PROCESSOR_H
#define _ASM_PROCESSOR_H

#include <linux/types.h>

static inline void native_cpuid(u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	asm volatile("cpuid" : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx) : "0"(*eax), "2"(*ecx));
}

static inline unsigned long native_read_cr0(void) { unsigned long v; asm volatile("movl %%cr0, %0" : "=r"(v)); return v; }
static inline void native_write_cr0(unsigned long v) { asm volatile("movl %0, %%cr0" : : "r"(v) : "memory"); }
static inline unsigned long native_read_cr2(void) { unsigned long v; asm volatile("movl %%cr2, %0" : "=r"(v)); return v; }
static inline void native_write_cr2(unsigned long v) { asm volatile("movl %0, %%cr2" : : "r"(v) : "memory"); }
static inline unsigned long native_read_cr3(void) { unsigned long v; asm volatile("movl %%cr3, %0" : "=r"(v)); return v; }
static inline void native_write_cr3(unsigned long v) { asm volatile("movl %0, %%cr3" : : "r"(v) : "memory"); }
static inline unsigned long native_read_cr4(void) { unsigned long v; asm volatile("movl %%cr4, %0" : "=r"(v)); return v; }
static inline void native_write_cr4(unsigned long v) { asm volatile("movl %0, %%cr4" : : "r"(v) : "memory"); }
static inline void native_wbinvd(void) { asm volatile("wbinvd" : : : "memory"); }
static inline u64 native_read_tsc(void) { u32 lo, hi; asm volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }
static inline u64 native_read_msr(u32 msr) { u32 lo, hi; asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((u64)hi << 32) | lo; }
static inline void native_write_msr(u32 msr, u32 lo, u32 hi) { asm volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi) : "memory"); }

#define cpuid(a, b, c, d)	native_cpuid(a, b, c, d)
#define read_cr0()		native_read_cr0()
#define write_cr0(x)		native_write_cr0(x)
#define read_cr2()		native_read_cr2()
#define read_cr3()		native_read_cr3()
#define write_cr3(x)		native_write_cr3(x)
#define read_cr4()		native_read_cr4()
#define write_cr4(x)		native_write_cr4(x)
#define wbinvd()		native_wbinvd()
#define rdtscll()		native_read_tsc()
#define rdmsrl(msr)		native_read_msr(msr)
#define wrmsr(msr, lo, hi)	native_write_msr(msr, lo, hi)

#define X86_CR0_PG 0x80000000

#endif
