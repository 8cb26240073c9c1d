/**
 * What a file is, from its first bytes: the name and the declared MIME type are the client's
 * claims, the magic bytes are the truth. Anything not listed here is refused.
 */
import fsp from 'node:fs/promises';

export interface SniffedType {
	mediaType: 'image' | 'video';
	mime: string;
	extension: string;
}

/** Bytes `sniffContent` needs at most (an ISO-BMFF ftyp box lists its brands within these). */
export const SNIFF_BYTES = 512;

const JPEG: SniffedType = { mediaType: 'image', mime: 'image/jpeg', extension: 'jpg' };
const PNG: SniffedType = { mediaType: 'image', mime: 'image/png', extension: 'png' };
const GIF: SniffedType = { mediaType: 'image', mime: 'image/gif', extension: 'gif' };
const WEBP: SniffedType = { mediaType: 'image', mime: 'image/webp', extension: 'webp' };
const AVIF: SniffedType = { mediaType: 'image', mime: 'image/avif', extension: 'avif' };
const MP4: SniffedType = { mediaType: 'video', mime: 'video/mp4', extension: 'mp4' };
const MOV: SniffedType = { mediaType: 'video', mime: 'video/quicktime', extension: 'mov' };
const WEBM: SniffedType = { mediaType: 'video', mime: 'video/webm', extension: 'webm' };
const MKV: SniffedType = { mediaType: 'video', mime: 'video/x-matroska', extension: 'mkv' };

// ISO base media brands. HEIC is left out on purpose: sharp's prebuilt libvips cannot decode HEVC,
// so accepting it would only turn a clear 415 into a failed asset later.
const FTYP_BRANDS: Record<string, SniffedType> = {
	avif: AVIF,
	avis: AVIF,
	'qt  ': MOV,
	isom: MP4,
	iso2: MP4,
	iso4: MP4,
	iso5: MP4,
	iso6: MP4,
	mp41: MP4,
	mp42: MP4,
	avc1: MP4,
	dash: MP4,
	'M4V ': MP4,
	M4VH: MP4,
	M4VP: MP4,
	mmp4: MP4,
	'3gp4': MP4,
	'3gp5': MP4,
	'3gp6': MP4,
	'3g2a': MP4
};
// Audio-only members of the family: never media PixSim7 shows.
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ']);

function ascii(bytes: Uint8Array, start: number, length: number): string {
	return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, magic: number[], offset = 0): boolean {
	return bytes.length >= offset + magic.length && magic.every((b, i) => bytes[offset + i] === b);
}

function sniffFtyp(bytes: Uint8Array): SniffedType | null {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const boxSize = view.getUint32(0);
	if (boxSize < 16 || boxSize % 4 !== 0) return null;
	const end = Math.min(boxSize, bytes.length);
	// The major brand decides; compatible brands (from offset 16) rescue an unfamiliar major one.
	const brands = [ascii(bytes, 8, 4)];
	for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, 4));
	if (AUDIO_BRANDS.has(brands[0])) return null;
	for (const brand of brands) {
		const type = FTYP_BRANDS[brand];
		if (type) return type;
	}
	return null;
}

function sniffEbml(bytes: Uint8Array): SniffedType | null {
	// The DocType element (0x4282) sits in the EBML header, within the first few dozen bytes.
	const header = ascii(bytes, 0, Math.min(bytes.length, 64));
	if (header.includes('webm')) return WEBM;
	if (header.includes('matroska')) return MKV;
	return null;
}

/** The media type of these leading bytes, or null if PixSim7 does not accept it. */
export function sniffContent(bytes: Uint8Array): SniffedType | null {
	if (startsWith(bytes, [0xff, 0xd8, 0xff])) return JPEG;
	if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return PNG;
	if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return GIF;
	if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return WEBP;
	if (bytes.length >= 16 && ascii(bytes, 4, 4) === 'ftyp') return sniffFtyp(bytes);
	if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return sniffEbml(bytes);
	return null;
}

/** Sniffs a file on disk by reading only its first bytes. */
export async function sniffFile(filePath: string): Promise<SniffedType | null> {
	const handle = await fsp.open(filePath, 'r');
	try {
		const buffer = Buffer.alloc(SNIFF_BYTES);
		const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
		return sniffContent(buffer.subarray(0, bytesRead));
	} finally {
		await handle.close();
	}
}
