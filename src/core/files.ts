// Files named by the environment are read or opened while the app starts, so they must not be able
// to hold it: a FIFO with no writer blocks open() for read (and one with no reader, for write), and a
// device such as /dev/zero never ends. Open without blocking, then accept only regular files, and
// read at most a size cap.

import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { errorMessage } from './warn.js';

// Not defined on Windows, where opening a named pipe does not wait for the other end anyway.
const NONBLOCK = constants.O_NONBLOCK ?? 0;

/** What a non-regular file is, for a warning ("a FIFO", "a character device"…). */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why `fd` must not be used as a regular file, or null when it is one. */
function notRegular(fd: number): string | null {
  const st = fstatSync(fd);
  return st.isFile() ? null : `${fileKind(st)}, not a regular file`;
}

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them; throws an Error whose message
 * says why not ("ENOENT", "a FIFO, not a regular file", the size) — never blocks on a FIFO or an
 * endless device.
 */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | NONBLOCK);
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code ?? errorMessage(e));
  }
  try {
    const why = notRegular(fd);
    if (why) throw new Error(why);
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new Error(`${size} bytes, more than the ${maxBytes} llm-otel reads`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break; // truncated while we read: take what is there
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    try {
      closeSync(fd);
    } catch {
      /* nothing to do */
    }
  }
}

/**
 * Opens `path` for appending (created with `mode` when missing) and returns the fd, or throws when
 * it is not a regular file. O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of waiting.
 */
export function openAppendRegular(path: string, mode: number): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NONBLOCK, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') throw new Error('a FIFO with no reader, not a regular file');
    throw e;
  }
  let why: string | null;
  try {
    why = notRegular(fd);
  } catch (e) {
    why = errorMessage(e);
  }
  if (why) {
    try {
      closeSync(fd);
    } catch {
      /* nothing to do */
    }
    throw new Error(why);
  }
  return fd;
}
