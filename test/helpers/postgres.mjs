// A real PostgreSQL server for tests. `LLM_OTEL_TEST_PG` (a postgres:// URL of a server the tests
// may create databases on) is used when set; otherwise a throwaway cluster is made with the
// machine's PostgreSQL binaries (Debian's postgresql-15: /usr/lib/postgresql/<v>/bin; `.ci/run`
// installs it) in a temporary folder, on a free loopback port, and removed by stop().
// PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
//
//   const pg = await startPostgres();         // { url, adminUrl, createDatabase(name), stop(), ... }
//   const url = await pg.createDatabase('t1'); // postgres://…/t1, empty
//   await pg.stop();

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bin folder of the newest PostgreSQL installed, or null. */
export function postgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailable() {
  if (process.env.LLM_OTEL_TEST_PG) return null;
  if (!postgresBin()) return 'no PostgreSQL server binaries (apt-get install postgresql-15, or set LLM_OTEL_TEST_PG)';
  if (process.getuid?.() === 0 && spawnSync('id', ['postgres']).status !== 0) return 'running as root and there is no postgres user';
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function asOwner(cmd, args, opts = {}) {
  const root = process.getuid?.() === 0;
  const file = root ? 'runuser' : cmd;
  const argv = root ? ['-u', 'postgres', '--', cmd, ...args] : args;
  return execFileSync(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
    ...opts,
  });
}

/** psql against `url`, returning its stdout (tuples only, unaligned). */
export function psql(url, sql) {
  const bin = postgresBin();
  const exe = bin ? join(bin, 'psql') : 'psql';
  return execFileSync(exe, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
}

export async function startPostgres() {
  const external = process.env.LLM_OTEL_TEST_PG;
  if (external) {
    const created = [];
    return {
      url: external,
      adminUrl: external,
      external: true,
      async createDatabase(name) {
        const db = `${name}_${process.pid}_${Date.now().toString(36)}`;
        psql(external, `CREATE DATABASE "${db}"`);
        created.push(db);
        const u = new URL(external);
        u.pathname = `/${db}`;
        return u.toString();
      },
      async stop() {
        for (const db of created) {
          try {
            psql(external, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
          } catch {
            /* best effort */
          }
        }
      },
    };
  }
  const bin = postgresBin();
  if (!bin) throw new Error(postgresUnavailable());
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'llm-otel-pg-'));
  chmodSync(dir, 0o700);
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, 'test\n');
  if (root) chownSync(pwfile, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
  asOwner(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
    '-c shared_buffers=64MB',
  ].join(' ');
  asOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const url = `postgres://postgres:test@127.0.0.1:${port}/postgres`;
  let n = 0;
  const server = {
    url,
    adminUrl: url,
    port,
    dir,
    external: false,
    async createDatabase(name) {
      const db = `${name}_${++n}`;
      psql(url, `CREATE DATABASE "${db}"`);
      return `postgres://postgres:test@127.0.0.1:${port}/${db}`;
    },
    /** pg_ctl stop (fast); the data stays, start() brings the same server back on the same port. */
    async pause() {
      asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    },
    async start() {
      asOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    },
    async stop() {
      try {
        asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
