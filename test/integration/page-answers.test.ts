import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';
import { baseConfig } from '../../electron/engine/library/library.ts';
import { writeConfig } from '../../electron/engine/library/config-store.ts';
import { PAGE_ANSWERS_ID } from '../../electron/shared/page-answers.ts';

// `vireo serve` writes the library's first answers into the page it serves (issue 21): the
// real engine on a temp library, real HTTP. Only a request that holds the token gets them.

let home: string;
let site: string;
let engine: Engine;
let server: RunningServer;
const TOKEN = 'page-answers-token-0123456789';
const INDEX = '<!doctype html><html><head><title>t</title></head><body><div id="root"></div><script type="module" src="./a.js"></script></body></html>';

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vireo-h4perf-pa-'));
  site = await mkdtemp(join(tmpdir(), 'vireo-h4perf-site-'));
  await writeFile(join(site, 'index.html'), INDEX);
  await writeFile(join(site, 'a.js'), 'export {};\n');
  const id = randomUUID();
  await mkdir(join(home, 'vms', id, 'logs'), { recursive: true });
  await writeConfig(join(home, 'vms', id, 'vm.json'), baseConfig(id, 'answered-vm'));
  engine = await createEngine({ home });
  server = await startServer({ engine, port: 0, token: TOKEN, staticDir: site });
});
afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(home, { recursive: true, force: true });
  await rm(site, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${server.port}`;
const withCookie = { headers: { cookie: `vireo_token=${TOKEN}` } };
const block = (html: string) => new RegExp(`<script type="application/json" id="${PAGE_ANSWERS_ID}">([^<]*)</script>`).exec(html)?.[1];

describe('vireo serve: the page carries the library', () => {
  it('index.html for a token holder has vms.list and groups.list as the API would answer them', async () => {
    for (const path of ['/', '/index.html']) {
      const r = await fetch(`${base()}${path}`, withCookie);
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const json = block(await r.text());
      expect(json, path).toBeDefined();
      const answers = JSON.parse(json!) as Record<string, unknown>;
      const listed = await engine.client.call('vms.list', {});
      expect(answers['vms.list']).toEqual(JSON.parse(JSON.stringify(listed)));
      expect((answers['vms.list'] as { name: string }[]).map((v) => v.name)).toEqual(['answered-vm']);
      expect(answers['groups.list']).toEqual(JSON.parse(JSON.stringify(await engine.client.call('groups.list', {}))));
    }
  });

  it('nothing of the library reaches a client without the token: not the 401, not the redirect of another path, not other files', async () => {
    for (const init of [{}, { headers: { cookie: 'vireo_token=wrong' } }]) {
      const r = await fetch(`${base()}/`, init);
      expect(r.status).toBe(401);
      const text = await r.text();
      expect(text).not.toContain('answered-vm');
      expect(text).not.toContain(PAGE_ANSWERS_ID);
    }
    for (const init of [{}, { headers: { cookie: 'vireo_token=wrong' } }]) {
      const r = await fetch(`${base()}/?token=wrong`, { ...init, redirect: 'manual' });
      expect(r.status).toBe(401);
      expect(await r.text()).not.toContain('answered-vm');
    }
    const redirect = await fetch(`${base()}/a.js?token=${TOKEN}`, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(await redirect.text()).not.toContain('answered-vm');
    // The token URL itself is the page, for its holder: with the answers and the cookie.
    const page = await fetch(`${base()}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(/vireo_token=/);
    expect(await page.text()).toContain('answered-vm');
    const js = await fetch(`${base()}/a.js`, withCookie);
    expect(await js.text()).toBe('export {};\n');
  });

  it('the answers follow the library: a group made after one page was served is in the next', async () => {
    const groups = async () => (JSON.parse(block(await (await fetch(`${base()}/`, withCookie)).text())!) as { 'groups.list': { groups: { name: string }[] } })['groups.list'].groups.map((g) => g.name);
    expect(await groups()).not.toContain('answered-group');
    await engine.client.call('groups.create', { name: 'answered-group' });
    expect(await groups()).toContain('answered-group');
  });
});
