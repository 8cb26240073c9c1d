/**
 * The media helper process (helper-client.ts): what it derives is what deriveMedia derives in
 * this process, the file's faults still arrive as MediaContentError (the asset fails, no retry),
 * and it runs at the lower priority it was started with.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as make from '../../../../tests/support/media';
import { deriveMedia, MediaContentError, resolveFfmpegPath } from '.';
import { startMediaHelper, type MediaHelper } from './helper-client';

let dir: string;
let helper: MediaHelper;
const options = () => ({ sizes: [64, 256], ffmpegPath: resolveFfmpegPath() });

beforeAll(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-helper-'));
	helper = startMediaHelper();
});
afterAll(() => {
	helper.stop();
	fs.rmSync(dir, { recursive: true, force: true });
});

describe('media helper process', () => {
	it('derives a video exactly as this process does: size, duration, poster, thumbnails as bytes', async () => {
		const file = await make.mp4(dir, { seconds: 2 });
		const [there, here] = await Promise.all([helper.derive(file, options()), deriveMedia(file, options())]);
		expect(there).toMatchObject({ width: 320, height: 240, durationSec: here.durationSec, placeholderHash: here.placeholderHash });
		expect(there.thumbs.map((t) => [t.size, t.width, t.height, t.format])).toEqual(here.thumbs.map((t) => [t.size, t.width, t.height, t.format]));
		expect(Buffer.isBuffer(there.poster?.bytes)).toBe(true);
		expect(there.poster?.bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
		expect(there.thumbs[0].bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
	});

	it('answers a file that is not media with a MediaContentError, and keeps serving after it', async () => {
		const junk = path.join(dir, 'junk.mp4');
		fs.writeFileSync(junk, 'not a video at all');
		await expect(helper.derive(junk, options())).rejects.toBeInstanceOf(MediaContentError);
		const image = path.join(dir, 'ok.jpg');
		fs.writeFileSync(image, await make.jpeg(400, 300));
		await expect(helper.derive(image, options())).resolves.toMatchObject({ width: 400, height: 300 });
	});

	it('runs below normal CPU priority', async () => {
		const image = path.join(dir, 'small.jpg');
		fs.writeFileSync(image, await make.jpeg(100, 100));
		await helper.derive(image, options());
		const children = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(process.pid));
		const nice = children.map((p) => Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[16]));
		expect(nice).toContain(10);
	});
});
