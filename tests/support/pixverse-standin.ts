/**
 * A stand-in for Pixverse's platform API, which tests cannot reach; follows
 * /work/shared/providers/pixverse.md. A real HTTP server on 127.0.0.1 (node:http): it checks the
 * API-KEY, records every request, validates the generate fields the way the documentation says
 * Pixverse does, plays each video through a scripted status sequence and serves the result MP4
 * from a URL on itself. Failures are scripted per key, endpoint or prompt: ErrCodes, slow answers,
 * dropped connections, non-200 statuses and broken JSON.
 *
 *   const px = await startPixverseStandin({ keys: { A: 'key-a', B: 'key-b' }, statuses: [1] });
 *   px.script({ key: 'A', errCode: 500090 });          // A is out of credits, B works
 *   px.script({ prompt: /moderate/, statuses: [5, 7] }); // this video fails moderation
 *   PIXVERSE_BASE_URL = px.url
 *
 * Not confirmed by the documentation, so chosen here (and in the adapter): a missing or unknown
 * API-KEY answers ErrCode 10005 (its message echoes the key, as some APIs do, so tests can show the
 * adapter scrubs it); POST /media/upload takes the file in the multipart field `file`; an id this
 * key did not upload or generate answers 400032 (image) or 400017 (video result).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mp4 } from './media';

export const standinApiKey = 'pixverse-standin-key-0123456789';
const basePath = '/openapi/v2';

/** What the stand-in does with a request that matches. Rules are tried in order; the first live one wins. */
export interface StandinRule {
	/** Only requests made with this key's label (see options.keys). */
	key?: string;
	/** Only this endpoint, relative to the base ('/video/img/generate', '/video/result/', '/files/'...): a prefix or a RegExp. */
	path?: string | RegExp;
	/** Only generate requests whose prompt matches. */
	prompt?: string | RegExp;
	/** How many matching requests it answers; default: all of them. */
	times?: number;
	/** Answer with this ErrCode (HTTP 200, as Pixverse does). */
	errCode?: number;
	errMsg?: string;
	/**
	 * Wait this long first (then answer as scripted, or normally). A client that gives up meanwhile
	 * does not undo the request: a generate still creates its video, as at a real server.
	 */
	delayMs?: number;
	/** Close the connection without an answer (the client sees a reset). */
	drop?: boolean;
	/** Answer with this HTTP status and an HTML body (a proxy or an outage). */
	httpStatus?: number;
	/** Answer HTTP 200 with a body that is not JSON. */
	invalidJson?: boolean;
	/** Result files only: send half the file, then close the connection ('drop') or go silent ('stall'). */
	partialBody?: 'drop' | 'stall';
	/** Generate requests only: the status sequence /video/result plays for the new video (the last one repeats). */
	statuses?: number[];
}

export interface RecordedRequest {
	method: string;
	/** Relative to the API base, e.g. '/video/text/generate'; result files are '/files/<id>.mp4'. */
	path: string;
	/** The label of the API key used; null when it was missing or unknown. */
	key: string | null;
	/** Lower-case names; the API-KEY header's value is not kept. */
	headers: Record<string, string>;
	/** Parsed JSON, or { fields, files } for multipart, or null. */
	body: unknown;
	/** The envelope answered (null for dropped connections, files and HTTP errors). */
	answer: unknown;
}

export interface StandinVideo {
	id: number;
	key: string;
	endpoint: string;
	body: Record<string, unknown>;
	statuses: number[];
	polls: number;
}

export interface PixverseStandinOptions {
	/** label → API key. Default: { default: standinApiKey }. */
	keys?: Record<string, string>;
	/** Status sequence of a video no rule scripts; default [5, 1] (one "generating" poll, then success). [1] is instant. */
	statuses?: number[];
	/** The MP4 every successful video answers with; default: a 1-second test pattern made with ffmpeg. */
	resultFile?: string;
	/** Every answer waits this long (a remote service's latency). */
	latencyMs?: number;
	/** Videos one key may have generating at once before 500044; default: no limit. */
	concurrency?: number;
	/** Default: any free port. */
	port?: number;
}

export interface PixverseStandin {
	/** The API base to configure as PIXVERSE_BASE_URL. */
	url: string;
	origin: string;
	keys: Record<string, string>;
	requests: RecordedRequest[];
	videos: Map<number, StandinVideo>;
	/** Adds a rule (see StandinRule). */
	script(rule: StandinRule): void;
	clearScripts(): void;
	/** Forgets this key's uploads (all keys' when omitted): their ids then answer 400032, as a stale upload does. */
	forgetUploads(key?: string): void;
	/** Requests to paths starting with the prefix. */
	requestsTo(prefix: string): RecordedRequest[];
	stop(): Promise<void>;
}

