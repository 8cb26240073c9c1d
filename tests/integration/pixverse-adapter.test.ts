/**
 * The Pixverse adapter against the stand-in of its platform API (tests/support/pixverse-standin.ts):
 * the exact payload of each operation, uploads, the status sequences, every ErrCode class, broken
 * transports, and the API key kept out of errors and the ledger.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pino from 'pino';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fieldsFromSchema, type JsonSchema } from '../../src/lib/jobs/params';
import { createPixverseProvider, maxImageBytes } from '../../src/lib/server/providers/pixverse';
import { findProvider } from '../../src/lib/server/providers/registry';
import { ProviderError, type AccountContext, type OperationType, type Provider, type TaskStatus } from '../../src/lib/server/providers/types';
import { jpeg, mp4 } from '../support/media';
import { startPixverseStandin, type PixverseStandin } from '../support/pixverse-standin';

const keyA = 'px-key-aaaaaaaaaaaaaaaaaaaaaaaa';
const keyB = 'px-key-bbbbbbbbbbbbbbbbbbbbbbbb';
const accountA: AccountContext = { id: randomUUID(), credentials: { api_key: keyA } };
const accountB: AccountContext = { id: randomUUID(), credentials: { api_key: keyB } };

let px: PixverseStandin;
let provider: Provider;
let dir: string;
let imageFile: string;
let videoFile: string;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
	px = await startPixverseStandin({ keys: { A: keyA, B: keyB } });
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixverse-adapter-'));
	imageFile = path.join(dir, 'still.jpg');
	fs.writeFileSync(imageFile, await jpeg(640, 360));
	videoFile = await mp4(dir, { seconds: 1 });
	const log = pino(
		{ level: 'debug' },
		new Writable({
			write(chunk: Buffer, _enc, done) {
				logLines.push(JSON.parse(chunk.toString()));
				done();
			}
		})
	);
	provider = createPixverseProvider({ baseUrl: px.url, timeoutMs: 400, pollIntervalMs: 10, log });
});
afterAll(async () => {
	await px.stop();
	fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => px.clearScripts());

const image = (assetId: string = randomUUID()) => ({ assetId, path: imageFile, mime: 'image/jpeg', mediaType: 'image' as const });

/** Uploads the still for each asset id as `account`, answering the uploads map mapParameters wants. */
async function uploadImages(account: AccountContext, ...assetIds: string[]): Promise<Record<string, string>> {
	const uploads: Record<string, string> = {};
	for (const id of assetIds) uploads[id] = (await provider.uploadAsset(account, image(id))).providerUploadId;
	return uploads;
}

function parse(operation: OperationType, params: Record<string, unknown>) {
	return provider.operations[operation]!.params.parse(params) as Record<string, unknown>;
}

async function poll(account: AccountContext, taskId: string, limit = 10): Promise<TaskStatus[]> {
	const seen: TaskStatus[] = [];
	for (let i = 0; i < limit; i++) {
		const status = await provider.checkStatus(account, taskId);
		seen.push(status);
		if (status.state !== 'running' && status.state !== 'pending') break;
	}
	return seen;
}

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
	try {
		await promise;
	} catch (err) {
		expect(err).toBeInstanceOf(ProviderError);
		return err as ProviderError;
	}
	throw new Error('expected a ProviderError');
}

const lastRequest = () => px.requests[px.requests.length - 1];

describe('registry', () => {
	it('registers pixverse with all five operations, and no cancel (Pixverse documents none)', () => {
		const registered = findProvider('pixverse');
		expect(registered?.requiresCredentials).toBe(true);
		expect(Object.keys(registered!.operations).sort()).toEqual(['fusion', 'image_to_video', 'text_to_video', 'video_extend', 'video_transition']);
		expect(registered!.cancel).toBeUndefined();
		expect(registered!.deadlineMs).toBe(15 * 60 * 1000);
	});
});

