/**
 * Real media files for tests, made on the spot with sharp and ffmpeg: no binary fixtures in the
 * repository, and each one is exactly the case it is named for.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { resolveFfmpegPath } from '../../src/lib/server/media';

const run = promisify(execFile);

const solid = (width: number, height: number, background = '#3a7bd5') =>
	sharp({ create: { width, height, channels: 3, background } });

/** 400×200 as stored, EXIF orientation 6 (rotate 90° clockwise): shown as 200×400. */
export const jpegRotated = () => solid(400, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
export const jpeg = (width = 640, height = 480) => solid(width, height).jpeg().toBuffer();
export const png = (width = 300, height = 500) =>
	sharp({ create: { width, height, channels: 4, background: { r: 200, g: 40, b: 40, alpha: 0.5 } } }).png().toBuffer();
export const webp = (width = 1600, height = 900) => solid(width, height).webp().toBuffer();
export const gif = (width = 120, height = 80) => solid(width, height, '#22aa44').gif().toBuffer();
export const avif = (width = 64, height = 48) => solid(width, height).avif().toBuffer();

/** The first half of a real JPEG: the header is fine, the scan data stops. */
export async function truncatedJpeg(): Promise<Buffer> {
	const whole = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
		.jpeg()
		.toBuffer();
	return whole.subarray(0, Math.floor(whole.length / 2));
}

export const textFile = () => Buffer.from('This is not a picture, whatever its name says.\n');

function pngChunk(type: string, data: Buffer): Buffer {
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(zlib.crc32(body));
	return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring 100000×100000 RGB pixels (30 GB decoded) over a few bytes of data. */
export function pngBomb(): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(100_000, 0);
	ihdr.writeUInt32BE(100_000, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // truecolour
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk('IHDR', ihdr),
		pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(1024))),
		pngChunk('IEND', Buffer.alloc(0))
	]);
}

async function ffmpeg(args: string[]): Promise<void> {
	await run(resolveFfmpegPath(process.env.FFMPEG_PATH), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
}

/** 2 s of ffmpeg's test pattern, 320×240, H.264 in MP4. */
export async function mp4(dir: string, options: { seconds?: number; rotate?: number } = {}): Promise<string> {
	const file = path.join(dir, `testsrc-${options.seconds ?? 2}s${options.rotate ? `-r${options.rotate}` : ''}.mp4`);
	const source = ['-f', 'lavfi', '-i', `testsrc=duration=${options.seconds ?? 2}:size=320x240:rate=25`];
	const encoded = options.rotate ? `${file}.plain.mp4` : file;
	await ffmpeg([...source, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', encoded]);
	// The rotation flag is container metadata, as phones write it: set on a stream copy.
	if (options.rotate) await ffmpeg(['-i', encoded, '-c', 'copy', '-metadata:s:v', `rotate=${options.rotate}`, file]);
	return file;
}

/** 1 s of the test pattern in WebM (VP8). */
export async function webm(dir: string): Promise<string> {
	const file = path.join(dir, 'testsrc.webm');
	await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=duration=1:size=320x240:rate=25', '-c:v', 'libvpx', '-b:v', '200k', file]);
	return file;
}
