// Process-level: an app on the OpenTelemetry 3.x / 0.3xx line (Node >= 22.15), as a user gets it.
// llm-otel depends on the 2.x / 0.2xx line, whose packages accept only @opentelemetry/api < 1.10,
// while the 3.x line wants api 1.10: npm gives the app api 1.10 with the 3.x SDK, and llm-otel its
// own api 1.9 with the 2.x line under llm-otel/node_modules. test/.otel-3x/ is that app folder
// (test/fixtures/otel-3x: package.json + lockfile, installed by scripts/test-nodes.mjs), with
// `llm-otel` linked to this repository (so its dependencies are this repository's 2.x line) and
// openai 7 (which declares Node >= 22). Skipped on Node < 22.15, where the 3.x line does not install.
//
// 1. The app's NodeSDK takes OpenAIInstrumentation and SqliteCallLogExporter (no register).
// 2. The app's NodeSDK starts before `--import llm-otel/register`.
// 3. `--import llm-otel/register`, then the app starts its NodeSDK: llm-otel's records are whole
//    and the app's own SDK registers (its span is the LLM spans' parent).

import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { scratch } from './2x-helpers/spans.mjs';
import { APPS_DIR, REPO_ROOT } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { runApp } from './helpers/run-app.mjs';

const APP_DIR = join(REPO_ROOT, 'test', '.otel-3x');
const [major, minor] = process.versions.node.split('.').map(Number);
const SUPPORTED = major > 22 || (major === 22 && minor >= 15);
const skip = SUPPORTED ? false : `the OpenTelemetry 3.x line needs Node >= 22.15 (this is ${process.version})`;

const versionOf = (dir) => {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};

/** Links llm-otel and copies openai 7 into test/.otel-3x/node_modules, then the app templates. */
function installApps(names) {
  const modules = join(APP_DIR, 'node_modules');
  if (!existsSync(join(modules, '@opentelemetry', 'sdk-node')))
    throw new Error('test/.otel-3x is not installed: run `node scripts/test-nodes.mjs 22 -- test/28-otel-3x-line.test.mjs`');
  const link = join(modules, 'llm-otel');
  if (!existsSync(link)) {
    try {
      symlinkSync(REPO_ROOT, link, 'dir');
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
  const source = join(REPO_ROOT, 'node_modules', 'openai-v7');
  const target = join(modules, 'openai'); // a copy: the hooks match the package name `openai`
  if (versionOf(target) !== versionOf(source)) {
    rmSync(target, { recursive: true, force: true });
    const tmp = `${target}.${process.pid}.tmp`;
    cpSync(source, tmp, { recursive: true, dereference: true });
    renameSync(tmp, target);
  }
  const paths = {};
  for (const name of names) {
    paths[name] = join(APP_DIR, name);
    writeFileSync(paths[name], readFileSync(join(APPS_DIR, name)));
  }
  return paths;
}

const rows = (path) => {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT trace_id, span_id, request_model, status FROM llm_calls ORDER BY id').all();
  } finally {
    db.close();
  }
};

const llmSpans = (spans) => spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');

/** The three LLM calls as rows and as OTLP spans, one for one. */
function assertThreeCalls(r, dbPath, spans) {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('answer: ')).length, 3, r.stdout);
  assert.match(r.stdout, /shut down\n$/);
  assert.doesNotMatch(r.stderr, /\[llm-otel\]/);
  const calls = rows(dbPath);
  assert.deepEqual(
    calls.map((c) => [c.request_model, c.status]),
    [
      ['gpt-4o-mini', 'ok'],
      ['gpt-4o-mini', 'ok'],
      ['gpt-4o-mini', 'ok'],
    ],
  );
  const llm = llmSpans(spans);
  assert.equal(llm.length, 3, `LLM spans over OTLP: ${spans.map((s) => s.name).join(', ')}`);
  for (const s of llm) {
    assert.equal(s.name, 'chat gpt-4o-mini');
    assert.equal(s.kindName, 'CLIENT');
    assert.equal(s.attributes['gen_ai.request.model'], 'gpt-4o-mini');
    assert.ok(s.attributes['gen_ai.usage.input_tokens'] > 0);
  }
  assert.deepEqual(llm.map((s) => `${s.traceId}/${s.spanId}`).sort(), calls.map((c) => `${c.trace_id}/${c.span_id}`).sort());
  return llm;
}

