/**
 * The `local` provider: renders real H.264 clips with ffmpeg on this machine, for all five
 * operations, with no account and no network. It behaves like a remote provider so the pipeline
 * treats it the same: submit stores a task and answers its id; checkStatus says "running" for a
 * configurable delay (so the live UI has something to show), then renders once and answers a
 * file:// URL that openResult streams.
 *
 * Crash safety: the task lives in a file, and a render writes into a scratch folder and renames the
 * finished MP4 into results/. A worker killed mid-render leaves no result, so the next poll renders
 * again; a finished result is never rendered twice.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Config } from '../../config';
import { logger } from '../../logger';
import { MediaContentError } from '../../media/errors';
import { resolveFfmpegPath } from '../../media/ffmpeg';
import { ProviderError, type OperationSpec, type OperationType, type Provider, type TaskStatus } from '../types';
import { ASSET_FIELDS, localParams, taskParams } from './params';
import { renderTask, uploadedFile } from './render';
import { TaskStore, exists, sweepStore, type LocalTask, type Retention } from './tasks';

export interface LocalProviderSettings {
	/** The renderer's folder (tasks, uploads, results). */
	dir: string;
	/** How long a task reports "running" before it renders. */
	delayMs: number;
	ffmpegPath: string;
}

export function localProviderSettings(config: Config): LocalProviderSettings {
	return { dir: config.localProviderDir, delayMs: config.LOCAL_PROVIDER_DELAY_MS, ffmpegPath: resolveFfmpegPath(config.FFMPEG_PATH) };
}

/** Scratch older than this belongs to a render whose process died. */
const STALE_SCRATCH_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** The upload cache is told uploads expire after this; they are deleted a day later. */
const UPLOAD_TTL_MS = 7 * DAY_MS;
const RETENTION: Retention = { tasksMs: DAY_MS, uploadsMs: UPLOAD_TTL_MS + DAY_MS };
/** The folder is swept at most this often, by whichever call comes first. */
const SWEEP_EVERY_MS = 60 * 60_000;

const noCost = () => null;
const operations: Record<OperationType, OperationSpec> = {
	text_to_video: { params: localParams.text_to_video, estimateCost: noCost },
	image_to_video: { params: localParams.image_to_video, estimateCost: noCost },
	video_extend: { params: localParams.video_extend, estimateCost: noCost },
	video_transition: { params: localParams.video_transition, estimateCost: noCost },
	fusion: { params: localParams.fusion, estimateCost: noCost }
};

/** Every asset id a params object names, with the field's lineage relation (absent fields skipped). */
function assetRefs(operation: OperationType, params: Record<string, unknown>): { field: string; ids: string[]; relation: string }[] {
	return ASSET_FIELDS[operation].map(({ field, relation }) => {
		const value = params[field];
		const ids = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
		return { field, ids, relation };
	});
}

/**
 * `settings` is read on every call, so the registry's instance follows the process's configuration
 * without reading it at import; tests pass fixed settings and a clock.
 */
