import { XMLParser } from 'fast-xml-parser';
import { VireoError } from '../../api/errors.ts';

// One XML reading for OVF descriptors and VirtualBox .vbox files. Namespace prefixes are
// dropped (ovf:, rasd:, vbox: vary between writers; the element names do not), attributes
// kept under "@", and the elements that may repeat are always arrays, so a one-disk
// appliance reads like a five-disk one.

export type XmlNode = Record<string, unknown>;

const REPEATED = new Set(['File', 'Disk', 'Network', 'Item', 'VirtualSystem', 'Adapter', 'StorageController', 'AttachedDevice', 'HardDisk', 'Order', 'Config']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // External entities are never resolved by fast-xml-parser; internal ones stay off too.
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => REPEATED.has(name),
});

export function parseXml(text: string, what: string): XmlNode {
  try {
    if (/<!DOCTYPE/i.test(text.slice(0, 4096))) throw new Error('a DOCTYPE is not allowed in an appliance descriptor');
    return parser.parse(text, true) as XmlNode;
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', `${what} is not well-formed XML (${(e as Error).message.split('\n')[0]}): the file is damaged or not an appliance descriptor`, { file: what });
  }
}

export const child = (n: unknown, name: string): XmlNode | undefined => {
  const v = (n as XmlNode | undefined)?.[name];
  if (Array.isArray(v)) return v[0] as XmlNode;
  return v && typeof v === 'object' ? (v as XmlNode) : undefined;
};
export const children = (n: unknown, name: string): XmlNode[] => {
  const v = (n as XmlNode | undefined)?.[name];
  return Array.isArray(v) ? (v as XmlNode[]) : v && typeof v === 'object' ? [v as XmlNode] : [];
};
/** An element's text: a leaf is a string, an element with attributes keeps it in "#text". */
export const text = (n: unknown, name: string): string | undefined => {
  const v = (n as XmlNode | undefined)?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  if (typeof one === 'string' || typeof one === 'number') return String(one);
  if (one && typeof one === 'object' && '#text' in one) return String((one as XmlNode)['#text']);
  return undefined;
};
export const attr = (n: unknown, name: string): string | undefined => {
  const v = (n as XmlNode | undefined)?.[`@${name}`];
  return v === undefined ? undefined : String(v);
};
