/*
 * Vireo accelerator self-test guest: one 512-byte boot sector.
 *
 * It goes real mode -> protected mode -> long mode (so a broken accelerator that only
 * fails on mode switches or paging is caught) and then runs a fixed workload that TCG is
 * genuinely slow at compared to hardware: pseudo-random load/multiply/store over 1024 pages,
 * with a CR3 reload every 64 accesses. A CR3 write makes TCG drop its whole software TLB, so
 * every access afterwards walks the guest page tables in C; hardware with 2 MiB pages keeps
 * the 4 MiB region in two TLB entries and refills them in a few cycles. A register-only loop
 * would run at near native speed under TCG and could not tell the two apart.
 *
 * Protocol on COM1, one line per marker:
 *   VIREO-PROBE-BOOT  VIREO-PROBE-LM  VIREO-PROBE-WORK-START  VIREO-PROBE-WORK-END
 * then a write to isa-debug-exit (port 0xf4) ends QEMU with status (0x2a << 1) | 1 = 85.
 */

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ PML4, 0x1000          /* PML4, PDPT, PD on the three pages after the IVT/BDA */
.equ PDPT, 0x2000
.equ PD, 0x3000
.equ WORK_BASE, 0x800000        /* 8 MiB: clear of the BIOS and of this sector */
.equ WORK_MASK, 0x3ffff8        /* 4 MiB region, 8-byte aligned slots */
.equ ROUNDS, 6000            /* sized for ~tens of ms under TCG on a slow host */
.equ PER_ROUND, 64

        .code16
        .text
        .globl _start
_start:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $0x7c00, %sp
        ljmp    $0, $real           /* some BIOSes enter at 07c0:0000; make CS zero */
real:
        cld
        mov     $msg_boot, %si
        call    puts16

        /* A20 through the fast gate (port 0x92); bit 0 would reset the machine. */
        in      $0x92, %al
        or      $2, %al
        and     $0xfe, %al
        out     %al, $0x92

        lgdt    gdt_desc
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmp    $0x08, $prot

puts16:
        lodsb
        test    %al, %al
        jz      1f
        mov     %al, %bl
        mov     $COM1 + 5, %dx
2:      in      %dx, %al            /* wait for the transmit holding register */
        test    $0x20, %al
        jz      2b
        mov     $COM1, %dx
        mov     %bl, %al
        out     %al, %dx
        jmp     puts16
1:      ret

        .code32
prot:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $0x7c00, %esp

        /* Identity map the first 1 GiB with 2 MiB pages. */
        mov     $PML4, %edi
        xor     %eax, %eax
        mov     $3 * 1024, %ecx
        rep stosl
        movl    $PDPT | 3, PML4
        movl    $PD | 3, PDPT
        mov     $PD, %edi
        mov     $0x83, %eax         /* present, writable, 2 MiB page */
        mov     $512, %ecx
3:      mov     %eax, (%edi)
        add     $0x200000, %eax
        add     $8, %edi
        loop    3b

        mov     %cr4, %eax
        or      $0x20, %eax         /* PAE */
        mov     %eax, %cr4
        mov     $PML4, %eax
        mov     %eax, %cr3
        mov     $0xc0000080, %ecx   /* EFER.LME */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        ljmp    $0x18, $long

        .code64
long:
        mov     $msg_lm, %esi
        call    puts64
        mov     $msg_start, %esi
        call    puts64

        mov     $ROUNDS, %r8d
        movabs  $0x5851f42d4c957f2d, %r9    /* 64-bit LCG multiplier (Knuth MMIX) */
        mov     $PML4, %r10d
        mov     $WORK_BASE, %r11d
        movabs  $0x9e3779b97f4a7c15, %rax   /* seed */
4:      mov     %r10, %cr3
        mov     $PER_ROUND, %ecx
5:      imul    %r9, %rax
        add     $0x3039, %rax               /* odd increment: full-period LCG */
        mov     %rax, %rdx
        shr     $34, %rdx
        and     $WORK_MASK, %edx
        mov     (%r11,%rdx), %rbx
        imul    %rax, %rbx
        add     %rcx, %rbx
        mov     %rbx, (%r11,%rdx)
        dec     %ecx
        jnz     5b
        dec     %r8d
        jnz     4b

        mov     $msg_end, %esi
        call    puts64
        mov     $0x2a, %al
        out     %al, $DEBUG_EXIT
6:      hlt                                 /* only reached without isa-debug-exit */
        jmp     6b

puts64:
        lodsb
        test    %al, %al
        jz      1f
        mov     %al, %bl
        mov     $COM1 + 5, %dx
2:      in      %dx, %al
        test    $0x20, %al
        jz      2b
        mov     $COM1, %dx
        mov     %bl, %al
        out     %al, %dx
        jmp     puts64
1:      ret

        .p2align 3
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff          /* 0x08: 32-bit code */
        .quad   0x00cf92000000ffff          /* 0x10: data */
        .quad   0x00af9a000000ffff          /* 0x18: 64-bit code */
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   gdt

msg_boot:   .asciz "VIREO-PROBE-BOOT\n"
msg_lm:     .asciz "VIREO-PROBE-LM\n"
msg_start:  .asciz "VIREO-PROBE-WORK-START\n"
msg_end:    .asciz "VIREO-PROBE-WORK-END\n"

        .org    510
        .word   0xaa55
