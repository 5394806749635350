/**
 * The blob port (attachments): content addressed by its SHA-256, so the same file stored twice is kept once and
 * a blob can never change under its name. Embedded: files under CRM_DATA_DIR/blobs; production: GridFS.
 */
export interface Blobs {
  /** Stores the bytes; answers their SHA-256 (hex), under which they are found again. */
  put(bytes: Buffer): Promise<string>;
  /** The bytes stored under `sha256`, or undefined. */
  get(sha256: string): Promise<Buffer | undefined>;
  has(sha256: string): Promise<boolean>;
}

export const isSha256 = (value: string): boolean => /^[0-9a-f]{64}$/.test(value);
