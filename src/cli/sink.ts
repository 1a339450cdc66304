// Where `export` writes: stdout, or `--out <file>`. Every chunk is awaited until the OS has it, so a
// failed write (a full disk) stops the export with an error instead of being lost in an event, and
// at most one chunk is in memory at a time.
//
// A regular `--out` file is written as a temporary file in the same folder and renamed over the
// target only once complete and synced: a failed or interrupted export leaves no partial file, and a
// file replaced with --force stays intact until the new one is whole.

import { randomBytes } from 'node:crypto';
import { lstatSync, realpathSync, type Stats, statSync, unlinkSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isatty } from 'node:tty';
import { errnoText, ioError, usage } from './errors.js';

export interface Sink {
  /** For messages: the file name, or "standard output". */
  readonly label: string;
  /** Human eyes on the other end: stored text is shown with visible escapes (CSV cannot escape). */
  readonly tty: boolean;
  /** Writes one chunk; throws an exit-3 CliError when it cannot. */
  put(chunk: string): Promise<void>;
  /** Makes the output final (sync, close, rename into place). */
  commit(): Promise<void>;
  /** Removes whatever a failed export left behind; never throws. */
  abort(): Promise<void>;
}

function writeFailed(label: string, e: unknown): Error {
  return ioError(`cannot write to ${label}: ${errnoText(e)}`);
}

/** Opening --out failed: a wrong path or permission is bad input (2); a full or failing disk is 3. */
function openFailed(out: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return ['ENOSPC', 'EDQUOT', 'EIO'].includes(code) ? writeFailed(out, e) : usage(`cannot write to ${out}: ${errnoText(e)}`);
}

export function stdoutSink(): Sink {
  const label = 'standard output';
  return {
    label,
    tty: !!process.stdout.isTTY,
    put: (chunk) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(chunk, (err) => {
          if (!err) return resolve();
          // `llm-otel export … | head`: the reader left; stop quietly, like main() does.
          if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
          reject(writeFailed(label, err));
        });
      }),
    commit: async () => {},
    abort: async () => {},
  };
}

async function putAll(fh: FileHandle, chunk: string, label: string): Promise<void> {
  let buf = Buffer.from(chunk);
  try {
    while (buf.length > 0) {
      const { bytesWritten } = await fh.write(buf);
      if (bytesWritten === 0) throw Object.assign(new Error('EIO: nothing was written'), { code: 'EIO' });
      buf = buf.subarray(bytesWritten);
    }
  } catch (e) {
    throw writeFailed(label, e);
  }
}

function statOrNull(path: string, how: (p: string) => Stats): Stats | null {
  try {
    return how(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw usage(`--out ${path}: ${errnoText(e)}`);
  }
}

/** True when `a` and `b` are the same file (or `b` is the call log's WAL / journal beside it). */
function sameFile(out: Stats, dbPath: string): boolean {
  for (const p of [dbPath, dbPath + '-wal', dbPath + '-shm', dbPath + '-journal']) {
    const st = statOrNull(p, statSync);
    if (st && st.dev === out.dev && st.ino === out.ino) return true;
  }
  return false;
}

/**
 * A sink for `--out`. Refuses (exit 2) a directory, the call log itself, and an existing file
 * unless `force`. A device or FIFO (/dev/null, a named pipe) is written directly: there is nothing
 * there to replace.
 */
export async function fileSink(out: string, { force, dbPath }: { force: boolean; dbPath: string }): Promise<Sink> {
  const target = statOrNull(out, statSync);
  const link = target ?? statOrNull(out, lstatSync);
  if (target?.isDirectory()) throw usage(`--out ${out} is a directory`);
  if (target && sameFile(target, dbPath)) throw usage(`--out ${out} is the call log itself`);
  if (target && !target.isFile()) {
    let fh: FileHandle;
    try {
      fh = await open(out, 'w');
    } catch (e) {
      throw openFailed(out, e);
    }
    return {
      label: out,
      tty: isatty(fh.fd),
      put: (chunk) => putAll(fh, chunk, out),
      commit: async () => {
        try {
          await fh.close();
        } catch (e) {
          throw writeFailed(out, e);
        }
      },
      abort: async () => {
        await fh.close().catch(() => {});
      },
    };
  }
  if (link && !force) throw usage(`--out ${out} already exists; pass --force to replace it`);
  // Through a symbolic link, replace the file it points to and keep the link.
  const final = target ? realpathSync(out) : out;
  const tmp = join(dirname(final), `.${basename(final)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle;
  // Exports hold prompts and responses: private like the call log itself.
  try {
    fh = await open(tmp, 'wx', 0o600);
  } catch (e) {
    throw openFailed(out, e);
  }
  // Ctrl-C mid-export: take the temporary file away too.
  const onSignal = (signal: NodeJS.Signals): void => {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const done = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return {
    label: out,
    tty: false,
    put: (chunk) => putAll(fh, chunk, out),
    commit: async () => {
      try {
        await fh.sync();
        await fh.close();
        await rename(tmp, final);
      } catch (e) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw writeFailed(out, e);
      } finally {
        done();
      }
    },
    abort: async () => {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      done();
    },
  };
}
