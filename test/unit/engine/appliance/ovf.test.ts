import { describe, expect, it } from 'vitest';
import { readOvf, allocationUnits } from '../../../../electron/engine/appliance/ovf-read.ts';
import { writeOvf } from '../../../../electron/engine/appliance/ovf-write.ts';
import { specToConfig } from '../../../../electron/engine/appliance/spec.ts';
import { parseManifest, verifyManifest, formatManifest } from '../../../../electron/engine/appliance/manifest.ts';
import { checkMemberName } from '../../../../electron/engine/appliance/tar.ts';
import { osFromCim, osFromVbox } from '../../../../electron/engine/appliance/os-map.ts';
import { baseConfig } from '../../../../electron/engine/library/library.ts';
import { VmConfigSchema } from '../../../../electron/api/schemas/vm-config.ts';

// The OVF reader's mapping (VirtualBox's and VMware's layouts), the writer (read back by the
// reader: the same machine), the manifest and member-name rules.

const ID = '11111111-2222-4333-8444-555555555555';

/** VMware-style OVF: SCSI controller, vmxnet3, EFI by vmw:Config, capacity in GiB units, no vbox:Machine. */
const VMWARE = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-1" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="w-disk1.vmdk" ovf:id="file1" ovf:size="1234"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="16" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="win">
    <Info>A virtual machine</Info><Name>Win Box</Name>
    <OperatingSystemSection ovf:id="1" vmw:osType="windows9_64Guest"><Info>The kind of installed guest operating system</Info></OperatingSystemSection>
    <VirtualHardwareSection><Info>Virtual hardware requirements</Info>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>4 virtual CPU(s)</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>4096MB of memory</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>4096</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI controller 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogicsas</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <Item><rasd:ElementName>USB controller</rasd:ElementName><rasd:InstanceID>6</rasd:InstanceID><rasd:ResourceType>23</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;

describe('OVF reader', () => {
  it('maps a VMware export: CPUs, memory, SCSI disk in GiB units, vmxnet3 as virtio, EFI, and says what it dropped', () => {
    const { spec, files } = readOvf(VMWARE, 'w.ovf');
    expect(files).toEqual([{ id: 'file1', href: 'w-disk1.vmdk', size: 1234 }]);
    expect(spec).toMatchObject({ name: 'Win Box', cpus: 4, memoryMiB: 4096, firmware: 'uefi', os: { family: 'other' } });
    expect(spec.disks).toEqual([{ source: 'w-disk1.vmdk', bus: 'scsi', capacityBytes: 16 * 2 ** 30 }]);
    expect(spec.nics).toEqual([{ model: 'virtio-net-pci', mode: 'user', mac: null }]);
    expect(spec.dropped).toEqual(expect.arrayContaining([
      expect.objectContaining({ item: 'NIC 1 network', value: 'VM Network' }),
      expect.objectContaining({ item: 'USB controller', value: 'USB controller' }),
    ]));
    expect(spec.mapped.find((m) => m.item === 'firmware')).toMatchObject({ value: 'uefi', note: 'vmw:Config firmware' });
  });

  it('refuses what is not an OVF descriptor, and a DOCTYPE (no entity tricks)', () => {
    expect(() => readOvf('<html><body/></html>', 'x.ovf')).toThrow(/x\.ovf is not an OVF descriptor/);
    expect(() => readOvf('<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><Envelope>&x;</Envelope>', 'e.ovf')).toThrow(/DOCTYPE/);
    expect(() => readOvf('<Envelope><VirtualSystem>', 'broken.ovf')).toThrow(/broken\.ovf is not well-formed XML/);
  });

  it('units: byte * 2^N and the names VirtualBox writes; an unknown unit is refused by name', () => {
    expect(allocationUnits('byte * 2^20')).toBe(2 ** 20);
    expect(allocationUnits('MegaBytes')).toBe(2 ** 20);
    expect(allocationUnits(undefined)).toBe(1);
    expect(() => allocationUnits('furlongs')).toThrow(/unknown allocation unit "furlongs"/);
  });

  it('OS ids: CIM numbers and VirtualBox OSTypes onto Vireo ids', () => {
    expect(osFromCim(96)).toEqual({ id: 'unknown', name: 'Debian (64-bit)', family: 'linux' });
    expect(osFromCim(105)).toMatchObject({ id: 'win7', family: 'windows' });
    expect(osFromVbox('Windows11_64')).toMatchObject({ id: 'win11', family: 'windows' });
    expect(osFromVbox('Debian12_64')).toEqual({ id: 'debian12', name: 'Debian 12', family: 'linux' });
    expect(osFromVbox('FreeBSD_64')).toMatchObject({ id: 'unknown', family: 'bsd' });
    expect(osFromVbox('Nonsense')).toBeNull();
  });
});