describe('an app on the OpenTelemetry 3.x line', { skip }, () => {
  let server;
  let apps;
  before(async () => {
    apps = installApps(['otel3-nodesdk-app.cjs', 'otel3-setup.mjs', 'otel3-app.mjs']);
    server = await startOpenAIServer();
  });
  after(async () => {
    await server?.close();
  });

  /** Runs an app with a fresh DB and OTLP receiver; resolves to { r, dbPath, spans }. */
  async function run(app, { nodeArgs = [], preload = null } = {}) {
    const s = scratch('otel-3x');
    const dbPath = join(s.dir, 'calls.db');
    const rx = await startOtlpReceiver();
    try {
      const r = await runApp(app, {
        nodeArgs,
        preload,
        env: {
          TEST_OPENAI_URL: server.url,
          TEST_DB: dbPath,
          LLM_OTEL_DB: dbPath,
          OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        },
      });
      await rx.settle();
      return { r, dbPath, spans: [...rx.spans], cleanup: s.cleanup };
    } finally {
      await rx.close();
    }
  }

  test('the installed app folder is the 3.x line, and llm-otel brings its own 2.x line', () => {
    const own = join(APP_DIR, 'node_modules', '@opentelemetry');
    const ours = join(REPO_ROOT, 'node_modules', '@opentelemetry');
    assert.match(versionOf(join(own, 'sdk-node')), /^0\.3\d\d\./);
    assert.match(versionOf(join(own, 'sdk-trace')), /^3\./);
    assert.match(versionOf(join(own, 'api')), /^1\.10\./);
    assert.match(versionOf(join(ours, 'sdk-trace-base')), /^2\./);
    assert.match(versionOf(join(ours, 'api')), /^1\.9\./);
  });

  test("NodeSDK with OpenAIInstrumentation and SqliteCallLogExporter: every call is a row and an OTLP span, the app's own span is not a row", async () => {
    const { r, dbPath, spans, cleanup } = await run(apps['otel3-nodesdk-app.cjs']);
    try {
      assertThreeCalls(r, dbPath, spans);
      assert.match(r.stdout, /^api registered by: 1\.10\./m);
      assert.deepEqual(
        spans.filter((s) => s.name === 'not an llm call').map((s) => s.resource['service.name']),
        ['otel-3x-app'],
      );
      for (const s of llmSpans(spans)) assert.equal(s.resource['service.name'], 'otel-3x-app');
    } finally {
      cleanup();
    }
  });

  test("NodeSDK started before llm-otel/register: LLM spans are children of the app's span, both reach OTLP", async () => {
    const { r, dbPath, spans, cleanup } = await run(apps['otel3-app.mjs'], {
      nodeArgs: ['--import', apps['otel3-setup.mjs']],
      preload: 'import',
    });
    try {
      const llm = assertThreeCalls(r, dbPath, spans);
      assert.match(r.stdout, /^api registered by: 1\.10\./m);
      const handler = spans.filter((s) => s.name === 'handle request');
      assert.equal(handler.length, 1, "the app's own span reaches its exporter");
      for (const s of llm) {
        assert.equal(s.traceId, handler[0].traceId);
        assert.equal(s.parentSpanId, handler[0].spanId);
      }
    } finally {
      cleanup();
    }
  });

  describe('llm-otel/register first, then the app starts its NodeSDK', () => {
    let result;
    before(async () => {
      result = await run(apps['otel3-app.mjs'], { preload: 'import' });
    });
    after(() => result?.cleanup());

    test("llm-otel's rows and spans are whole", () => {
      assertThreeCalls(result.r, result.dbPath, result.spans);
    });

    // Were the global OTel registry created by llm-otel's api 1.9, the app's api 1.10 would refuse
    // every registration (provider, context, diag) and its tracing would be silently off; llm-otel
    // registers its defaults through the app's newer API copy instead (src/start/app-api.ts).
    test("the app's own NodeSDK still registers: its span reaches OTLP and is the LLM spans' parent", () => {
      assert.match(result.r.stdout, /^api registered by: 1\.10\./m);
      const handler = result.spans.filter((s) => s.name === 'handle request');
      assert.equal(handler.length, 1);
      for (const s of llmSpans(result.spans)) assert.equal(s.parentSpanId, handler[0].spanId);
    });
  });
});
