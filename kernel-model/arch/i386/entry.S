/*
 * Interrupt and exception entry. Every vector pushes an error code (or a dummy 0) and
 * its number, then the common path saves the registers and calls do_trap(regs) in C.
 */
	.text

.macro VECTOR num, has_error
	.globl vector_\num
vector_\num:
	.if \has_error == 0
	pushl $0
	.endif
	pushl $\num
	jmp common_entry
.endm

VECTOR 0, 0
VECTOR 1, 0
VECTOR 2, 0
VECTOR 3, 0
VECTOR 4, 0
VECTOR 5, 0
VECTOR 6, 0
VECTOR 7, 0
VECTOR 8, 1
VECTOR 9, 0
VECTOR 10, 1
VECTOR 11, 1
VECTOR 12, 1
VECTOR 13, 1
VECTOR 14, 1
VECTOR 16, 0
VECTOR 17, 1
VECTOR 18, 0
VECTOR 19, 0
VECTOR 32, 0
VECTOR 33, 0
VECTOR 34, 0
VECTOR 35, 0
VECTOR 36, 0
VECTOR 37, 0
VECTOR 38, 0
VECTOR 39, 0

common_entry:
	pushal
	pushl %ds
	pushl %es
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %esp, %eax		/* struct pt_regs *, in %eax: the kernel is built with -mregparm=3 */
	call do_trap
	popl %es
	popl %ds
	popal
	addl $8, %esp		/* vector number and error code */
	iret

	.section .note.GNU-stack, "", @progbits