export function createLocalProvider(settings: () => LocalProviderSettings, now: () => Date = () => new Date()): Provider {
	const store = () => new TaskStore(settings().dir);
	/** Renders in progress in this process, so overlapping polls of one task share one render. */
	const rendering = new Map<string, Promise<void>>();
	let lastSweep = 0;

	/** Old tasks, results and uploads go, on the side: a failed sweep is logged and tried next hour. */
	function sweepNowAndThen(): void {
		const at = Date.now();
		if (at - lastSweep < SWEEP_EVERY_MS) return;
		lastSweep = at;
		sweepStore(store(), RETENTION, new Date(at)).then(
			(removed) => removed && logger.info({ removed }, 'local:swept'),
			(err: unknown) => logger.warn({ err }, 'local:sweep_failed')
		);
	}

	async function renderOnce(tasks: TaskStore, task: LocalTask): Promise<void> {
		if (await tasks.hasResult(task.id)) return;
		let pending = rendering.get(task.id);
		if (!pending) {
			pending = renderIntoPlace(tasks, task).finally(() => rendering.delete(task.id));
			rendering.set(task.id, pending);
		}
		return pending;
	}

	async function renderIntoPlace(tasks: TaskStore, task: LocalTask): Promise<void> {
		// Longer than any render takes (media/clips.ts gives up after two minutes plus the source's length).
		const workDir = await tasks.workDir(task.id, STALE_SCRATCH_MS, new Date());
		const started = Date.now();
		try {
			const output = path.join(workDir, 'clip.mp4');
			await renderTask(tasks, task, { ffmpegPath: settings().ffmpegPath, output, workDir });
			await fsp.mkdir(tasks.resultsDir, { recursive: true });
			await fsp.rename(output, tasks.resultPath(task.id));
			logger.info({ task_id: task.id, operation: task.operation, ms: Date.now() - started }, 'local:rendered');
		} finally {
			await fsp.rm(workDir, { recursive: true, force: true });
		}
	}

	return {
		id: 'local',
		label: 'Local renderer',
		requiresCredentials: false,
		pollIntervalMs: 500,
		deadlineMs: 10 * 60_000,
		operations,

		inputAssets(operation, params) {
			return assetRefs(operation, params).flatMap(({ ids, relation }) => ids.map((assetId) => ({ assetId, relation })));
		},

		mapParameters(operation, params, uploads) {
			const mapped: Record<string, unknown> = { ...params };
			for (const { field, ids } of assetRefs(operation, params)) {
				const uploadIds = ids.map((id) => {
					const upload = uploads[id];
					if (!upload) throw new Error(`No upload for input asset ${id}`);
					return upload;
				});
				if (Array.isArray(params[field])) mapped[field] = uploadIds;
				else if (uploadIds.length) mapped[field] = uploadIds[0];
			}
			return mapped;
		},

		async submit(_account, operation, mapped) {
			const parsed = taskParams[operation].safeParse(mapped);
			if (!parsed.success) {
				const issue = parsed.error.issues[0];
				throw new ProviderError('request', `Invalid ${operation} parameters: ${issue?.path.join('.')} ${issue?.message}`.trim());
			}
			sweepNowAndThen();
			const tasks = store();
			for (const { ids } of assetRefs(operation, parsed.data)) for (const id of ids) await uploadedFile(tasks, id);
			const task = await tasks.create(operation, parsed.data, now());
			return { taskId: task.id, response: { task_id: task.id, submitted_at: task.submitted_at } };
		},

		async checkStatus(_account, taskId): Promise<TaskStatus> {
			const tasks = store();
			const task = await tasks.read(taskId);
			if (!task) return { state: 'failed', error: new ProviderError('request', `The local renderer has no task "${taskId}".`) };
			if (task.cancelled_at) return { state: 'cancelled', raw: task };
			const elapsed = now().getTime() - Date.parse(task.submitted_at);
			const { delayMs } = settings();
			if (elapsed < delayMs) return { state: 'running', progress: Math.max(0, Math.min(0.99, Math.round((elapsed / delayMs) * 100) / 100)), raw: task };
			try {
				await renderOnce(tasks, task);
			} catch (err) {
				// Bad input fails the task (as a remote provider would); anything else is thrown to be retried.
				if (err instanceof MediaContentError) return { state: 'failed', error: new ProviderError('request', err.message), raw: task };
				if (err instanceof ProviderError && err.cls === 'request') return { state: 'failed', error: err, raw: task };
				throw err;
			}
			return { state: 'succeeded', progress: 1, resultUrls: [pathToFileURL(tasks.resultPath(task.id)).href], raw: task };
		},

		async uploadAsset(_account, file) {
			const providerUploadId = await store().addUpload(file.mediaType, file.path);
			return { providerUploadId, expiresAt: new Date(now().getTime() + UPLOAD_TTL_MS) };
		},

		async cancel(_account, taskId) {
			const tasks = store();
			const task = await tasks.read(taskId);
			if (task) await tasks.markCancelled(task, now());
		},

		async openResult(_account, url): Promise<Readable> {
			const tasks = store();
			const file = url.startsWith('file:') ? path.resolve(fileURLToPath(url)) : null;
			// Only this renderer's own results: the URL comes back from the database, not from a user, but still.
			if (!file || path.dirname(file) !== path.resolve(tasks.resultsDir)) {
				throw new ProviderError('request', 'Not a result of the local renderer.');
			}
			if (!(await exists(file))) throw new ProviderError('transient', 'The local result file is missing.');
			return fs.createReadStream(file);
		},

		classifyError(err) {
			if (err instanceof ProviderError) return err.cls;
			if (err instanceof MediaContentError) return 'request';
			return 'transient';
		}
	};
}
