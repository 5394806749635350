import { readFileSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Doc } from './port.ts';

export interface IndexSpec {
  name: string;
  keys: Record<string, 1 | -1>;
  unique: boolean;
}

export interface SavedCollection {
  name: string;
  docs: Doc[];
  indexes: IndexSpec[];
}

/**
 * The embedded read store's snapshot file. Version 2: a magic line, then frames (a 4-byte big-endian length and a
 * V8-serialised value): `{collection, indexes}` opens a collection, `{docs}` carries up to DOCS_PER_FRAME of its
 * documents, `{end}` closes the file (a file without it was cut short). Writing frame by frame lets the event
 * loop serve requests between frames: a snapshot of 100k customers is written in the background, not in one
 * blocking call. Version 1 (one V8-serialised object) is still read.
 */
const MAGIC = Buffer.from('crm read-model snapshot v2\n');
const DOCS_PER_FRAME = 1_000;

type Frame = { collection: string; indexes: IndexSpec[] } | { docs: Doc[] } | { end: true; collections: number };

export async function writeSnapshotFile(path: string, collections: SavedCollection[], pause: () => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  // Written, synced and renamed through libuv's threads: only the serialising is this thread's work, so a slow or
  // busy disk (a sync behind gigabytes another program wrote) delays the snapshot, never the requests served here.
  // A frame is serialised while the one before it is written: one write in flight, one frame waiting at most.
  const file = await open(temporary, 'w');
  let writing: Promise<void> = Promise.resolve();
  try {
    const write = async (...parts: Uint8Array[]) => {
      await writing;
      writing = writeAll(file, parts);
      writing.catch(() => undefined); // its failure is answered where the next frame, or the end, waits for it
    };
    await write(MAGIC);
    const frame = async (value: Frame) => {
      const bytes = serialize(value);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      await write(length, bytes);
    };
    for (const collection of collections) {
      await frame({ collection: collection.name, indexes: collection.indexes });
      for (let start = 0; start < collection.docs.length; start += DOCS_PER_FRAME) {
        await frame({ docs: collection.docs.slice(start, start + DOCS_PER_FRAME) });
        await pause();
      }
    }
    await frame({ end: true, collections: collections.length });
    await writing;
    await file.sync();
  } finally {
    await writing.catch(() => undefined);
    await file.close();
  }
  await rename(temporary, path);
}

/** Writes all of `parts`, in order, at the file's position (a write may take fewer bytes than it was given). */
async function writeAll(file: FileHandle, parts: Uint8Array[]): Promise<void> {
  const rest = parts.filter((part) => part.length > 0);
  while (rest.length > 0) {
    let written = (await file.writev(rest)).bytesWritten;
    while (rest.length > 0 && written >= rest[0]!.length) written -= rest.shift()!.length;
    if (written > 0) rest[0] = rest[0]!.subarray(written);
  }
}

/** The collections a snapshot file holds; throws when the file is not a whole snapshot. */
export function readSnapshotFile(path: string): SavedCollection[] {
  const bytes = readFileSync(path);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    const snapshot = deserialize(bytes) as { version?: number; collections?: SavedCollection[] };
    if (snapshot?.version !== 1 || !Array.isArray(snapshot.collections)) throw new Error('not a read-model snapshot');
    return snapshot.collections;
  }
  const collections: SavedCollection[] = [];
  let offset = MAGIC.length;
  while (offset + 4 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    if (offset + 4 + length > bytes.length) break;
    const frame = deserialize(bytes.subarray(offset + 4, offset + 4 + length)) as Frame;
    offset += 4 + length;
    if ('end' in frame) {
      if (frame.collections !== collections.length) throw new Error('the read-model snapshot is inconsistent');
      return collections;
    }
    if ('collection' in frame) collections.push({ name: frame.collection, indexes: frame.indexes, docs: [] });
    else {
      const current = collections[collections.length - 1];
      if (!current) throw new Error('the read-model snapshot has documents outside a collection');
      for (const doc of frame.docs) current.docs.push(doc);
    }
  }
  throw new Error('the read-model snapshot was cut short');
}