describe('parameters', () => {
	const issues = (operation: OperationType, params: Record<string, unknown>) => {
		const result = provider.operations[operation]!.params.safeParse(params);
		return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
	};

	it('fills the defaults and takes model names that are not in any list', () => {
		expect(parse('text_to_video', { prompt: 'a fox' })).toEqual({ prompt: 'a fox', model: 'v4.5', duration: 5, quality: '540p', aspect_ratio: '16:9' });
		expect(parse('text_to_video', { prompt: 'a fox', model: 'v5.2' }).model).toBe('v5.2');
	});

	it('refuses 8 seconds at 1080p and fast motion outside 5 s below 1080p, as field errors', () => {
		expect(issues('text_to_video', { prompt: 'x', duration: 8, quality: '1080p' })).toEqual([{ path: 'duration', message: expect.stringContaining('1080p') }]);
		expect(issues('text_to_video', { prompt: 'x', duration: 8, motion_mode: 'fast' }).map((i) => i.path)).toEqual(['motion_mode']);
		expect(issues('text_to_video', { prompt: 'x', quality: '1080p', motion_mode: 'fast' }).map((i) => i.path)).toEqual(['motion_mode']);
		expect(issues('text_to_video', { prompt: 'x', quality: '720p', duration: 8 })).toEqual([]);
	});

	it('limits the prompt to 2048 characters and the seed to 0..2147483647, and wants asset ids', () => {
		expect(issues('text_to_video', { prompt: 'x'.repeat(2049) }).map((i) => i.path)).toEqual(['prompt']);
		expect(issues('text_to_video', { prompt: 'x'.repeat(2048) })).toEqual([]);
		expect(issues('text_to_video', { prompt: 'x', seed: 2147483648 }).map((i) => i.path)).toEqual(['seed']);
		expect(issues('image_to_video', { prompt: 'x', image_asset_id: 'not-an-id' }).map((i) => i.path)).toEqual(['image_asset_id']);
		expect(issues('text_to_video', { prompt: 'x', duration: 6 }).map((i) => i.path)).toEqual(['duration']);
	});

	it('fusion takes 1 to 3 images with matching references and needs model v4.5 or newer', () => {
		const ids = [randomUUID(), randomUUID()];
		expect(issues('fusion', { prompt: 'x', image_asset_ids: ids, model: 'v4' }).map((i) => i.path)).toEqual(['model']);
		expect(issues('fusion', { prompt: 'x', image_asset_ids: ids, model: 'v5' })).toEqual([]);
		expect(issues('fusion', { prompt: 'x', image_asset_ids: [...ids, randomUUID(), randomUUID()] }).map((i) => i.path)).toEqual(['image_asset_ids']);
		expect(issues('fusion', { prompt: 'x', image_asset_ids: ids, image_references: [{ ref_name: 'cat' }] }).map((i) => i.path)).toEqual(['image_references']);
		expect(
			issues('fusion', { prompt: 'x', image_asset_ids: ids, image_references: [{ ref_name: 'cat' }, { ref_name: 'Cat' }] }).map((i) => i.path)
		).toEqual(['image_references']);
	});

	it('publishes a schema the job form renders: duration as a 5 | 8 choice, help text on the limits', () => {
		const fields = fieldsFromSchema(z.toJSONSchema(provider.operations.text_to_video!.params, { io: 'input' }) as JsonSchema);
		expect(fields.find((f) => f.name === 'duration')).toMatchObject({ kind: 'enum', options: ['5', '8'], default: '5', description: expect.stringContaining('1080p') });
		expect(fields.find((f) => f.name === 'model')).toMatchObject({ kind: 'text', default: 'v4.5' });
		expect(fields.find((f) => f.name === 'motion_mode')).toMatchObject({ kind: 'enum', options: ['normal', 'fast'], required: false });
	});

	it('estimates credits by quality, doubled for 8 s and for fast motion', () => {
		const cost = (params: Record<string, unknown>) => provider.operations.text_to_video!.estimateCost(parse('text_to_video', { prompt: 'x', ...params }));
		expect(cost({})).toEqual({ creditType: 'default', amount: 45 });
		expect(cost({ quality: '720p', duration: 8 })).toEqual({ creditType: 'default', amount: 120 });
		expect(cost({ quality: '1080p' })).toEqual({ creditType: 'default', amount: 120 });
		expect(cost({ quality: '360p', motion_mode: 'fast' })).toEqual({ creditType: 'default', amount: 90 });
	});
});

