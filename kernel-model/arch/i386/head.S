/*
 * Multiboot v1 entry: the loader leaves us in 32-bit protected mode with paging off,
 * %eax = the multiboot magic and %ebx = the physical address of the info structure.
 */
#define MULTIBOOT_MAGIC		0x1BADB002
#define MULTIBOOT_FLAGS		0x00000003	/* align modules, want memory info */

	.section .multiboot, "a"
	.align 4
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.text
	.globl _start
_start:
	cli
	/* Clear .bss (the loader only copies file contents). The stack lives there too, so
	 * keep the magic and the info pointer in registers rep stosb leaves alone. */
	movl %eax, %esi
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	cld
	rep stosb
	movl $boot_stack_top, %esp
	xorl %ebp, %ebp
	movl %esi, %eax		/* multiboot magic: first argument (-mregparm=3) */
	movl %ebx, %edx		/* multiboot info: second */
	call start_kernel
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
boot_stack:
	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
