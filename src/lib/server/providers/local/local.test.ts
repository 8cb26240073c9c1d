import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as make from '../../../../../tests/support/media';
import { resolveFfmpegPath } from '../../media';
import { runFfmpeg } from '../../media/ffmpeg';
import { probeVideo } from '../../media/video';
import { ProviderError, type AccountContext, type InputFile, type OperationType, type Provider, type TaskStatus } from '../types';
import { createLocalProvider } from '.';
import { sweepStore, TaskStore } from './tasks';

const ffmpegPath = resolveFfmpegPath(process.env.FFMPEG_PATH);
const account: AccountContext = { id: randomUUID(), credentials: {} };
let root: string;
let inputs: { jpeg: string; png: string; mp4: string; rotatedMp4: string; truncated: string; text: string; textured: string };

beforeAll(async () => {
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-local-'));
	const write = async (name: string, bytes: Promise<Buffer> | Buffer) => {
		const file = path.join(root, name);
		fs.writeFileSync(file, await bytes);
		return file;
	};
	inputs = {
		jpeg: await write('rotated.jpg', make.jpegRotated()),
		png: await write('alpha.png', make.png(300, 500)),
		mp4: await make.mp4(root, { seconds: 2 }),
		rotatedMp4: await make.mp4(root, { seconds: 1, rotate: 90 }),
		truncated: await write('truncated.jpg', make.truncatedJpeg()),
		text: await write('not-a-video.mp4', make.textFile()),
		// Detail to pan across: over a solid colour every framing looks the same.
		textured: await write('textured.png', sharp({ create: { width: 480, height: 360, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer())
	};
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A provider on its own folder with a hand-moved clock. */
function provider(delayMs = 0) {
	let clock = Date.parse('2026-01-01T00:00:00Z');
	const dir = fs.mkdtempSync(path.join(root, 'provider-'));
	const local = createLocalProvider(() => ({ dir, delayMs, ffmpegPath }), () => new Date(clock));
	return { local, dir, advance: (ms: number) => (clock += ms) };
}

const file = (p: string, mediaType: 'image' | 'video'): InputFile => ({ assetId: randomUUID(), path: p, mime: mediaType === 'image' ? 'image/jpeg' : 'video/mp4', mediaType });

/** Validates params as the jobs service does, uploads the inputs, submits: the pipeline's path in small. */
async function submit(local: Provider, op: OperationType, params: Record<string, unknown>, files: InputFile[] = []): Promise<string> {
	const valid = local.operations[op]!.params.parse(params) as Record<string, unknown>;
	const uploads: Record<string, string> = {};
	for (const f of files) uploads[f.assetId] = (await local.uploadAsset(account, f)).providerUploadId;
	const { taskId } = await local.submit(account, op, local.mapParameters(op, valid, uploads));
	return taskId;
}

async function render(local: Provider, op: OperationType, params: Record<string, unknown>, files: InputFile[] = []): Promise<string> {
	const status = await local.checkStatus(account, await submit(local, op, params, files));
	expect(status.state, status.error?.message).toBe('succeeded');
	const out = path.join(root, `${randomUUID()}.mp4`);
	fs.writeFileSync(out, await buffer(await local.openResult(account, status.resultUrls![0])));
	return out;
}

/** What a player cares about, read from ffmpeg's own report of the file. */
async function describeVideo(mp4: string) {
	const { stderr } = await runFfmpeg(ffmpegPath, ['-i', mp4], { timeoutMs: 10_000 });
	const bytes = fs.readFileSync(mp4);
	const probe = await probeVideo(ffmpegPath, mp4);
	return {
		container: /Input #0, ([^,]+),/.exec(stderr)?.[1],
		codec: /Video: (\w+)/.exec(stderr)?.[1],
		pixelFormat: /Video: \w+[^,]*, (\w+)/.exec(stderr)?.[1],
		width: probe.width,
		height: probe.height,
		durationSec: probe.durationSec,
		// faststart: the index comes before the media data, so playback starts before the download ends.
		faststart: bytes.indexOf('moov') < bytes.indexOf('mdat')
	};
}

const sha256 = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

describe('local provider: the five operations render real H.264 MP4s', { timeout: 30_000 }, () => {
	const h264 = { container: 'mov', codec: 'h264', pixelFormat: 'yuv420p', faststart: true };

	it('text_to_video: the requested seconds at the aspect ratio asked for', async () => {
		const { local } = provider();
		const video = await describeVideo(await render(local, 'text_to_video', { prompt: 'A lighthouse at dusk, waves <crashing> & gulls', duration: 2 }));
		expect(video).toMatchObject({ ...h264, width: 320, height: 180 });
		expect(Math.abs(video.durationSec - 2)).toBeLessThanOrEqual(0.2);
	});

	it('image_to_video: a 9:16 Ken Burns over a JPEG (stored with an EXIF orientation)', async () => {
		const { local } = provider();
		const f = file(inputs.jpeg, 'image');
		const video = await describeVideo(await render(local, 'image_to_video', { image_asset_id: f.assetId, duration: 3, aspect_ratio: '9:16' }, [f]));
		expect(video).toMatchObject({ ...h264, width: 180, height: 320 });
		expect(Math.abs(video.durationSec - 3)).toBeLessThanOrEqual(0.2);
	});

	it('video_extend: the source plus the requested seconds, in the source\'s shape', async () => {
		const { local } = provider();
		const f = file(inputs.mp4, 'video');
		const video = await describeVideo(await render(local, 'video_extend', { video_asset_id: f.assetId, duration: 2 }, [f]));
		expect(video).toMatchObject({ ...h264, width: 320, height: 240 });
		expect(Math.abs(video.durationSec - 4)).toBeLessThanOrEqual(0.2);
	});

	it('video_extend: a phone video flagged as rotated stays upright (240×320)', async () => {
		const { local } = provider();
		const f = file(inputs.rotatedMp4, 'video');
		const video = await describeVideo(await render(local, 'video_extend', { video_asset_id: f.assetId, duration: 1 }, [f]));
		expect(video).toMatchObject({ ...h264, width: 240, height: 320 });
		expect(Math.abs(video.durationSec - 2)).toBeLessThanOrEqual(0.2);
	});

	it('video_transition: between two videos, portrait', async () => {
		const { local } = provider();
		const [first, last] = [file(inputs.mp4, 'video'), file(inputs.rotatedMp4, 'video')];
		const params = { first_asset_id: first.assetId, last_asset_id: last.assetId, duration: 3, aspect_ratio: '9:16' };
		const video = await describeVideo(await render(local, 'video_transition', params, [first, last]));
		expect(video).toMatchObject({ ...h264, width: 180, height: 320 });
		expect(Math.abs(video.durationSec - 3)).toBeLessThanOrEqual(0.2);
	});

	it('video_transition: from a video into an image, square', async () => {
		const { local } = provider();
		const [first, last] = [file(inputs.mp4, 'video'), file(inputs.png, 'image')];
		const params = { first_asset_id: first.assetId, last_asset_id: last.assetId, duration: 2, aspect_ratio: '1:1' };
		const video = await describeVideo(await render(local, 'video_transition', params, [first, last]));
		expect(video).toMatchObject({ ...h264, width: 240, height: 240 });
		expect(Math.abs(video.durationSec - 2)).toBeLessThanOrEqual(0.2);
	});

	it('fusion: three images into one clip', async () => {
		const { local } = provider();
		const files = [file(inputs.jpeg, 'image'), file(inputs.png, 'image'), file(inputs.jpeg, 'image')];
		const video = await describeVideo(await render(local, 'fusion', { image_asset_ids: files.map((f) => f.assetId), duration: 1 }, files));
		expect(video).toMatchObject({ ...h264, width: 320, height: 180 });
		expect(Math.abs(video.durationSec - 1)).toBeLessThanOrEqual(0.2);
	});

	it('is deterministic: the same seed and params give the same bytes, another seed does not', async () => {
		const { local } = provider();
		const f = file(inputs.textured, 'image');
		const params = (seed: number) => ({ image_asset_id: f.assetId, duration: 1, seed });
		const [a, b, c] = [
			await render(local, 'image_to_video', params(42), [f]),
			await render(local, 'image_to_video', params(42), [f]),
			await render(local, 'image_to_video', params(43), [f])
		];
		expect(sha256(a)).toBe(sha256(b));
		expect(sha256(c)).not.toBe(sha256(a));
		const t = (seed: number) => render(local, 'text_to_video', { prompt: 'same', duration: 1, seed });
		const [x, y, z] = [await t(7), await t(7), await t(8)];
		expect(sha256(x)).toBe(sha256(y));
		expect(sha256(z)).not.toBe(sha256(x));
	});

	it('text_to_video: a 2048-character prompt and mixed scripts fit the card without failing', async () => {
		const { local } = provider();
		for (const prompt of ['x'.repeat(2048), `نص عربي, 日本語, emoji 🚀 & <tags> "quotes" ${'word '.repeat(400)}`]) {
			const video = await describeVideo(await render(local, 'text_to_video', { prompt, duration: 1, aspect_ratio: '9:16' }));
			expect(video).toMatchObject({ codec: 'h264', width: 180, height: 320 });
		}
	});

	it('renders a 3 s clip in well under two seconds', async () => {
		const { local } = provider();
		// The best of two: the machine is shared, and one slow run says more about the neighbours.
		const times: number[] = [];
		for (const seed of [1, 2]) {
			const started = performance.now();
			await render(local, 'text_to_video', { prompt: 'timing', duration: 3, seed });
			times.push(performance.now() - started);
		}
		expect(Math.min(...times)).toBeLessThan(2000);
	});
});

describe('local provider: the task model', { timeout: 30_000 }, () => {
	it('reports running with progress during the delay, then succeeds', async () => {
		const { local, advance } = provider(2000);
		const taskId = await submit(local, 'text_to_video', { prompt: 'wait for it', duration: 1 });
		const seen: TaskStatus[] = [];
		for (const step of [0, 500, 1000, 499]) {
			advance(step);
			seen.push(await local.checkStatus(account, taskId));
		}
		expect(seen.map((s) => [s.state, s.progress])).toEqual([
			['running', 0],
			['running', 0.25],
			['running', 0.75],
			['running', 0.99]
		]);
		advance(1);
		const done = await local.checkStatus(account, taskId);
		expect(done).toMatchObject({ state: 'succeeded', progress: 1 });
		expect(done.resultUrls?.[0]).toMatch(/^file:\/\/.*\.mp4$/);
	});

	it('cancel: a cancelled task answers cancelled and is never rendered', async () => {
		const { local, dir, advance } = provider(1000);
		const taskId = await submit(local, 'text_to_video', { prompt: 'never mind' });
		await local.cancel!(account, taskId);
		await local.cancel!(account, taskId);
		advance(5000);
		expect((await local.checkStatus(account, taskId)).state).toBe('cancelled');
		expect(fs.existsSync(path.join(dir, 'results', `${taskId}.mp4`))).toBe(false);
	});

	it('survives the worker: another instance on the same folder finishes a task the first one took', async () => {
		const first = provider(0);
		const taskId = await submit(first.local, 'text_to_video', { prompt: 'handed over', duration: 1 });
		const second = createLocalProvider(() => ({ dir: first.dir, delayMs: 0, ffmpegPath }));
		// A render killed half-way, two hours ago, left only scratch: the next poll renders from scratch and clears it.
		const dead = path.join(first.dir, 'work', `${taskId}-dead`);
		fs.mkdirSync(dead, { recursive: true });
		fs.writeFileSync(path.join(dead, 'clip.mp4'), 'half a file');
		const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
		fs.utimesSync(dead, twoHoursAgo, twoHoursAgo);
		expect((await second.checkStatus(account, taskId)).state).toBe('succeeded');
		expect((await first.local.checkStatus(account, taskId)).state).toBe('succeeded');
		expect(fs.readdirSync(path.join(first.dir, 'work'))).toEqual([]);
		expect((await describeVideo(fileURLToPath((await second.checkStatus(account, taskId)).resultUrls![0]))).durationSec).toBe(1);
	});

	it('keeps tasks and results a day and inputs past the expiry it announced, then sweeps them', async () => {
		const { local, dir } = provider();
		const f = file(inputs.jpeg, 'image');
		const upload = await local.uploadAsset(account, f);
		// The upload cache learns when to upload again: a week on (by the provider's clock).
		expect(upload.expiresAt?.toISOString()).toBe('2026-01-08T00:00:00.000Z');
		const mapped = local.mapParameters('image_to_video', { image_asset_id: f.assetId, duration: 1, seed: 0, aspect_ratio: '16:9' }, { [f.assetId]: upload.providerUploadId });
		const { taskId } = await local.submit(account, 'image_to_video', mapped);
		expect((await local.checkStatus(account, taskId)).state).toBe('succeeded');
		const store = new TaskStore(dir);
		const files = () => ['tasks', 'results', 'uploads'].map((d) => fs.readdirSync(path.join(dir, d)).length);
		expect(files()).toEqual([1, 1, 1]);

		const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
		await sweepStore(store, { tasksMs: 86_400_000, uploadsMs: 8 * 86_400_000 }, inDays(0.5));
		expect(files()).toEqual([1, 1, 1]);
		await sweepStore(store, { tasksMs: 86_400_000, uploadsMs: 8 * 86_400_000 }, inDays(2));
		expect(files()).toEqual([0, 0, 1]);
		await sweepStore(store, { tasksMs: 86_400_000, uploadsMs: 8 * 86_400_000 }, inDays(9));
		expect(files()).toEqual([0, 0, 0]);
		expect((await local.checkStatus(account, taskId)).state).toBe('failed');
	});

	it('answers failed (request) for a task it does not know', async () => {
		const { local } = provider();
		const status = await local.checkStatus(account, randomUUID());
		expect(status.state).toBe('failed');
		expect(status.error && local.classifyError(status.error)).toBe('request');
	});

	it('answers results as file URLs under its folder, and streams only those', async () => {
		const { local, dir } = provider();
		const status = await local.checkStatus(account, await submit(local, 'text_to_video', { prompt: 'where', duration: 1 }));
		expect(fileURLToPath(status.resultUrls![0]).startsWith(dir)).toBe(true);

		await expect(local.openResult(account, `file://${inputs.jpeg}`)).rejects.toMatchObject({ cls: 'request' });
		await expect(local.openResult(account, 'https://example.com/x.mp4')).rejects.toMatchObject({ cls: 'request' });
	});
});

describe('local provider: bad input', { timeout: 30_000 }, () => {
	it('a corrupt image fails the task with a request-class error', async () => {
		const { local } = provider();
		const f = file(inputs.truncated, 'image');
		const status = await local.checkStatus(account, await submit(local, 'image_to_video', { image_asset_id: f.assetId }, [f]));
		expect(status.state).toBe('failed');
		expect(status.error).toBeInstanceOf(ProviderError);
		expect(local.classifyError(status.error)).toBe('request');
		expect(status.error?.message).toMatch(/could not be decoded/);
	});

	it('a file that is not a video fails video_extend with a request-class error', async () => {
		const { local } = provider();
		const f = file(inputs.text, 'video');
		const status = await local.checkStatus(account, await submit(local, 'video_extend', { video_asset_id: f.assetId }, [f]));
		expect(status.state).toBe('failed');
		expect(local.classifyError(status.error)).toBe('request');
	});

	it('an upload it no longer holds is refused at submit as stale, so the pipeline uploads again', async () => {
		const { local, dir } = provider();
		const f = file(inputs.jpeg, 'image');
		const { providerUploadId } = await local.uploadAsset(account, f);
		fs.rmSync(path.join(dir, 'uploads', providerUploadId));
		const mapped = local.mapParameters('image_to_video', { image_asset_id: f.assetId, duration: 1, seed: 0, aspect_ratio: '16:9' }, { [f.assetId]: providerUploadId });
		const err = await local.submit(account, 'image_to_video', mapped).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ProviderError);
		expect(err).toMatchObject({ cls: 'request', details: { staleUpload: true } });
	});

	it('params: strict, with defaults; prompt required for text_to_video', () => {
		const { local } = provider();
		const t2v = local.operations.text_to_video!.params;
		expect(t2v.parse({ prompt: 'x' })).toEqual({ prompt: 'x', duration: 3, seed: 0, aspect_ratio: '16:9' });
		expect(t2v.safeParse({}).success).toBe(false);
		expect(t2v.safeParse({ prompt: 'x', duration: 11 }).success).toBe(false);
		expect(t2v.safeParse({ prompt: 'x', colour: 'red' }).success).toBe(false);
		const fusion = local.operations.fusion!.params;
		expect(fusion.safeParse({ image_asset_ids: [] }).success).toBe(false);
		expect(fusion.safeParse({ image_asset_ids: [randomUUID(), randomUUID(), randomUUID(), randomUUID()] }).success).toBe(false);
		expect(local.operations.video_extend!.params.safeParse({ video_asset_id: randomUUID(), aspect_ratio: '1:1' }).success).toBe(false);
	});

	it('names input assets with their lineage relation', () => {
		const { local } = provider();
		const [a, b] = [randomUUID(), randomUUID()];
		expect(local.inputAssets('video_transition', { first_asset_id: a, last_asset_id: b })).toEqual([
			{ assetId: a, relation: 'first_frame' },
			{ assetId: b, relation: 'last_frame' }
		]);
		expect(local.inputAssets('fusion', { image_asset_ids: [a, b] }).map((r) => r.relation)).toEqual(['reference', 'reference']);
		expect(local.inputAssets('text_to_video', { prompt: 'x' })).toEqual([]);
	});
});