describe('uploads', () => {
	it('sends an image as the multipart field "image" and answers its img_id', async () => {
		const upload = await provider.uploadAsset(accountA, image());
		expect(upload).toEqual({ providerUploadId: expect.stringMatching(/^\d+$/), expiresAt: null });
		const request = lastRequest();
		expect(request).toMatchObject({ method: 'POST', path: '/image/upload', key: 'A' });
		expect(request.body).toEqual({ fields: {}, files: { image: { name: 'still.jpg', type: 'image/jpeg', size: fs.statSync(imageFile).size } } });
		expect((request.answer as { Resp: { img_id: number } }).Resp.img_id).toBe(Number(upload.providerUploadId));
	});

	it('sends a video to /media/upload and answers its media_id', async () => {
		const upload = await provider.uploadAsset(accountA, { assetId: randomUUID(), path: videoFile, mime: 'video/mp4', mediaType: 'video' });
		// Kept as media:<id>, so an image slot can tell a video's id from an image's.
		expect(upload.providerUploadId).toBe(`media:${(lastRequest().answer as { Resp: { media_id: number } }).Resp.media_id}`);
		expect(lastRequest()).toMatchObject({ path: '/media/upload', body: { files: { file: { type: 'video/mp4', size: fs.statSync(videoFile).size } } } });
	});

	it('refuses a video where an image belongs and an image where a video belongs, as request errors', async () => {
		const [still, clip] = [randomUUID(), randomUUID()];
		const uploads = {
			...(await uploadImages(accountA, still)),
			[clip]: (await provider.uploadAsset(accountA, { assetId: clip, path: videoFile, mime: 'video/mp4', mediaType: 'video' })).providerUploadId
		};
		const wrongImage = () => provider.mapParameters('image_to_video', parse('image_to_video', { prompt: 'x', image_asset_id: clip }), uploads);
		expect(wrongImage).toThrow(ProviderError);
		expect(wrongImage).toThrow(/image_asset_id needs an image/);
		const wrongVideo = () => provider.mapParameters('video_extend', parse('video_extend', { prompt: 'x', video_asset_id: still }), uploads);
		expect(wrongVideo).toThrow(/video_asset_id needs a video/);
		const thrown = (() => {
			try {
				wrongVideo();
			} catch (err) {
				return err;
			}
		})();
		expect(provider.classifyError(thrown)).toBe('request');
		// Params that no longer pass the schema are the request's fault too, not the network's.
		const invalid = (() => {
			try {
				provider.mapParameters('text_to_video', { prompt: '' }, {});
			} catch (err) {
				return err;
			}
		})();
		expect(invalid).toBeDefined();
		expect(provider.classifyError(invalid)).toBe('request');
	});

	it('refuses an image over 20 MB itself, as a request error, without sending it', async () => {
		const big = path.join(dir, 'big.jpg');
		fs.writeFileSync(big, Buffer.alloc(0));
		fs.truncateSync(big, maxImageBytes + 1);
		const before = px.requests.length;
		const err = await caught(provider.uploadAsset(accountA, { ...image(), path: big }));
		expect(err.cls).toBe('request');
		expect(err.message).toContain('20 MB');
		expect(px.requests.length).toBe(before);
	});

	it('an upload id belongs to its account: B cannot use A\'s image (400032, a stale upload)', async () => {
		const assetId = randomUUID();
		const uploads = await uploadImages(accountA, assetId);
		const mapped = provider.mapParameters('image_to_video', parse('image_to_video', { prompt: 'x', image_asset_id: assetId }), uploads);
		const err = await caught(provider.submit(accountB, 'image_to_video', mapped));
		expect(err).toMatchObject({ cls: 'request', details: { code: 400032, staleUpload: true } });
	});
});

