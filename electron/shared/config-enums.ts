// The value lists of the VM config's enums, as plain data. This module imports nothing, so
// the renderer may import it (lint allows electron/shared/** there) and the zod schemas in
// electron/api/schemas/ build their z.enum()s from the same lists: one home per list, so a
// settings dropdown cannot drift from what the engine accepts.

/** Guest architectures; what differs per arch is in arch-rules.ts (and engine/arch.ts). */
export const ARCHES = ['x86_64', 'aarch64'] as const;
/**
 * Emulator backends behind the engine's backend interface: QEMU, and v86 (an x86 emulator
 * compiled to wasm) run by the renderer for 32-bit legacy guests (v86-rules.ts).
 */
export const BACKENDS = ['qemu', 'wasm/v86'] as const;
export const ACCELERATORS = ['auto', 'kvm', 'hvf', 'whpx', 'tcg'] as const;

export const OS_FAMILIES = ['linux', 'windows', 'bsd', 'dos', 'macos', 'solaris', 'other'] as const;
/** modern: q35 + virtio; legacy: i440fx + IDE + e1000/rtl8139 + cirrus/std for old OSes */
export const PROFILES = ['modern', 'legacy'] as const;

/** q35/pc for x86_64 guests, virt for aarch64 (arch-rules.ts says which goes with which) */
export const MACHINE_TYPES = ['q35', 'pc', 'virt'] as const;
export const FIRMWARES = ['bios', 'uefi'] as const;
export const PRIORITIES = ['low', 'normal', 'high'] as const;

export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc'] as const;
export const DISK_BUSES = ['virtio', 'ide', 'sata', 'scsi'] as const;
export const CACHE_MODES = ['writeback', 'none', 'unsafe'] as const;
export const CDROM_BUSES = ['ide', 'sata', 'scsi'] as const;
export const BOOT_DEVICES = ['cdrom', 'disk', 'network'] as const;

/**
 * How a NIC reaches the world: 'user' is NAT; 'private' a named network of VMs only (Vireo's
 * switch); 'hostonly' guests and the host; 'bridged' the host's LAN through a bridge (Linux),
 * vmnet (macOS) or a TAP adapter (Windows); 'none' a card with no cable (VirtualBox's "not attached").
 */
export const NIC_MODES = ['user', 'private', 'hostonly', 'bridged', 'none'] as const;
/** A private network's name: it names the switch's socket file, so no path characters. */
export const PRIVATE_NET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
/** Host ports a host-only (rootless) guest may open on the host; each one is a guestfwd. */
export const MAX_HOSTONLY_PORTS = 16;
export const NIC_MODELS = ['virtio-net-pci', 'e1000', 'e1000e', 'rtl8139', 'pcnet', 'ne2k_pci'] as const;
export const PORT_PROTOCOLS = ['tcp', 'udp'] as const;
/** A NAT card's user-mode stack: passt (a helper process) where installed, else QEMU's built-in slirp. */
export const NAT_BACKENDS = ['auto', 'passt', 'slirp'] as const;
/** Vireo's limit, not QEMU's: enough for router and firewall guests, and each NIC takes a PCI slot. */
export const MAX_NICS = 8;

/** ramfb: a plain framebuffer the aarch64 UEFI firmware hands to Linux's EFI framebuffer console */
export const DISPLAY_DEVICES = ['virtio-vga', 'virtio-gpu-pci', 'std', 'cirrus', 'qxl', 'ramfb', 'none'] as const;
export const SOUND_DEVICES = ['none', 'hda', 'ac97', 'sb16'] as const;
export const USB_CONTROLLERS = ['none', 'xhci', 'ehci', 'uhci'] as const;
/** A USB device on the VM's controller: a host device passed through, or one QEMU emulates. */
export const USB_DEVICE_KINDS = ['host', 'storage', 'keyboard', 'mouse'] as const;
/** Most USB devices one VM may carry (a USB 2/3 hub tree holds more; a person rarely needs it). */
export const MAX_USB_DEVICES = 16;
/** CD drives besides the first (cdrom0); each takes a controller port. */
export const MAX_EXTRA_CDROMS = 3;
/**
 * Host audio backends (QEMU -audiodev drivers). "auto" picks the desktop's sound server the QEMU
 * build has (PipeWire, PulseAudio, CoreAudio, DirectSound), else none; "none" keeps the card but silent.
 */
export const AUDIO_BACKENDS = ['auto', 'none', 'pipewire', 'pa', 'alsa', 'coreaudio', 'dsound'] as const;
/** One-time boot choices for a start (the saved boot order stays as it is). */
export const BOOT_ONCE = ['cdrom'] as const;

/** How a host folder reaches the guest: 9p (QEMU itself serves it) or virtiofs (a virtiofsd helper). */
export const SHARE_TYPES = ['9p', 'virtiofs'] as const;
/** Vireo's limit: each share takes a PCI slot (and for virtiofs a helper process). */
export const MAX_SHARES = 8;
