import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Blobs, isSha256 } from './port.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Blobs as files (`<dir>/<first two hex digits>/<sha256>`), written atomically. */
export class FileBlobs implements Blobs {
  constructor(private readonly dir: string) {}

  private path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash);
  }

  async put(bytes: Buffer): Promise<string> {
    const hash = sha256(bytes);
    const path = this.path(hash);
    if (existsSync(path)) return hash;
    mkdirSync(join(this.dir, hash.slice(0, 2)), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
    return hash;
  }

  async get(hash: string): Promise<Buffer | undefined> {
    if (!isSha256(hash) || !existsSync(this.path(hash))) return undefined;
    return readFileSync(this.path(hash));
  }

  async has(hash: string): Promise<boolean> {
    return isSha256(hash) && existsSync(this.path(hash));
  }
}

/** Blobs in memory (a service started in memory: tests). */
export class MemoryBlobs implements Blobs {
  private readonly blobs = new Map<string, Buffer>();

  async put(bytes: Buffer): Promise<string> {
    const hash = sha256(bytes);
    this.blobs.set(hash, Buffer.from(bytes));
    return hash;
  }

  async get(hash: string): Promise<Buffer | undefined> {
    const bytes = this.blobs.get(hash);
    return bytes && Buffer.from(bytes);
  }

  async has(hash: string): Promise<boolean> {
    return this.blobs.has(hash);
  }
}