describe('the five operations', () => {
	it('text to video: the payload, then 5 → 1 with a URL whose MP4 streams', async () => {
		const mapped = provider.mapParameters(
			'text_to_video',
			parse('text_to_video', { prompt: 'a red fox in snow', negative_prompt: 'blur', seed: 7, style: 'anime', water_mark: false, quality: '720p' }),
			{}
		);
		const { taskId, response } = await provider.submit(accountA, 'text_to_video', mapped);
		const request = lastRequest();
		expect(request).toMatchObject({ method: 'POST', path: '/video/text/generate', key: 'A' });
		expect(request.body).toEqual({
			prompt: 'a red fox in snow',
			model: 'v4.5',
			duration: 5,
			quality: '720p',
			aspect_ratio: '16:9',
			negative_prompt: 'blur',
			seed: 7,
			style: 'anime',
			water_mark: false
		});
		expect(request.headers['content-type']).toBe('application/json');
		expect(response).toMatchObject({ ErrCode: 0, Resp: { video_id: Number(taskId) } });

		const statuses = await poll(accountA, taskId);
		expect(statuses.map((s) => s.state)).toEqual(['running', 'succeeded']);
		const url = statuses[1].resultUrls![0];
		expect(url).toBe(`${px.origin}/files/${taskId}.mp4`);

		const stream = await provider.openResult(accountA, url);
		const chunks: Buffer[] = [];
		await pipeline(stream, new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }));
		expect(Buffer.concat(chunks).subarray(4, 8).toString('latin1')).toBe('ftyp');
		// The result link is on another host in production: the key does not travel to it.
		expect(lastRequest()).toMatchObject({ path: `/files/${taskId}.mp4`, key: null });
	});

	it('image to video sends img_id from the uploads map', async () => {
		const assetId = randomUUID();
		const uploads = await uploadImages(accountA, assetId);
		const mapped = provider.mapParameters('image_to_video', parse('image_to_video', { prompt: 'wave', image_asset_id: assetId, motion_mode: 'fast' }), uploads);
		const { taskId } = await provider.submit(accountA, 'image_to_video', mapped);
		expect(lastRequest()).toMatchObject({ path: '/video/img/generate' });
		expect(lastRequest().body).toEqual({ prompt: 'wave', model: 'v4.5', duration: 5, quality: '540p', motion_mode: 'fast', img_id: Number(uploads[assetId]) });
		expect((await poll(accountA, taskId)).at(-1)!.state).toBe('succeeded');
		expect(provider.inputAssets('image_to_video', { image_asset_id: assetId })).toEqual([{ assetId, relation: 'source_image' }]);
	});

	it('transition sends first_frame_img and last_frame_img', async () => {
		const [first, last] = [randomUUID(), randomUUID()];
		const uploads = await uploadImages(accountA, first, last);
		const mapped = provider.mapParameters('video_transition', parse('video_transition', { prompt: 'morph', first_asset_id: first, last_asset_id: last, duration: 8 }), uploads);
		const { taskId } = await provider.submit(accountA, 'video_transition', mapped);
		expect(lastRequest()).toMatchObject({ path: '/video/transition/generate' });
		expect(lastRequest().body).toEqual({
			prompt: 'morph',
			model: 'v4.5',
			duration: 8,
			quality: '540p',
			first_frame_img: Number(uploads[first]),
			last_frame_img: Number(uploads[last])
		});
		expect((await poll(accountA, taskId)).at(-1)!.state).toBe('succeeded');
		expect(provider.inputAssets('video_transition', { first_asset_id: first, last_asset_id: last })).toEqual([
			{ assetId: first, relation: 'first_frame' },
			{ assetId: last, relation: 'last_frame' }
		]);
	});

	it('extend sends the uploaded video as video_media_id (and no source_video_id)', async () => {
		const assetId = randomUUID();
		const { providerUploadId } = await provider.uploadAsset(accountA, { assetId, path: videoFile, mime: 'video/mp4', mediaType: 'video' });
		const mapped = provider.mapParameters('video_extend', parse('video_extend', { prompt: 'keep going', video_asset_id: assetId }), { [assetId]: providerUploadId });
		const { taskId } = await provider.submit(accountA, 'video_extend', mapped);
		expect(lastRequest()).toMatchObject({ path: '/video/extend/generate' });
		expect(lastRequest().body).toEqual({ prompt: 'keep going', model: 'v4.5', duration: 5, quality: '540p', video_media_id: Number(providerUploadId.slice('media:'.length)) });
		expect((await poll(accountA, taskId)).at(-1)!.state).toBe('succeeded');
		expect(provider.inputAssets('video_extend', { video_asset_id: assetId })).toEqual([{ assetId, relation: 'source_video' }]);
	});

	it('fusion sends image_references with types and ref names (defaults: subject, ref1..)', async () => {
		const ids = [randomUUID(), randomUUID(), randomUUID()];
		const uploads = await uploadImages(accountA, ...ids);
		const params = parse('fusion', {
			prompt: '@cat sits on @sofa in @room',
			model: 'v5',
			image_asset_ids: ids,
			image_references: [{ ref_name: 'cat' }, { type: 'subject', ref_name: 'sofa' }, { type: 'background', ref_name: 'room' }]
		});
		const { taskId } = await provider.submit(accountA, 'fusion', provider.mapParameters('fusion', params, uploads));
		expect(lastRequest()).toMatchObject({ path: '/video/fusion/generate' });
		expect(lastRequest().body).toEqual({
			prompt: '@cat sits on @sofa in @room',
			model: 'v5',
			duration: 5,
			quality: '540p',
			aspect_ratio: '16:9',
			image_references: [
				{ type: 'subject', img_id: Number(uploads[ids[0]]), ref_name: 'cat' },
				{ type: 'subject', img_id: Number(uploads[ids[1]]), ref_name: 'sofa' },
				{ type: 'background', img_id: Number(uploads[ids[2]]), ref_name: 'room' }
			]
		});
		expect((await poll(accountA, taskId)).at(-1)!.state).toBe('succeeded');

		const defaults = provider.mapParameters('fusion', parse('fusion', { prompt: '@ref1 dances', image_asset_ids: [ids[0]] }), uploads);
		expect(defaults.image_references).toEqual([{ type: 'subject', img_id: Number(uploads[ids[0]]), ref_name: 'ref1' }]);
		expect(provider.inputAssets('fusion', { image_asset_ids: ids }).map((i) => i.relation)).toEqual(['reference', 'reference', 'reference']);
	});

	it('sends a fresh Ai-trace-id UUID and the API-KEY on every request', async () => {
		const before = px.requests.length;
		const { taskId } = await provider.submit(accountA, 'text_to_video', provider.mapParameters('text_to_video', parse('text_to_video', { prompt: 'x' }), {}));
		await provider.checkStatus(accountA, taskId);
		const sent = px.requests.slice(before);
		expect(sent.map((r) => r.key)).toEqual(['A', 'A']);
		const traces = sent.map((r) => r.headers['ai-trace-id']);
		for (const trace of traces) expect(trace).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(new Set(traces).size).toBe(2);
	});
});

