import * as zlib from 'node:zlib';

/**
 * A minimal reader for the zip archives of binary actions (`wsk action create x app.zip`):
 * stored and deflated entries, found through the central directory. No ZIP64, no encryption,
 * no multi-disk archives; those fail with a message that says so.
 */
export interface ZipEntry {
  /** The path inside the archive, with `/` separators; directories end with `/`. */
  name: string;
  data: Buffer;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

export function readZip(zip: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(zip);
  const disk = zip.readUInt16LE(eocd + 4);
  const cdDisk = zip.readUInt16LE(eocd + 6);
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (disk !== 0 || cdDisk !== 0) throw new ZipFormatError('multi-disk zip archives are not supported');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new ZipFormatError('ZIP64 archives are not supported');
  }
  if (cdOffset + cdSize > eocd) throw new ZipFormatError('the central directory lies outside the archive');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== CENTRAL_SIG) throw new ZipFormatError(`bad central directory entry ${i}`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLength).replace(/\\/g, '/');
    p += 46 + nameLength + extraLength + commentLength;

    if ((flags & 0x1) !== 0) throw new ZipFormatError(`${name}: encrypted entries are not supported`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) {
      throw new ZipFormatError('ZIP64 archives are not supported');
    }
    const data = name.endsWith('/') ? Buffer.alloc(0) : entryData(zip, name, localOffset, method, compressedSize, size);
    const sum = name.endsWith('/') ? undefined : crc32(data);
    if (sum !== undefined && sum !== crc) throw new ZipFormatError(`${name}: CRC mismatch`);
    entries.push({ name, data });
  }
  return entries;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  const stop = Math.max(0, zip.length - EOCD_MIN - MAX_COMMENT);
  for (let p = zip.length - EOCD_MIN; p >= stop; p--) {
    if (zip.readUInt32LE(p) === EOCD_SIG) return p;
  }
  throw new ZipFormatError('not a zip archive (no end of central directory record)');
}

function entryData(zip: Buffer, name: string, offset: number, method: number, compressedSize: number, size: number): Buffer {
  if (offset + 30 > zip.length || zip.readUInt32LE(offset) !== LOCAL_SIG) throw new ZipFormatError(`${name}: bad local header`);
  const start = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
  const end = start + compressedSize;
  if (end > zip.length) throw new ZipFormatError(`${name}: data runs past the end of the archive`);
  const raw = zip.subarray(start, end);
  let data: Buffer;
  if (method === 0) data = Buffer.from(raw);
  else if (method === 8) data = zlib.inflateRawSync(raw);
  else throw new ZipFormatError(`${name}: compression method ${method} is not supported (only stored and deflate)`);
  if (data.length !== size) throw new ZipFormatError(`${name}: size mismatch`);
  return data;
}

/** zlib.crc32 exists from Node 20.15; without it the check is skipped. */
function crc32(data: Buffer): number | undefined {
  const fn = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  return fn ? fn(data) >>> 0 : undefined;
}