describe('OVF writer', () => {
  const source = () => {
    const c = baseConfig(ID, 'Round Trip');
    return VmConfigSchema.parse({
      ...c,
      os: { id: 'debian12', name: 'Debian 12', family: 'linux' },
      system: { ...c.system, cpus: 3, memoryMiB: 1536, firmware: 'uefi' },
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }, { id: 'data', file: 'data.qcow2', bus: 'scsi', cache: 'none' }],
      networks: [{ id: 'net0', mac: '52:54:00:aa:bb:cc', model: 'virtio-net-pci' }, { id: 'net1', mac: '52:54:00:aa:bb:cd', model: 'e1000', mode: 'private', network: 'lab' }],
      advanced: { extraArgs: ['-device', 'evil'] },
      shares: [{ tag: 'home', path: '/home/someone' }],
    });
  };

  it('writes OVF 1.0 that reads back as the same machine; host-reaching settings stay behind', () => {
    const c = source();
    const xml = writeOvf(c, [{ file: 'rt-disk1.vmdk', sizeBytes: 100, capacityBytes: 2 ** 30 }, { file: 'rt-disk2.vmdk', sizeBytes: 50, capacityBytes: 2 ** 29 }]);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Envelope ovf:version="1.0"/);
    expect(xml).toContain('<OperatingSystemSection ovf:id="96">');
    expect(xml).toContain('<vbox:OSType ovf:required="false">Debian12_64</vbox:OSType>');
    expect(xml).not.toContain('evil');
    expect(xml).not.toContain('/home/someone');
    // rasd children in the schema's (alphabetical) order
    for (const it of xml.match(/<Item>[\s\S]*?<\/Item>/g)!) {
      const names = [...it.matchAll(/<rasd:(\w+)>/g)].map((m) => m[1]!);
      expect(names).toEqual([...names].sort());
    }
    const { spec } = readOvf(xml, 'rt.ovf');
    expect(spec).toMatchObject({ name: 'Round Trip', cpus: 3, memoryMiB: 1536, firmware: 'uefi', os: { id: 'debian12' } });
    expect(spec.disks.map((d) => [d.source, d.capacityBytes])).toEqual([['rt-disk1.vmdk', 2 ** 30], ['rt-disk2.vmdk', 2 ** 29]]);
    const back = specToConfig(spec, '99999999-2222-4333-8444-555555555555', 'Round Trip', ['disk0.qcow2', 'disk1.qcow2']);
    expect(back.system).toEqual(c.system);
    expect(back.disks.map((d) => [d.id, d.bus, d.cache])).toEqual([['disk0', 'virtio', 'writeback'], ['data', 'scsi', 'none']]);
    expect(back.networks.map((n) => [n.model, n.mode, n.mac])).toEqual([['virtio-net-pci', 'user', '52:54:00:aa:bb:cc'], ['e1000', 'user', '52:54:00:aa:bb:cd']]);
    expect(spec.dropped.map((d) => d.item)).toContain('NIC 2 mode');
    expect(back.advanced.extraArgs).toEqual([]);
    expect(back.shares).toEqual([]);
    expect({ ...back, id: c.id, createdAt: c.createdAt, disks: c.disks, networks: c.networks, advanced: c.advanced, shares: c.shares }).toEqual(c);
  });

  it('escapes names for XML', () => {
    const c = { ...source(), name: 'a <b> & "c"' };
    const { spec } = readOvf(writeOvf(c, []), 'e.ovf');
    expect(spec.name).toBe('a <b> & "c"');
  });
});

describe('manifest', () => {
  const sha = 'a'.repeat(64);
  it("reads VirtualBox 7's and VMware's spellings, SHA1 and SHA256", () => {
    expect(parseManifest(`SHA256 (x.ovf) = ${sha}\nSHA1(d.vmdk)= ${'b'.repeat(40)}\n`, 'x.mf')).toEqual([
      { algo: 'sha256', file: 'x.ovf', digest: sha },
      { algo: 'sha1', file: 'd.vmdk', digest: 'b'.repeat(40) },
    ]);
    expect(parseManifest(formatManifest([{ file: 'y.ovf', sha256: sha }]), 'y.mf')).toEqual([{ algo: 'sha256', file: 'y.ovf', digest: sha }]);
  });
  it('a damaged line or a wrong-length digest is refused naming the manifest and the line', () => {
    expect(() => parseManifest(`SHA256 (x.ovf) = ${sha}\ngarbage\n`, 'x.mf')).toThrow(/manifest x\.mf is damaged at line 2/);
    expect(() => parseManifest('SHA256 (x.ovf) = abc\n', 'x.mf')).toThrow(/line 1/);
  });
  it('a mismatch names the file; a referenced file missing from the manifest is refused too', () => {
    const entries = parseManifest(`SHA256 (x.ovf) = ${sha}\n`, 'x.mf');
    const good = new Map([['x.ovf', { sha1: '', sha256: sha, sha512: '' }]]);
    expect(() => verifyManifest(entries, good, 'x.mf', ['x.ovf'])).not.toThrow();
    const bad = new Map([['x.ovf', { sha1: '', sha256: 'c'.repeat(64), sha512: '' }]]);
    expect(() => verifyManifest(entries, bad, 'x.mf', ['x.ovf'])).toThrow(/^x\.ovf does not match its SHA256 digest in x\.mf/);
    expect(() => verifyManifest(entries, good, 'x.mf', ['x.ovf', 'd.vmdk'])).toThrow(/d\.vmdk is not listed in manifest x\.mf/);
  });
});

describe('OVA member names', () => {
  it('plain file names only', () => {
    expect(checkMemberName('./vm-disk001.vmdk', 'a.ova')).toBe('vm-disk001.vmdk');
    for (const bad of ['../etc/passwd', '/etc/passwd', 'dir/x.vmdk', '.hidden', 'a..b']) expect(() => checkMemberName(bad, 'a.ova')).toThrow(/not a plain file name/);
  });
});
