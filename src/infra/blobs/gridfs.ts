import { createHash } from 'node:crypto';
import { GridFSBucket, type Db } from 'mongodb';
import { type Blobs, isSha256 } from './port.ts';

/** Blobs in GridFS (bucket `blobs`), each file named by its SHA-256. */
export class GridFsBlobs implements Blobs {
  private readonly bucket: GridFSBucket;

  constructor(private readonly db: Db) {
    this.bucket = new GridFSBucket(db, { bucketName: 'blobs' });
  }

  async put(bytes: Buffer): Promise<string> {
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (await this.has(hash)) return hash;
    await new Promise<void>((resolve, reject) => {
      const upload = this.bucket.openUploadStream(hash, { metadata: { sha256: hash } });
      upload.once('finish', () => resolve());
      upload.once('error', reject);
      upload.end(bytes);
    });
    return hash;
  }

  async get(hash: string): Promise<Buffer | undefined> {
    if (!(await this.has(hash))) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of this.bucket.openDownloadStreamByName(hash)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async has(hash: string): Promise<boolean> {
    return isSha256(hash) && (await this.db.collection('blobs.files').countDocuments({ filename: hash }, { limit: 1 })) > 0;
  }
}