describe('statuses', () => {
	async function submitScripted(statuses: number[]): Promise<string> {
		const prompt = `scripted ${randomUUID()}`;
		px.script({ prompt, statuses });
		const { taskId } = await provider.submit(accountA, 'text_to_video', provider.mapParameters('text_to_video', parse('text_to_video', { prompt }), {}));
		return taskId;
	}

	it('7 is a moderation failure: request class, credits refunded', async () => {
		const statuses = await poll(accountA, await submitScripted([5, 7]));
		expect(statuses.map((s) => s.state)).toEqual(['running', 'failed']);
		expect(statuses[1].error).toMatchObject({ cls: 'request', details: { code: 'status_7', refunded: true } });
	});

	it('8 is a failed generation: transient, so the pipeline may retry it', async () => {
		const statuses = await poll(accountA, await submitScripted([8]));
		expect(statuses.map((s) => s.state)).toEqual(['failed']);
		expect(statuses[0].error).toMatchObject({ cls: 'transient', details: { code: 'status_8' } });
		expect(statuses[0].error!.details.refunded).toBeUndefined();
	});

	it('undocumented statuses (2, 3, 6) count as running and are logged with their value', async () => {
		logLines.length = 0;
		const taskId = await submitScripted([2, 3, 6, 1]);
		const statuses = await poll(accountA, taskId);
		expect(statuses.map((s) => s.state)).toEqual(['running', 'running', 'running', 'succeeded']);
		const unknown = logLines.filter((l) => l.msg === 'pixverse:unknown-status');
		expect(unknown.map((l) => l.status)).toEqual([2, 3, 6]);
		expect(unknown[0]).toMatchObject({ account_id: accountA.id, task_id: taskId });
	});

	it('a result another account asks for is not found (request class)', async () => {
		const taskId = await submitScripted([1]);
		const err = await caught(provider.checkStatus(accountB, taskId));
		expect(err.cls).toBe('request');
	});
});

