/*
 * Vireo accelerator self-test guest for aarch64 (the x86 one is resources/probe/probe.S).
 *
 * QEMU loads this ELF with -kernel on the virt machine and enters it at EL1 with the MMU off.
 * It turns the MMU on with an identity map (so an accelerator that breaks on translation is
 * caught) and runs the same kind of workload as the x86 probe: pseudo-random
 * load/multiply/store over a 4 MiB region, with a full TLB invalidate (TLBI VMALLE1) every 64
 * accesses. TCG drops its whole software TLB on that and walks the guest page tables in C for
 * every page touched afterwards; hardware keeps the region in one 1 GiB block entry.
 *
 * Protocol on the PL011 UART (0x09000000), one line per marker:
 *   VIREO-PROBE-BOOT  VIREO-PROBE-LM (here: the MMU is on)  VIREO-PROBE-WORK-START
 *   VIREO-PROBE-WORK-END
 * then PSCI SYSTEM_OFF through HVC (the conduit QEMU, KVM and HVF offer a guest started at
 * EL1 without firmware), which ends QEMU with status 0.
 */

.equ UART, 0x09000000
.equ TABLE, 0x40100000          /* level-1 translation table, 1 MiB into RAM */
.equ WORK_BASE, 0x40800000      /* 8 MiB into RAM: clear of this image and the table */
.equ WORK_MASK, 0x3ffff8        /* 4 MiB region, 8-byte aligned slots */
.equ ROUNDS, 6000
.equ PER_ROUND, 64
.equ PSCI_SYSTEM_OFF, 0x84000008

        .text
        .globl _start
_start:
        ldr     x20, =UART
        adr     x0, msg_boot
        bl      puts

        /* Level-1 table, 4 KiB granule, 39-bit VA: entry 0 maps 0-1 GiB as device memory
         * (the UART), entry 1 maps 1-2 GiB (RAM) as normal write-back memory. */
        ldr     x1, =TABLE
        ldr     x2, =0x405              /* block, AttrIndx 1 (device), AF */
        str     x2, [x1]
        ldr     x2, =0x40000701         /* block at 1 GiB, AttrIndx 0 (normal), inner shareable, AF */
        str     x2, [x1, #8]
        mov     x3, #2
2:      str     xzr, [x1, x3, lsl #3]  /* the rest of the table: invalid */
        add     x3, x3, #1
        cmp     x3, #512
        b.ne    2b
        dsb     sy

        ldr     x2, =0xff               /* MAIR: attr0 normal WB, attr1 device nGnRnE */
        msr     mair_el1, x2
        /* TCR: T0SZ=25, IRGN0/ORGN0 WB, SH0 inner, TG0 4K, EPD1 (no TTBR1 walks), IPS 32-bit */
        ldr     x2, =(25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))
        msr     tcr_el1, x2
        msr     ttbr0_el1, x1
        isb
        tlbi    vmalle1
        dsb     sy
        isb
        mrs     x2, sctlr_el1
        orr     x2, x2, #1              /* M */
        orr     x2, x2, #(1 << 2)       /* C */
        orr     x2, x2, #(1 << 12)      /* I */
        msr     sctlr_el1, x2
        isb

        adr     x0, msg_lm
        bl      puts
        adr     x0, msg_start
        bl      puts

        ldr     x4, =WORK_BASE
        ldr     x5, =WORK_MASK
        ldr     x6, =6364136223846793005
        ldr     x7, =1442695040888963407
        mov     x8, #0x1234             /* LCG state */
        ldr     x9, =ROUNDS
round:
        mov     x10, #PER_ROUND
access:
        madd    x8, x8, x6, x7
        lsr     x11, x8, #20
        and     x11, x11, x5
        ldr     x12, [x4, x11]
        mul     x12, x12, x8
        add     x12, x12, #1
        str     x12, [x4, x11]
        subs    x10, x10, #1
        b.ne    access
        tlbi    vmalle1
        dsb     ish
        isb
        subs    x9, x9, #1
        b.ne    round

        adr     x0, msg_end
        bl      puts
        ldr     x0, =PSCI_SYSTEM_OFF
        hvc     #0
hang:   wfi
        b       hang

/* x0: NUL-terminated string; x20: the UART data register. QEMU's PL011 never reports a full
 * FIFO, so no flag polling. */
puts:
        ldrb    w1, [x0], #1
        cbz     w1, 1f
        strb    w1, [x20]
        b       puts
1:      ret

msg_boot:  .asciz "VIREO-PROBE-BOOT\r\n"
msg_lm:    .asciz "VIREO-PROBE-LM\r\n"
msg_start: .asciz "VIREO-PROBE-WORK-START\r\n"
msg_end:   .asciz "VIREO-PROBE-WORK-END\r\n"
        .balign 8
        .ltorg