type Envelope = { ErrCode: number; ErrMsg: string; Resp: Record<string, unknown> };
const ok = (resp: Record<string, unknown>): Envelope => ({ ErrCode: 0, ErrMsg: 'Success', Resp: resp });
const fail = (code: number, message: string): Envelope => ({ ErrCode: code, ErrMsg: message, Resp: {} });

const qualities = ['360p', '540p', '720p', '1080p'];
const aspectRatios = ['16:9', '4:3', '1:1', '3:4', '9:16'];
const terminal = new Set([1, 7, 8]);
const generatePaths = ['/video/text/generate', '/video/img/generate', '/video/transition/generate', '/video/extend/generate', '/video/fusion/generate'];

/**
 * Every generation is a different file at Pixverse, so each video gets its own bytes: the MP4 with a
 * top-level `free` box naming the video appended (players and probes skip `free` boxes). Without
 * it, content-addressed storage would fold every result, and any input made the same way, into one.
 */
function uniqueMp4(bytes: Buffer, videoId: number): Buffer {
	const payload = Buffer.from(`pixverse-standin video ${videoId}`);
	const header = Buffer.alloc(8);
	header.writeUInt32BE(8 + payload.length, 0);
	header.write('free', 4, 'latin1');
	return Buffer.concat([bytes, header, payload]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function matches(pattern: string | RegExp | undefined, value: string | undefined): boolean {
	if (pattern === undefined) return true;
	if (value === undefined) return false;
	return typeof pattern === 'string' ? value.startsWith(pattern) : pattern.test(value);
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	const raw = Buffer.concat(chunks);
	if (raw.length === 0) return null;
	const type = req.headers['content-type'] ?? '';
	if (type.startsWith('multipart/form-data')) {
		const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
		const fields: Record<string, string> = {};
		const files: Record<string, { name: string; type: string; size: number }> = {};
		for (const [name, value] of form) {
			if (typeof value === 'string') fields[name] = value;
			else files[name] = { name: value.name, type: value.type, size: value.size };
		}
		return { fields, files };
	}
	try {
		return JSON.parse(raw.toString('utf8'));
	} catch {
		return { unparsed: raw.toString('utf8') };
	}
}

function modelAtLeast(model: unknown, minimum: number[]): boolean {
	const match = typeof model === 'string' ? /^v(\d+(?:\.\d+)*)/i.exec(model) : null;
	if (!match) return false;
	const version = match[1].split('.').map(Number);
	for (let i = 0; i < minimum.length; i++) {
		if ((version[i] ?? 0) !== minimum[i]) return (version[i] ?? 0) > minimum[i];
	}
	return true;
}

export async function startPixverseStandin(options: PixverseStandinOptions = {}): Promise<PixverseStandin> {
	const keys = options.keys ?? { default: standinApiKey };
	const defaultStatuses = options.statuses ?? [5, 1];
	let tempDir: string | undefined;
	let resultFile = options.resultFile;
	if (!resultFile) {
		tempDir = await mkdtemp(path.join(os.tmpdir(), 'pixverse-standin-'));
		resultFile = await mp4(tempDir, { seconds: 1 });
	}
	const resultBytes = await readFile(resultFile);
	const resultFor = (videoId: number) => uniqueMp4(resultBytes, videoId);

	const requests: RecordedRequest[] = [];
	const videos = new Map<number, StandinVideo>();
	const images = new Map<number, string>(); // img_id → key label
	const media = new Map<number, string>(); // media_id → key label
	let rules: { rule: StandinRule; left: number }[] = [];
	let nextId = 300_000_000;
	let origin = '';

	function take(record: { key: string | null; path: string; prompt?: string }, kind: 'answer' | 'statuses'): StandinRule | undefined {
		for (const entry of rules) {
			if (entry.left <= 0) continue;
			const isStatusRule = entry.rule.statuses !== undefined;
			if (isStatusRule !== (kind === 'statuses')) continue;
			const { rule } = entry;
			if (rule.key !== undefined && rule.key !== record.key) continue;
			if (!matches(rule.path, record.path)) continue;
			if (rule.prompt !== undefined && !matches(rule.prompt, record.prompt)) continue;
			entry.left--;
			return rule;
		}
		return undefined;
	}

	function runningVideos(key: string): number {
		let count = 0;
		for (const video of videos.values()) {
			const shown = video.statuses[Math.min(Math.max(video.polls - 1, 0), video.statuses.length - 1)];
			if (video.key === key && !(video.polls > 0 && terminal.has(shown))) count++;
		}
		return count;
	}

	/** The documented field checks of the generate endpoints. */
	function validateGenerate(endpoint: string, key: string, body: Record<string, unknown>): Envelope | null {
		const { prompt, model, duration, quality } = body;
		if (typeof prompt !== 'string' || prompt === '') return fail(400017, 'prompt is required');
		if (prompt.length > 2048) return fail(400018, 'prompt is too long');
		if (typeof model !== 'string' || model === '') return fail(400017, 'model is required');
		if (duration !== 5 && duration !== 8) return fail(400017, 'duration must be 5 or 8');
		if (typeof quality !== 'string' || !qualities.includes(quality)) return fail(400017, 'invalid quality');
		if (duration === 8 && quality === '1080p') return fail(400017, '1080p does not support 8 seconds');
		if (body.aspect_ratio !== undefined && !aspectRatios.includes(String(body.aspect_ratio))) return fail(400017, 'invalid aspect_ratio');
		if (body.motion_mode !== undefined && !['normal', 'fast'].includes(String(body.motion_mode))) return fail(400013, 'invalid motion_mode');
		if (body.motion_mode === 'fast' && (duration !== 5 || quality === '1080p')) return fail(400017, 'fast motion needs 5 s below 1080p');
		const image = (id: unknown) => typeof id === 'number' && images.get(id) === key;
		switch (endpoint) {
			case '/video/img/generate':
				if (!image(body.img_id)) return fail(400032, 'invalid image id');
				break;
			case '/video/transition/generate':
				if (!image(body.first_frame_img) || !image(body.last_frame_img)) return fail(400032, 'invalid image id');
				break;
			case '/video/extend/generate': {
				const fromVideo = body.source_video_id !== undefined;
				const fromMedia = body.video_media_id !== undefined;
				if (fromVideo === fromMedia) return fail(400017, 'give exactly one of source_video_id and video_media_id');
				if (fromMedia && media.get(Number(body.video_media_id)) !== key) return fail(400032, 'invalid media id');
				if (fromVideo && videos.get(Number(body.source_video_id))?.key !== key) return fail(400017, 'invalid source video');
				break;
			}
			case '/video/fusion/generate': {
				const refs = body.image_references;
				if (!Array.isArray(refs) || refs.length < 1 || refs.length > 3) return fail(400017, 'image_references takes 1 to 3 images');
				for (const ref of refs as Record<string, unknown>[]) {
					if (!['subject', 'background'].includes(String(ref?.type)) || typeof ref?.ref_name !== 'string') return fail(400013, 'invalid image reference');
					if (!image(ref.img_id)) return fail(400032, 'invalid image id');
				}
				if (!modelAtLeast(model, [4, 5])) return fail(400017, 'fusion needs model v4.5 or newer');
				break;
			}
		}
		return null;
	}

	function answerApi(method: string, endpoint: string, key: string, body: unknown, prompt: string | undefined): Envelope {
		if (method === 'POST' && generatePaths.includes(endpoint)) {
			const fields = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
			const refused = validateGenerate(endpoint, key, fields);
			if (refused) return refused;
			if (options.concurrency !== undefined && runningVideos(key) >= options.concurrency) {
				return fail(500044, 'concurrent generations limit reached');
			}
			const statuses = take({ key, path: endpoint, prompt }, 'statuses')?.statuses ?? defaultStatuses;
			const id = nextId++;
			videos.set(id, { id, key, endpoint, body: fields, statuses, polls: 0 });
			return ok({ video_id: id, credits: 45 });
		}
		if (method === 'GET' && endpoint.startsWith('/video/result/')) {
			const video = videos.get(Number(endpoint.slice('/video/result/'.length)));
			if (!video || video.key !== key) return fail(400017, 'video not found');
			const status = video.statuses[Math.min(video.polls, video.statuses.length - 1)];
			video.polls++;
			const resp: Record<string, unknown> = { id: video.id, status, prompt: video.body.prompt, create_time: new Date().toISOString() };
			if (status === 1) Object.assign(resp, { url: `${origin}/files/${video.id}.mp4`, outputWidth: 320, outputHeight: 240, seed: video.body.seed ?? 42 });
			return ok(resp);
		}
		if (method === 'POST' && endpoint === '/image/upload') {
			const form = body as { fields?: Record<string, string>; files?: Record<string, { size: number }> } | null;
			const file = form?.files?.image;
			if (!file && !form?.fields?.image_url) return fail(400013, 'image or image_url is required');
			if (file && file.size > 20 * 1024 * 1024) return fail(500030, 'image too large');
			const id = nextId++;
			images.set(id, key);
			return ok({ img_id: id, img_url: `${origin}/files/img-${id}` });
		}
		if (method === 'POST' && endpoint === '/media/upload') {
			const form = body as { fields?: Record<string, string>; files?: Record<string, { size: number }> } | null;
			if (!form?.files?.file && !form?.fields?.file_url) return fail(400013, 'file or file_url is required');
			const id = nextId++;
			media.set(id, key);
			return ok({ media_id: id, media_type: 'video', url: `${origin}/files/media-${id}` });
		}
		return fail(400013, `no such endpoint: ${method} ${endpoint}`);
	}

	async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://standin');
		const isFile = url.pathname.startsWith('/files/');
		const endpoint = isFile ? url.pathname : url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) : url.pathname;
		const sentKey = req.headers['api-key'];
		const key = Object.entries(keys).find(([, value]) => value === sentKey)?.[0] ?? null;
		const headers = Object.fromEntries(
			Object.entries(req.headers)
				.filter(([name]) => name !== 'api-key')
				.map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')])
		);
		const body = await readBody(req);
		const prompt = body && typeof body === 'object' && typeof (body as { prompt?: unknown }).prompt === 'string' ? (body as { prompt: string }).prompt : undefined;
		const record: RecordedRequest = { method: req.method ?? 'GET', path: endpoint, key, headers, body, answer: null };
		requests.push(record);

		if (options.latencyMs) await sleep(options.latencyMs);
		const rule = take({ key, path: endpoint, prompt }, 'answer');
		if (rule?.delayMs) await sleep(rule.delayMs);
		if (rule?.drop) {
			req.socket.destroy();
			return;
		}
		if (rule?.httpStatus) {
			res.writeHead(rule.httpStatus, { 'content-type': 'text/html' }).end(`<html><body>${rule.httpStatus}</body></html>`);
			return;
		}
		if (rule?.invalidJson) {
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ErrCode": 0, "Resp": ');
			return;
		}

		if (isFile) {
			const video = videos.get(Number(/^\/files\/(\d+)\.mp4$/.exec(endpoint)?.[1]));
			// Only a video already reported as done has a file, as with Pixverse's links.
			if (!video || !video.statuses.slice(0, video.polls).includes(1)) {
				res.writeHead(404).end();
				return;
			}
			const file = resultFor(video.id);
			res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': file.length });
			if (rule?.partialBody) {
				res.write(file.subarray(0, file.length >> 1));
				if (rule.partialBody === 'drop') setTimeout(() => req.socket.destroy(), 20);
				return; // 'stall': the connection stays open, silent, until the client gives up or stop()
			}
			res.end(file);
			return;
		}

		let envelope: Envelope;
		if (rule?.errCode !== undefined) envelope = fail(rule.errCode, rule.errMsg ?? `scripted error ${rule.errCode}`);
		else if (key === null) envelope = fail(10005, `API key ${typeof sentKey === 'string' ? sentKey : '(none)'} is invalid`);
		else envelope = answerApi(record.method, endpoint, key, body, prompt);
		record.answer = envelope;
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(envelope));
	}

	const server = http.createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			if (!res.headersSent) res.writeHead(500).end(String(err));
		});
	});
	await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

	return {
		url: origin + basePath,
		origin,
		keys,
		requests,
		videos,
		script(rule) {
			rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
		},
		clearScripts() {
			rules = [];
		},
		forgetUploads(key) {
			for (const map of [images, media]) {
				for (const [id, owner] of map) if (key === undefined || owner === key) map.delete(id);
			}
		},
		requestsTo: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
		async stop() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
			if (tempDir) await rm(tempDir, { recursive: true, force: true });
		}
	};
}

// `npx tsx tests/support/pixverse-standin.ts [port]`: a stand-in to point a local PixSim7 at by hand
// (PIXVERSE_BASE_URL=<url>, an account whose api_key is the key printed), until Ctrl-C.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const standin = await startPixverseStandin({ port: Number(process.argv[2] ?? 0) || undefined, statuses: [5, 5, 1] });
	console.log(JSON.stringify({ url: standin.url, api_key: standinApiKey }));
	process.once('SIGINT', () => void standin.stop().then(() => process.exit(0)));
}