describe('ErrCode classes', () => {
	const submitText = (account: AccountContext = accountA) =>
		provider.submit(account, 'text_to_video', provider.mapParameters('text_to_video', parse('text_to_video', { prompt: 'x' }), {}));

	it.each([
		[500044, 'account', {}],
		[500090, 'account', { exhausted: true }],
		[500069, 'transient', {}],
		[400013, 'request', {}],
		[400017, 'request', {}],
		[400018, 'request', {}],
		[500030, 'request', {}],
		[500054, 'request', {}],
		[500063, 'request', {}],
		[400032, 'request', { staleUpload: true }],
		[999999, 'transient', {}]
	] as const)('%i → %s', async (code, cls, flags) => {
		px.script({ key: 'A', errCode: code, errMsg: `scripted ${code}` });
		const err = await caught(submitText());
		expect(err).toMatchObject({ cls, message: `Pixverse ${code}: scripted ${code}`, details: { code, ...flags } });
		expect(err.details.response).toMatchObject({ ErrCode: code });
		expect(provider.classifyError(err)).toBe(cls);
	});

	it('status polls are classified the same way (500044 on /video/result)', async () => {
		const { taskId } = await submitText();
		px.script({ path: '/video/result/', errCode: 500044 });
		expect(await caught(provider.checkStatus(accountA, taskId))).toMatchObject({ cls: 'account', details: { code: 500044 } });
	});

	it('per key: A answers 500090 while B succeeds', async () => {
		px.script({ key: 'A', errCode: 500090 });
		expect(await caught(submitText(accountA))).toMatchObject({ cls: 'account', details: { exhausted: true } });
		const { taskId } = await submitText(accountB);
		expect((await poll(accountB, taskId)).at(-1)!.state).toBe('succeeded');
		expect(px.requests.filter((r) => r.path === '/video/text/generate').slice(-2).map((r) => r.key)).toEqual(['A', 'B']);
	});

	it('a scripted failure can be limited to a number of requests', async () => {
		px.script({ errCode: 500069, times: 1 });
		expect((await caught(submitText())).cls).toBe('transient');
		await expect(submitText()).resolves.toMatchObject({ taskId: expect.any(String) });
	});

	it('an unknown API key is an account failure, and the key does not appear in the error', async () => {
		const stranger: AccountContext = { id: randomUUID(), credentials: { api_key: 'px-key-unknown-zzzzzzzzzzzzzz' } };
		const err = await caught(submitText(stranger));
		expect(err).toMatchObject({ cls: 'account', details: { code: 10005 } });
		// The stand-in's message echoes the key, as some APIs do; the adapter scrubs it.
		expect((lastRequest().answer as { ErrMsg: string }).ErrMsg).toContain('px-key-unknown-zzzzzzzzzzzzzz');
		expect(err.message).not.toContain('px-key-unknown');
		expect(JSON.stringify(err.details)).not.toContain('px-key-unknown');
	});

	it('an account without api_key fails as an account error before any request', async () => {
		const before = px.requests.length;
		const err = await caught(submitText({ id: randomUUID(), credentials: {} }));
		expect(err.cls).toBe('account');
		expect(px.requests.length).toBe(before);
	});
});

