import type { IsoInfo, IsoReader } from './iso9660.ts';
import { findUdfFile, readUdfFile } from './udf.ts';
import { MAX_XML_BYTES, WIM_HEADER_BYTES, parseWimHeader, parseWimXml, type WimInfo } from './wim.ts';

// ---------------------------------------------------------------------------------------------
// Windows builds

/** Client/server OS id for an NT build number (from the WIM's XML). */
export function windowsIdForBuild(build: number, server: boolean): string | undefined {
  if (server) {
    if (build >= 26100) return 'win2k25';
    if (build >= 20348) return 'win2k22';
    if (build >= 17763) return 'win2k19';
    if (build >= 14393) return 'win2k16';
    if (build >= 9600) return 'win2k12r2';
    if (build >= 9200) return 'win2k12';
    if (build >= 7600) return 'win2k8r2';
    if (build >= 6001) return 'win2k8';
    return undefined;
  }
  if (build >= 22000) return 'win11';
  if (build >= 10240) return 'win10';
  if (build >= 9600) return 'win8.1';
  if (build >= 9200) return 'win8';
  if (build >= 7600) return 'win7';
  if (build >= 6000) return 'winvista';
  return undefined;
}

/** A file inside the image, read by offset; undefined when the range is not in the image. */
interface FileView {
  size: number;
  read(offset: number, len: number, what: string): Promise<Buffer | undefined>;
}

async function wimFrom(view: FileView, path: string): Promise<WimInfo | undefined> {
  if (view.size < WIM_HEADER_BYTES) return undefined;
  const head = await view.read(0, WIM_HEADER_BYTES, `${path} header`);
  const header = head && parseWimHeader(head);
  if (!header || header.xml.compressed || header.xml.size === 0 || header.xml.size > MAX_XML_BYTES) return undefined;
  const xml = await view.read(header.xml.offset, header.xml.size, `${path} XML metadata`);
  return xml && parseWimXml(xml);
}

export async function readWim(reader: IsoReader, info: IsoInfo): Promise<WimInfo | undefined> {
  for (const path of ['sources/install.wim', 'sources/install.esd']) {
    const f = await reader.findFile(info, path);
    if (f) {
      const base = f.lba * 2048;
      const wim = await wimFrom(
        {
          size: f.size,
          // a >4 GiB install.wim is stored as several ISO 9660 extents; mastering tools lay
          // them out contiguously, so offsets past the first extent still land in the file
          read: async (off, len, what) => (base + off + len > reader.fileBytes ? undefined : reader.read(base + off, len, what)),
        },
        path,
      );
      if (wim) return wim;
    }
  }
  // Windows media hide their files from ISO 9660 (only a README is there) and keep them in UDF
  if (!info.udf) return undefined;
  for (const path of ['sources/install.wim', 'sources/install.esd']) {
    const f = await findUdfFile(reader, path);
    if (!f) continue;
    const wim = await wimFrom({ size: f.size, read: (off, len) => readUdfFile(reader, f, off, len) }, path);
    if (wim) return wim;
  }
  return undefined;
}
