import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

/** A zip archive's parts, found through its central directory, so each is at hand by name and in any order. */
export interface ZipParts {
  /** The part's size once inflated, as the directory declares it (reading a part that inflates past it fails). */
  sizeOf(name: string): number | undefined;
  /** The part inflated as a stream of UTF-8 text: a character split between two inflated chunks arrives whole. */
  openText(name: string): Promise<Readable>;
}

/** Reads a zip archive's central directory; throws when the bytes are no zip archive. */
export async function readZipParts(bytes: Uint8Array): Promise<ZipParts> {
  const zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, validateEntrySizes: true });
  const entries = new Map<string, yauzl.Entry>();
  for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
  return {
    sizeOf: (name) => entries.get(name)?.uncompressedSize,
    async openText(name) {
      const entry = entries.get(name);
      if (!entry) throw new Error(`The archive has no part ${name}`);
      return (await zip.openReadStreamPromise(entry)).setEncoding('utf8');
    },
  };
}
