import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { cimOf, vboxOsTypeOf } from './os-map.ts';
import { keepInsideVm } from './ovf-read.ts';

// An OVF 1.0 descriptor (DSP0243 1.0, the version VirtualBox's "Export Appliance" writes by
// default and every importer reads) for a Vireo VM: References, DiskSection (streamOptimized
// VMDKs), NetworkSection, one VirtualSystem with OperatingSystemSection (CIM id plus
// VirtualBox's OSType) and a VirtualHardwareSection of rasd items, their child elements in
// the schema's (alphabetical) order. Settings OVF has no words for (firmware, the real disk
// bus, devices) travel in Vireo's own section, marked ovf:required="false" so other importers
// skip it.

export interface OvfDiskOut {
  /** the member name of the VMDK in the OVA */
  file: string;
  sizeBytes: number;
  capacityBytes: number;
}

export const VIREO_OVF_NS = 'https://vireo.app/ovf/1';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function item(fields: Record<string, string | number | undefined>): string {
  const keys = Object.keys(fields).filter((k) => fields[k] !== undefined).sort();
  return `      <Item>\n${keys.map((k) => `        <rasd:${k}>${esc(String(fields[k]))}</rasd:${k}>`).join('\n')}\n      </Item>`;
}

const NIC_SUBTYPE: Record<string, string> = { 'virtio-net-pci': 'virtio', e1000: 'E1000', e1000e: 'E1000', pcnet: 'PCNet32', rtl8139: 'E1000', ne2k_pci: 'E1000' };

export function writeOvf(c: VmConfig, disks: OvfDiskOut[]): string {
  let inst = 0;
  const next = () => String(++inst);
  const items: string[] = [];
  items.push(item({ Caption: `${c.system.cpus} virtual CPU`, Description: 'Number of virtual CPUs', ElementName: `${c.system.cpus} virtual CPU`, InstanceID: next(), ResourceType: 3, VirtualQuantity: c.system.cpus }));
  items.push(item({ AllocationUnits: 'MegaBytes', Caption: `${c.system.memoryMiB} MB of memory`, Description: 'Memory Size', ElementName: `${c.system.memoryMiB} MB of memory`, InstanceID: next(), ResourceType: 4, VirtualQuantity: c.system.memoryMiB }));
  const sata = next();
  items.push(item({ Address: 0, Caption: 'sataController0', Description: 'SATA Controller', ElementName: 'sataController0', InstanceID: sata, ResourceSubType: 'AHCI', ResourceType: 20 }));
  disks.forEach((_d, i) => {
    items.push(item({ AddressOnParent: i, Caption: `disk${i + 1}`, Description: 'Disk Image', ElementName: `disk${i + 1}`, HostResource: `/disk/vmdisk${i + 1}`, InstanceID: next(), Parent: sata, ResourceType: 17 }));
  });
  c.networks.forEach((n) => {
    items.push(item({ Address: n.mac.replace(/:/g, '').toUpperCase(), AutomaticAllocation: n.mode === 'none' ? 'false' : 'true', Caption: "Ethernet adapter on 'NAT'", Connection: 'NAT', ElementName: "Ethernet adapter on 'NAT'", InstanceID: next(), ResourceSubType: NIC_SUBTYPE[n.model] ?? 'E1000', ResourceType: 10 }));
  });
  // The cards as they are (the importer keeps NAT and "not connected" and says it dropped the rest).
  const settings = { ...keepInsideVm(c), name: c.name, networks: c.networks.map((n) => ({ id: n.id, model: n.model, mode: n.mode, mac: n.mac, portForwards: n.portForwards, ...(n.network ? { network: n.network } : {}), ...(n.bridge ? { bridge: n.bridge } : {}) })) };
  const osType = vboxOsTypeOf(c.os.family, c.os.id);
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vbox="http://www.virtualbox.org/ovf/machine" xmlns:vireo="${VIREO_OVF_NS}">
  <References>
${disks.map((d, i) => `    <File ovf:id="file${i + 1}" ovf:href="${esc(d.file)}" ovf:size="${d.sizeBytes}"/>`).join('\n')}
  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
${disks.map((d, i) => `    <Disk ovf:capacity="${d.capacityBytes}" ovf:diskId="vmdisk${i + 1}" ovf:fileRef="file${i + 1}" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>`).join('\n')}
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks used in the package</Info>
    <Network ovf:name="NAT">
      <Description>Logical network used by this appliance.</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${esc(c.name)}">
    <Info>A virtual machine</Info>
    <Name>${esc(c.name)}</Name>
    <OperatingSystemSection ovf:id="${cimOf(c.os.family, c.os.id)}">
      <Info>The kind of installed guest operating system</Info>
      <Description>${esc(c.os.name)}</Description>
      <vbox:OSType ovf:required="false">${esc(osType)}</vbox:OSType>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements for a virtual machine</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${esc(c.name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>
      </System>
${items.join('\n')}
    </VirtualHardwareSection>
    <vireo:VireoConfig ovf:required="false">
      <Info>Vireo settings OVF has no elements for (firmware, disk buses, devices)</Info>
      <vireo:Settings>${esc(JSON.stringify(settings))}</vireo:Settings>
    </vireo:VireoConfig>
  </VirtualSystem>
</Envelope>
`;
}
