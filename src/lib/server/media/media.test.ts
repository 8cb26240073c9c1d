import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as make from '../../../../tests/support/media';
import { deriveMedia, MediaContentError, resolveFfmpegPath } from '.';
import { runFfmpeg } from './ffmpeg';
import { parseInputReport, splitPngs } from './video';

let dir: string;
const ffmpegPath = resolveFfmpegPath(process.env.FFMPEG_PATH);
const sizes = [256, 1024];

beforeAll(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-media-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function file(name: string, bytes: Buffer | Promise<Buffer>): Promise<string> {
	const p = path.join(dir, name);
	fs.writeFileSync(p, await bytes);
	return p;
}

const dims = (thumbs: Array<{ size: number; width: number; height: number }>) => thumbs.map((t) => [t.size, t.width, t.height]);

describe('deriveMedia: images', () => {
	it('applies EXIF orientation 6: a 400×200 JPEG is shown, and thumbnailed, as 200×400', async () => {
		const out = await deriveMedia(await file('rotated.jpg', make.jpegRotated()), { sizes, ffmpegPath });
		expect(out).toMatchObject({ type: { mime: 'image/jpeg' }, width: 200, height: 400, durationSec: null, poster: null });
		// The longest edge is the size, never upscaled past the original.
		expect(dims(out.thumbs)).toEqual([
			[256, 128, 256],
			[1024, 200, 400]
		]);
		const meta = await sharp(out.thumbs[0].bytes).metadata();
		expect(meta).toMatchObject({ format: 'webp', width: 128, height: 256 });
		expect(meta.orientation ?? 1).toBe(1);
		// The placeholder keeps the portrait shape too.
		expect(thumbHashToApproximateAspectRatio(Buffer.from(out.placeholderHash, 'base64'))).toBeLessThan(1);
	});

	it.each([
		['PNG (with alpha)', 'a.png', make.png(300, 500), 'image/png', [[256, 154, 256], [1024, 300, 500]]],
		['WebP', 'b.webp', make.webp(1600, 900), 'image/webp', [[256, 256, 144], [1024, 1024, 576]]],
		['GIF', 'c.gif', make.gif(120, 80), 'image/gif', [[256, 120, 80], [1024, 120, 80]]]
	])('renders WebP thumbnails of a %s', async (_name, name, bytes, mime, expected) => {
		const out = await deriveMedia(await file(name, bytes), { sizes, ffmpegPath });
		expect(out.type.mime).toBe(mime);
		expect(dims(out.thumbs)).toEqual(expected);
		for (const t of out.thumbs) expect(t.format).toBe('webp');
		expect(out.placeholderHash).toMatch(/^[A-Za-z0-9+/]+=*$/);
	});

	it('refuses a truncated JPEG as a content error', async () => {
		const err = await deriveMedia(await file('cut.jpg', make.truncatedJpeg()), { sizes, ffmpegPath }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(MediaContentError);
		expect((err as Error).message).toMatch(/could not be decoded/);
	});

	it('refuses a text file named .jpg by its bytes', async () => {
		const err = await deriveMedia(await file('notes.jpg', make.textFile()), { sizes, ffmpegPath }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(MediaContentError);
		expect((err as Error).message).toMatch(/not a supported image or video/);
	});

	it('refuses a PNG declaring 100000×100000 pixels before decoding it', async () => {
		const started = Date.now();
		const err = await deriveMedia(await file('bomb.png', make.pngBomb()), { sizes, ffmpegPath }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(MediaContentError);
		expect((err as Error).message).toMatch(/megapixels allowed/);
		expect(Date.now() - started).toBeLessThan(2000);
	});
});

describe('deriveMedia: videos', () => {
	it('reads an MP4 (2 s, 320×240) and makes a JPEG poster and WebP thumbnails from one frame', async () => {
		const out = await deriveMedia(await make.mp4(dir), { sizes, ffmpegPath });
		expect(out).toMatchObject({ type: { mediaType: 'video', mime: 'video/mp4' }, width: 320, height: 240 });
		expect(out.durationSec).toBeCloseTo(2, 1);
		expect(out.poster).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
		expect((await sharp(out.poster!.bytes).metadata()).format).toBe('jpeg');
		expect(dims(out.thumbs)).toEqual([
			[256, 256, 192],
			[1024, 320, 240]
		]);
	});

	it('takes the poster one second in, past a black first second', async () => {
		const clip = path.join(dir, 'fade-in.mp4');
		const white = "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='gte(t,1)'";
		const made = await runFfmpeg(ffmpegPath, ['-f', 'lavfi', '-i', 'color=c=black:s=320x240:r=24:d=3', '-vf', white, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', clip], { timeoutMs: 30_000 });
		expect(made.code).toBe(0);
		const out = await deriveMedia(clip, { sizes: [256], ffmpegPath });
		expect(out.durationSec).toBeCloseTo(3, 1);
		const { channels } = await sharp(out.poster!.bytes).stats();
		expect(channels[0].mean).toBeGreaterThan(200);
	});

	it('takes the first frame of a clip shorter than the poster time, and reads WebM', async () => {
		const out = await deriveMedia(await make.webm(dir), { sizes: [256], ffmpegPath });
		expect(out).toMatchObject({ type: { mime: 'video/webm' }, width: 320, height: 240, poster: { width: 320 } });
		expect(out.durationSec).toBeCloseTo(1, 1);
	});

	it('swaps width and height for a video flagged as rotated 90°', async () => {
		const out = await deriveMedia(await make.mp4(dir, { rotate: 90 }), { sizes: [256], ffmpegPath });
		expect(out).toMatchObject({ width: 240, height: 320, poster: { width: 240, height: 320 } });
	});

	it('refuses an MP4 header over garbage', async () => {
		const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom\0\0\x02\0isomiso2'), Buffer.alloc(4096, 7)]);
		const err = await deriveMedia(await file('broken.mp4', Promise.resolve(bytes)), { sizes, ffmpegPath }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(MediaContentError);
	});
});

describe('splitPngs', () => {
	it('splits PNGs written back to back and ignores a cut-off tail', async () => {
		const png = (v: number) => sharp({ create: { width: 4, height: 3, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();
		const [a, b] = await Promise.all([png(10), png(250)]);
		const parts = splitPngs(Buffer.concat([a, b, b.subarray(0, 20)]));
		expect(parts.map((p) => p.length)).toEqual([a.length, b.length]);
		expect((await sharp(parts[1]).stats()).channels[0].mean).toBe(250);
	});
});

describe('parseInputReport', () => {
	it('reads dimensions past codec tags, the duration, and rotation side data', () => {
		const report = [
			"Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':",
			'  Duration: 00:01:02.50, start: 0.000000, bitrate: 147 kb/s',
			'    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 1920x1080 [SAR 1:1 DAR 16:9], 25 fps (default)',
			'    Side data:',
			'      displaymatrix: rotation of -90.00 degrees'
		].join('\n');
		expect(parseInputReport(report)).toEqual({ width: 1920, height: 1080, rotation: -90, durationSec: 62.5 });
		expect(parseInputReport('  Duration: N/A\n    Stream #0:0: Video: vp8, yuv420p, 640x360, SAR 1:1 DAR 16:9')).toMatchObject({
			width: 640,
			durationSec: null
		});
		expect(parseInputReport('    Stream #0:0: Audio: aac, 44100 Hz, stereo')).toBeNull();
	});
});
