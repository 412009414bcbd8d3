// A small XML reader for libvirt's domain, snapshot and capabilities documents: elements,
// attributes and text, nothing else (no DTDs, no entities beyond the five predefined and
// numeric ones). libvirt writes well-formed, namespace-light XML, so this is enough to read it
// back, and it keeps the engine free of a runtime XML dependency.

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/** Text or attribute value escaped for XML (both quote kinds, so it fits either delimiter). */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Parses one XML document into its root element; throws with the offset on malformed input. */
export function parseXml(src: string): XmlNode {
  const root: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
  const attr = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) stack[stack.length - 1]!.text += unescapeXml(src.slice(i, textEnd));
    if (lt < 0) break;
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt);
      if (end < 0) throw new Error(`XML: unterminated comment at offset ${lt}`);
      i = end + 3;
      continue;
    }
    if (src.startsWith('<?', lt) || src.startsWith('<!', lt)) {
      const end = src.indexOf('>', lt);
      if (end < 0) throw new Error(`XML: unterminated declaration at offset ${lt}`);
      i = end + 1;
      continue;
    }
    tag.lastIndex = lt;
    const m = tag.exec(src);
    if (!m) throw new Error(`XML: malformed tag at offset ${lt}: ${src.slice(lt, lt + 40)}`);
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const top = stack.pop();
      if (!top || top.name !== name || stack.length === 0) throw new Error(`XML: </${name}> at offset ${lt} closes <${top?.name ?? 'nothing'}>`);
    } else {
      const node: XmlNode = { name: name!, attrs: {}, children: [], text: '' };
      for (const a of attrText!.matchAll(attr)) node.attrs[a[1]!] = unescapeXml(a[2] ?? a[3] ?? '');
      stack[stack.length - 1]!.children.push(node);
      if (!selfClose) stack.push(node);
    }
    i = tag.lastIndex;
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is never closed`);
  const el = root.children;
  if (el.length !== 1) throw new Error(`XML: expected one root element, found ${el.length}`);
  return el[0]!;
}

export const child = (n: XmlNode | undefined, name: string): XmlNode | undefined => n?.children.find((c) => c.name === name);
export const childrenOf = (n: XmlNode | undefined, name: string): XmlNode[] => n?.children.filter((c) => c.name === name) ?? [];
export const textOf = (n: XmlNode | undefined): string => n?.text.trim() ?? '';
/** The element at a path of child names (`devices/graphics`), first match at each step. */
export function at(n: XmlNode | undefined, path: string): XmlNode | undefined {
  let cur = n;
  for (const p of path.split('/')) cur = child(cur, p);
  return cur;
}
