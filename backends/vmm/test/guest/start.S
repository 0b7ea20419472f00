/* T1 entry: RDI = struct t1_boot_info*, RSP set by the machine. Zero .bss, call t1_main, exit. */
  .section .text.start, "ax"
  .globl _start
_start:
  mov %rdi, %r12
  lea __bss_start(%rip), %rdi
  lea __bss_end(%rip), %rcx
  sub %rdi, %rcx
  xor %eax, %eax
  rep stosb
  mov %r12, %rdi
  and $-16, %rsp
  call t1_main
  mov %eax, %edi
  call t1_exit
1:jmp 1b
  .section .note.GNU-stack, "", @progbits
