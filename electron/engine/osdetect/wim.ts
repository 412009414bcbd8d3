// Windows Imaging (WIM/ESD) header and XML metadata: the only reliable way to tell Windows 10
// from Windows 11 media, whose volume ids overlap. Layout facts from Microsoft's WIM format
// document: a 208-byte header starting "MSWIM\0\0\0", the XML resource header at offset 72 as
// {7-byte size, 1 flag byte, 8-byte offset, 8-byte original size}; the XML is UTF-16LE and is
// stored uncompressed even in compressed or solid (ESD) images.

export const WIM_HEADER_BYTES = 208;
const MAGIC = 'MSWIM\0\0\0';
const RESHDR_COMPRESSED = 0x04;
// real install.wim XML is tens of kilobytes; the cap bounds what a garbage header can make us read
export const MAX_XML_BYTES = 16 * 1024 * 1024;

export interface WimHeader {
  version: number;
  imageCount: number;
  xml: { offset: number; size: number; compressed: boolean };
}

export interface WimImage {
  index: number;
  name?: string;
  displayName?: string;
  editionId?: string;
  installationType?: string;
  build?: string;
  arch?: 'x86_64' | 'i686' | 'aarch64';
}

export interface WimInfo {
  imageCount: number;
  /** the build of the first image that states one, e.g. "22621" */
  build?: string;
  images: WimImage[];
}

export function parseWimHeader(buf: Buffer): WimHeader | undefined {
  if (buf.length < WIM_HEADER_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const size = buf.readUInt32LE(72) + (buf[72 + 4]! + (buf[72 + 5]! << 8) + (buf[72 + 6]! << 16)) * 2 ** 32;
  const flags = buf[72 + 7]!;
  const offset = Number(buf.readBigUInt64LE(72 + 8));
  return {
    version: buf.readUInt32LE(12),
    imageCount: buf.readUInt32LE(44),
    xml: { offset, size, compressed: (flags & RESHDR_COMPRESSED) !== 0 },
  };
}

const WIM_ARCH: Record<string, WimImage['arch']> = { '0': 'i686', '9': 'x86_64', '12': 'aarch64' };

function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`, 'i').exec(xml);
  const v = m?.[1]?.trim();
  return v ? decodeXmlText(v) : undefined;
}

function decodeXmlText(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Decodes the XML resource bytes (UTF-16LE, usually with a BOM) and extracts the images. */
export function parseWimXml(bytes: Buffer): WimInfo {
  let text = bytes.subarray(0, bytes.length & ~1).toString('utf16le');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const images: WimImage[] = [];
  const re = /<IMAGE\b([^>]*)>([\s\S]*?)<\/IMAGE>/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const idx = /INDEX\s*=\s*"(\d+)"/i.exec(m[1] ?? '');
    const body = m[2] ?? '';
    const img: WimImage = { index: idx ? Number(idx[1]) : images.length + 1 };
    const name = tag(body, 'NAME');
    const displayName = tag(body, 'DISPLAYNAME');
    const editionId = tag(body, 'EDITIONID');
    const installationType = tag(body, 'INSTALLATIONTYPE');
    const build = tag(body, 'BUILD');
    const arch = WIM_ARCH[tag(body, 'ARCH') ?? ''];
    if (name) img.name = name;
    if (displayName) img.displayName = displayName;
    if (editionId) img.editionId = editionId;
    if (installationType) img.installationType = installationType;
    if (build && /^\d+$/.test(build)) img.build = build;
    if (arch) img.arch = arch;
    images.push(img);
  }
  return { imageCount: images.length, build: images.find((i) => i.build)?.build, images };
}
