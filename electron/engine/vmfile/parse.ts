import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import { FileBase, FileNic, FileShare, FileVm, PROJECT_RE, VmFileSchema, type VmFile } from './schema.ts';
import { PortForward } from '../../api/schemas/vm-config.ts';
import { CloudCreateArgs } from '../../api/schemas/cloud-init.ts';

// Reading a VM file: YAML (the yaml package keeps every node's source range, so an error can
// name its line), then the zod schema. Each problem becomes one line
// "<file>:<line> <field path>: <what is expected>"; all of them are reported at once, so a
// person fixes the file in one pass. The error is INVALID_ARGUMENT with details.problems.

export interface FileProblem {
  line: number;
  field: string;
  message: string;
}

export interface ParsedVmFile {
  /** absolute path of the file */
  file: string;
  /** the folder relative paths in it are resolved against */
  dir: string;
  /** the name prefix of its VMs */
  project: string;
  spec: VmFile;
}

export async function readVmFile(file: string): Promise<ParsedVmFile> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VireoError('NOT_FOUND', `no VM file at ${abs}: write a vireo.yaml there, or name one with -f FILE`, { file: abs });
    throw new VireoError('IO_ERROR', `cannot read the VM file ${abs}: ${(e as Error).message}`, { file: abs });
  }
  return parseVmFile(text, abs);
}

/** Parses a VM file's text; `file` names it in messages and anchors its relative paths. */
export function parseVmFile(text: string, file: string): ParsedVmFile {
  const abs = resolve(file);
  const shown = basename(abs);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  if (doc.errors.length) {
    const problems = doc.errors.map((e) => ({ line: lineOf(e.pos[0]), field: '', message: e.message.split('\n')[0]! }));
    throw refusal(shown, abs, problems, 'is not valid YAML');
  }
  const parsed = VmFileSchema.safeParse(doc.toJS());
  if (!parsed.success) throw refusal(shown, abs, parsed.error.issues.flatMap((i) => locate(doc, i, lineOf)));
  const dir = dirname(abs);
  const project = parsed.data.project ?? projectFromFolder(dir);
  if (!PROJECT_RE.test(project)) {
    throw refusal(shown, abs, [{ line: 1, field: 'project', message: `the folder name "${basename(dir)}" cannot be a VM name prefix: set project: to 1-32 letters, digits, ".", "_" or "-"` }]);
  }
  return { file: abs, dir, project, spec: parsed.data };
}

/** The folder's name made into a prefix: spaces and other characters become "-". */
function projectFromFolder(dir: string): string {
  return basename(dir).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 32);
}

function refusal(shown: string, abs: string, found: FileProblem[], what = 'has errors'): VireoError {
  const problems = [...found].sort((a, b) => a.line - b.line);
  const text = problems.map((p) => `${shown}:${p.line}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('\n');
  return new VireoError('INVALID_ARGUMENT', problems.length === 1 ? text : `${shown} ${what}:\n${text}`, { file: abs, problems });
}

type Path = Array<string | number>;

/** One zod issue → its line(s): the node at the path, else the nearest node above it that exists. */
function locate(doc: Document, issue: z.core.$ZodIssue, lineOf: (o: number) => number): FileProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ line: lineOf(keyOffset(doc, path, k) ?? nodeOffset(doc, path)), field: fieldPath([...path, k]), message: `unknown field (expected one of ${knownKeys(path)})` }));
  }
  if (issue.code === 'invalid_key') {
    // a record key that failed its rule: point at the key itself
    const key = path[path.length - 1];
    const parent = path.slice(0, -1);
    return [{ line: lineOf((key !== undefined ? keyOffset(doc, parent, String(key)) : undefined) ?? nodeOffset(doc, path)), field: fieldPath(path), message: issue.issues[0]?.message ?? issue.message }];
  }
  if (path.length > 0 && !doc.hasIn(path)) {
    // a required field left out: the line of the map that lacks it ("web:"), not of its first field
    const parent = path.slice(0, -1);
    const key = parent[parent.length - 1];
    const at = typeof key === 'string' ? keyOffset(doc, parent.slice(0, -1), key) : undefined;
    return [{ line: lineOf(at ?? nodeOffset(doc, path)), field: fieldPath(path), message: issue.code === 'invalid_type' ? `missing: ${issue.message}` : issue.message }];
  }
  return [{ line: lineOf(nodeOffset(doc, path)), field: fieldPath(path), message: issue.message }];
}

function nodeOffset(doc: Document, path: Path): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function keyOffset(doc: Document, mapPath: Path, key: string): number | undefined {
  const map = mapPath.length ? doc.getIn(mapPath, true) : doc.contents;
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === key && item.key.range) return item.key.range[0];
  }
  return undefined;
}

/** "vms.web.nics[0].forwards[1]" */
export function fieldPath(path: Path): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

/** The fields allowed where an unknown one was found, for the message (from the schema itself). */
function knownKeys(path: Path): string {
  const last = path[path.length - 1];
  const list = typeof last === 'number' ? path[path.length - 2] : last;
  const shape =
    path.length === 0 ? VmFileSchema.shape
    : path.length === 2 ? FileVm.shape
    : list === 'base' ? FileBase.shape
    : list === 'cloud' ? CloudCreateArgs.shape
    : list === 'nics' ? FileNic.shape
    : list === 'shares' ? FileShare.shape
    : PortForward.shape;
  return Object.keys(shape).join(', ');
}