describe('transport failures are transient', () => {
	const submitText = () => provider.submit(accountA, 'text_to_video', provider.mapParameters('text_to_video', parse('text_to_video', { prompt: 'x' }), {}));

	it('a dropped connection', async () => {
		px.script({ drop: true, times: 1 });
		expect(await caught(submitText())).toMatchObject({ cls: 'transient', details: { code: 'transport' } });
	});

	it('an answer slower than the timeout', async () => {
		px.script({ delayMs: 1500, times: 1 });
		const started = performance.now();
		const err = await caught(submitText());
		expect(err).toMatchObject({ cls: 'transient', details: { code: 'timeout' } });
		expect(err.message).toContain('400 ms');
		expect(performance.now() - started).toBeLessThan(1400);
	});

	it('an upload gets a second more per MiB it carries than a plain call', async () => {
		px.script({ path: '/media/upload', delayMs: 700, times: 1 });
		const upload = provider.uploadAsset(accountA, { assetId: randomUUID(), path: videoFile, mime: 'video/mp4', mediaType: 'video' });
		await expect(upload).resolves.toMatchObject({ providerUploadId: expect.stringMatching(/^media:\d+$/) });
		px.script({ path: '/video/text/generate', delayMs: 700, times: 1 });
		expect((await caught(submitText())).details.code).toBe('timeout');
	});

	it('a slow answer within the timeout is fine', async () => {
		px.script({ delayMs: 150, times: 1 });
		await expect(submitText()).resolves.toMatchObject({ taskId: expect.any(String) });
	});

	it('a non-200 status and a body that is not JSON', async () => {
		px.script({ httpStatus: 502, times: 1 });
		expect(await caught(submitText())).toMatchObject({ cls: 'transient', details: { code: 'http_502' } });
		px.script({ invalidJson: true, times: 1 });
		expect(await caught(submitText())).toMatchObject({ cls: 'transient', details: { code: 'invalid_response' } });
	});

	it('a refused connection', async () => {
		const closed = createPixverseProvider({ baseUrl: 'http://127.0.0.1:9/openapi/v2', timeoutMs: 400, pollIntervalMs: 10 });
		const err = await caught(closed.checkStatus(accountA, '1'));
		expect(err).toMatchObject({ cls: 'transient', details: { code: 'transport' } });
		expect(closed.classifyError(new TypeError('fetch failed'))).toBe('transient');
	});

	it('a result download that answers 404 or drops', async () => {
		expect(await caught(provider.openResult(accountA, `${px.origin}/files/1.mp4`))).toMatchObject({ cls: 'transient', details: { code: 'http_404' } });
		px.script({ path: '/files/', drop: true, times: 1 });
		expect((await caught(provider.openResult(accountA, `${px.origin}/files/1.mp4`))).cls).toBe('transient');
	});
});

describe('result downloads', () => {
	async function finishedVideoUrl(): Promise<string> {
		// Its own prompt: a request an earlier test timed out on may still land (as at a real server)
		// and must not take this rule.
		const prompt = `download ${randomUUID()}`;
		px.script({ prompt, statuses: [1] });
		const { taskId } = await provider.submit(accountA, 'text_to_video', { prompt, model: 'v4.5', duration: 5, quality: '540p' });
		const status = await provider.checkStatus(accountA, taskId);
		return status.resultUrls![0];
	}
	const drain = async (stream: NodeJS.ReadableStream) => {
		let bytes = 0;
		for await (const chunk of stream) bytes += (chunk as Buffer).length;
		return bytes;
	};

	it('streams the whole file, different bytes for each video (as real generations are)', async () => {
		const read = async (url: string) => Buffer.concat(await (await provider.openResult(accountA, url)).toArray());
		const [first, second] = [await read(await finishedVideoUrl()), await read(await finishedVideoUrl())];
		expect(first.length).toBeGreaterThan(fs.statSync(videoFile).size);
		expect(first.subarray(0, fs.statSync(videoFile).size).equals(fs.readFileSync(videoFile))).toBe(true);
		expect(first.equals(second)).toBe(false);
	});

	it('a connection reset mid-file fails the stream with a transient error', async () => {
		const url = await finishedVideoUrl();
		px.script({ path: '/files/', partialBody: 'drop', times: 1 });
		const stream = await provider.openResult(accountA, url);
		const err = await drain(stream).then(
			() => null,
			(e: unknown) => e
		);
		expect(err).toBeInstanceOf(ProviderError);
		expect(err).toMatchObject({ cls: 'transient', details: { code: 'transport' } });
	});

	it('a file that stops arriving fails after the timeout of silence, not never', async () => {
		const url = await finishedVideoUrl();
		px.script({ path: '/files/', partialBody: 'stall', times: 1 });
		const started = performance.now();
		const stream = await provider.openResult(accountA, url);
		const err = await drain(stream).then(
			() => null,
			(e: unknown) => e
		);
		expect(err).toMatchObject({ cls: 'transient', details: { code: 'timeout' } });
		expect(performance.now() - started).toBeLessThan(2000);
	});
});

describe('stand-in behaviours the pipeline tests rely on', () => {
	const submitText = (account: AccountContext) =>
		provider.submit(account, 'text_to_video', provider.mapParameters('text_to_video', parse('text_to_video', { prompt: 'x' }), {}));

	it('forgetUploads makes cached ids stale (400032), and a fresh upload works again', async () => {
		const assetId = randomUUID();
		const uploads = await uploadImages(accountA, assetId);
		const params = parse('image_to_video', { prompt: 'x', image_asset_id: assetId });
		px.forgetUploads('A');
		expect(await caught(provider.submit(accountA, 'image_to_video', provider.mapParameters('image_to_video', params, uploads)))).toMatchObject({
			details: { staleUpload: true }
		});
		const fresh = await uploadImages(accountA, assetId);
		await expect(provider.submit(accountA, 'image_to_video', provider.mapParameters('image_to_video', params, fresh))).resolves.toBeTruthy();
	});

	it('a concurrency limit per key answers 500044 until a video finishes', async () => {
		const limited = await startPixverseStandin({ keys: { A: keyA, B: keyB }, concurrency: 1, statuses: [5, 1], resultFile: videoFile });
		try {
			const p = createPixverseProvider({ baseUrl: limited.url, timeoutMs: 400, pollIntervalMs: 10 });
			const text = (account: AccountContext) => p.submit(account, 'text_to_video', { prompt: 'x', model: 'v4.5', duration: 5, quality: '540p' });
			const { taskId } = await text(accountA);
			expect(await caught(text(accountA))).toMatchObject({ cls: 'account', details: { code: 500044 } });
			await expect(text(accountB)).resolves.toBeTruthy(); // another key has its own limit
			expect((await p.checkStatus(accountA, taskId)).state).toBe('running');
			expect((await p.checkStatus(accountA, taskId)).state).toBe('succeeded');
			await expect(text(accountA)).resolves.toBeTruthy();
		} finally {
			await limited.stop();
		}
	});

	it('instant success with statuses [1]', async () => {
		px.script({ key: 'B', statuses: [1] });
		const { taskId } = await submitText(accountB);
		expect((await provider.checkStatus(accountB, taskId)).state).toBe('succeeded');
	});
});

describe('credentials', () => {
	it('never appear in errors, ledger payloads or the stand-in\'s record', async () => {
		const errors: ProviderError[] = [];
		px.script({ key: 'A', errCode: 500090, errMsg: `balance of ${keyA} is 0`, times: 1 });
		errors.push(await caught(provider.submit(accountA, 'text_to_video', { prompt: 'x', model: 'v4.5', duration: 5, quality: '540p' })));
		px.script({ key: 'A', httpStatus: 503, times: 1 });
		errors.push(await caught(provider.checkStatus(accountA, '1')));
		px.script({ key: 'A', drop: true, times: 1 });
		errors.push(await caught(provider.uploadAsset(accountA, image())));
		for (const err of errors) {
			expect(err.message).not.toContain(keyA);
			expect(JSON.stringify(err.details)).not.toContain(keyA);
			expect(err.stack ?? '').not.toContain(keyA);
		}
		expect(errors[0].message).toBe('Pixverse 500090: balance of [redacted] is 0');

		const mapped = provider.mapParameters('text_to_video', parse('text_to_video', { prompt: 'x' }), {});
		const { response } = await provider.submit(accountA, 'text_to_video', mapped);
		expect(JSON.stringify({ mapped, response })).not.toContain(keyA);
		// What the adapter sent, apart from the API-KEY header itself (which the stand-in does not keep).
		const sent = JSON.stringify(px.requests.map((r) => ({ path: r.path, headers: r.headers, body: r.body })));
		expect(sent.includes(keyA)).toBe(false);
		expect(JSON.stringify(logLines).includes(keyA)).toBe(false);
	});
});
