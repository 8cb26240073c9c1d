/**
 * Pixverse, through its platform API (v2), as documented in /work/shared/providers/pixverse.md.
 *
 * Written against the published documentation and Pixverse's official client, not the live
 * service. Not confirmed, so deliberately left out or kept adjustable:
 * - the balance (credits) endpoint: no balance sync; costs are estimated from an approximate price
 *   table (params.ts, overridable through `prices`);
 * - webhook payloads: results are polled (GET /video/result/{id}), never pushed;
 * - rate limits per plan: none are assumed; 500044 (concurrency) and 500069 (load) are handled
 *   as they come;
 * - the multipart field of POST /media/upload (`file` here) and the answer to a wrong API-KEY
 *   (the 10xxx codes, classified as account failures in errors.ts).
 * No cancel endpoint is documented, so this provider has no `cancel`: a cancelled job's task is
 * left to finish or be released by Pixverse (about 10 minutes).
 * Decisions where the documentation is silent:
 * - status 8 (generation failed) is transient: nothing says the input was at fault, so the
 *   pipeline retries it within its transient budget rather than failing the user's job at once;
 * - an unknown ErrCode is transient (errors.ts says why);
 * - result files are fetched without the API-KEY: the link is a signed CDN URL on another host,
 *   and the key must not travel to it.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { config, type Config } from '../../config';
import { ProviderError, type AccountContext, type InputUploads, type OperationSpec, type OperationType, type Provider, type TaskStatus } from '../types';
import { callPixverse, pixverseLog, type ClientSettings } from './client';
import { openPixverseResult } from './download';
import { classifyPixverseError } from './errors';
import {
	estimateCredits,
	paramsSchemas,
	type ExtendParams,
	type FusionParams,
	type ImageToVideoParams,
	type Quality,
	type TextToVideoParams,
	type TransitionParams
} from './params';

export interface PixverseSettings extends ClientSettings {
	pollIntervalMs: number;
	/** Credits per 5-second video by quality (see params.ts). */
	prices?: Record<Quality, number>;
}

/** Pixverse refuses images over 20 MB (ErrCode 500030); refusing before the upload saves sending them. */
export const maxImageBytes = 20 * 1024 * 1024;

const endpoints: Record<OperationType, string> = {
	text_to_video: '/video/text/generate',
	image_to_video: '/video/img/generate',
	video_transition: '/video/transition/generate',
	video_extend: '/video/extend/generate',
	fusion: '/video/fusion/generate'
};

export function pixverseSettings(cfg: Config): PixverseSettings {
	return { baseUrl: cfg.PIXVERSE_BASE_URL, timeoutMs: cfg.PIXVERSE_TIMEOUT_MS, pollIntervalMs: cfg.PIXVERSE_POLL_MS };
}

/** The fields every generate endpoint takes, from validated params (absent options stay absent). */
function commonFields(p: TextToVideoParams | ImageToVideoParams | TransitionParams | ExtendParams | FusionParams) {
	const fields: Record<string, unknown> = { prompt: p.prompt, model: p.model, duration: p.duration, quality: p.quality };
	for (const name of ['aspect_ratio', 'motion_mode', 'negative_prompt', 'seed', 'style', 'template_id', 'water_mark'] as const) {
		if (p[name] !== undefined) fields[name] = p[name];
	}
	return fields;
}

/**
 * Video uploads are cached as "media:<media_id>", image uploads as the bare img_id: the two are
 * different id spaces at Pixverse, and the prefix lets a slot that needs an image refuse a video
 * (and the other way round) instead of sending an id Pixverse would reject as invalid.
 */
const mediaPrefix = 'media:';

/** The upload id for an input, as the integer Pixverse wants, checked against the kind the field needs. */
function uploadId(uploads: InputUploads, assetId: string, field: string, kind: 'image' | 'video'): number {
	const id = uploads[assetId];
	if (id === undefined) throw new Error(`No Pixverse upload for input asset ${assetId}`);
	const isVideo = id.startsWith(mediaPrefix);
	if ((kind === 'video') !== isVideo) {
		throw new ProviderError('request', `${field} needs ${kind === 'image' ? 'an image' : 'a video'}; asset ${assetId} is ${isVideo ? 'a video' : 'an image'}`, {
			code: 'wrong_media_type'
		});
	}
	const numeric = Number(isVideo ? id.slice(mediaPrefix.length) : id);
	if (!Number.isSafeInteger(numeric)) throw new Error(`Pixverse upload id "${id}" for asset ${assetId} is not an integer`);
	return numeric;
}

export function mapPixverseParameters(operation: OperationType, params: Record<string, unknown>, uploads: InputUploads): Record<string, unknown> {
	switch (operation) {
		case 'text_to_video':
			return commonFields(paramsSchemas.text_to_video.parse(params));
		case 'image_to_video': {
			const p = paramsSchemas.image_to_video.parse(params);
			return { ...commonFields(p), img_id: uploadId(uploads, p.image_asset_id, 'image_asset_id', 'image') };
		}
		case 'video_transition': {
			const p = paramsSchemas.video_transition.parse(params);
			return {
				...commonFields(p),
				first_frame_img: uploadId(uploads, p.first_asset_id, 'first_asset_id', 'image'),
				last_frame_img: uploadId(uploads, p.last_asset_id, 'last_asset_id', 'image')
			};
		}
		case 'video_extend': {
			const p = paramsSchemas.video_extend.parse(params);
			return { ...commonFields(p), video_media_id: uploadId(uploads, p.video_asset_id, 'video_asset_id', 'video') };
		}
		case 'fusion': {
			const p = paramsSchemas.fusion.parse(params);
			const image_references = p.image_asset_ids.map((assetId, i) => ({
				type: p.image_references?.[i]?.type ?? 'subject',
				img_id: uploadId(uploads, assetId, 'image_asset_ids', 'image'),
				ref_name: p.image_references?.[i]?.ref_name ?? `ref${i + 1}`
			}));
			return { ...commonFields(p), image_references };
		}
	}
}

export function pixverseInputAssets(operation: OperationType, params: Record<string, unknown>): { assetId: string; relation: string }[] {
	const id = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
	const one = (name: string, relation: string) => {
		const assetId = id(name);
		return assetId ? [{ assetId, relation }] : [];
	};
	switch (operation) {
		case 'text_to_video':
			return [];
		case 'image_to_video':
			return one('image_asset_id', 'source_image');
		case 'video_extend':
			return one('video_asset_id', 'source_video');
		case 'video_transition':
			return [...one('first_asset_id', 'first_frame'), ...one('last_asset_id', 'last_frame')];
		case 'fusion': {
			const ids = Array.isArray(params.image_asset_ids) ? params.image_asset_ids : [];
			return ids.filter((v): v is string => typeof v === 'string').map((assetId) => ({ assetId, relation: 'reference' }));
		}
	}
}

/** Pixverse's Resp.<field> as the text our cache keeps, or a transient error if it is missing. */
function idFrom(resp: Record<string, unknown>, field: string, response: unknown): string {
	const value = resp[field];
	if ((typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value !== '')) return String(value);
	throw new ProviderError('transient', `Pixverse answered without ${field}`, { code: 'invalid_response', response });
}

/** The provider; `settings` is read on every call, so the registered instance follows config(). */
export function createPixverseProvider(settings: PixverseSettings | (() => PixverseSettings)): Provider {
	const current = typeof settings === 'function' ? settings : () => settings;
	const spec = <S extends (typeof paramsSchemas)[OperationType]>(schema: S): OperationSpec<S> => ({
		params: schema,
		estimateCost: (params) => ({ creditType: 'default', amount: estimateCredits(params, current().prices) })
	});

	return {
		id: 'pixverse',
		label: 'Pixverse',
		requiresCredentials: true,
		get pollIntervalMs() {
			return current().pollIntervalMs;
		},
		// Pixverse releases a generation stuck in "generating" after about 10 minutes.
		deadlineMs: 15 * 60 * 1000,
		operations: {
			text_to_video: spec(paramsSchemas.text_to_video),
			image_to_video: spec(paramsSchemas.image_to_video),
			video_transition: spec(paramsSchemas.video_transition),
			video_extend: spec(paramsSchemas.video_extend),
			fusion: spec(paramsSchemas.fusion)
		},
		inputAssets: pixverseInputAssets,
		mapParameters: mapPixverseParameters,

		async submit(account, operation, mapped) {
			const envelope = await callPixverse(current(), account, { method: 'POST', path: endpoints[operation], json: mapped });
			return { taskId: idFrom(envelope.Resp, 'video_id', envelope), response: envelope };
		},

		async checkStatus(account, taskId): Promise<TaskStatus> {
			const envelope = await callPixverse(current(), account, { method: 'GET', path: `/video/result/${encodeURIComponent(taskId)}` });
			const resp = envelope.Resp;
			switch (resp.status) {
				case 1: {
					if (typeof resp.url !== 'string' || resp.url === '') {
						const error = new ProviderError('transient', 'Pixverse reported success without a result URL', { code: 'no_url', response: envelope });
						return { state: 'failed', error, raw: envelope };
					}
					return { state: 'succeeded', resultUrls: [resp.url], raw: envelope };
				}
				case 5:
					return { state: 'running', raw: envelope };
				case 7: {
					const error = new ProviderError('request', 'Pixverse refused the result in moderation (credits refunded)', {
						code: 'status_7',
						refunded: true,
						response: envelope
					});
					return { state: 'failed', error, raw: envelope };
				}
				case 8: {
					const error = new ProviderError('transient', 'Pixverse failed to generate the video', { code: 'status_8', response: envelope });
					return { state: 'failed', error, raw: envelope };
				}
				default:
					// 2, 3, 6 appear in Pixverse's own client without documentation: keep polling until
					// the deadline, and say what was seen so a new meaning can be learnt from the logs.
					pixverseLog(current()).warn({ account_id: account.id, task_id: taskId, status: resp.status ?? null }, 'pixverse:unknown-status');
					return { state: 'running', raw: envelope };
			}
		},

		async uploadAsset(account, file) {
			const name = path.basename(file.path);
			const form = new FormData();
			if (file.mediaType === 'image') {
				const { size } = await stat(file.path);
				if (size > maxImageBytes) {
					throw new ProviderError('request', `The image is ${(size / 1024 / 1024).toFixed(1)} MB; Pixverse accepts at most 20 MB`, { code: 'image_too_large' });
				}
				form.append('image', await openAsBlob(file.path, { type: file.mime }), name);
				const envelope = await callPixverse(current(), account, { method: 'POST', path: '/image/upload', form, uploadBytes: size });
				return { providerUploadId: idFrom(envelope.Resp, 'img_id', envelope), expiresAt: null };
			}
			const video = await openAsBlob(file.path, { type: file.mime });
			form.append('file', video, name);
			const envelope = await callPixverse(current(), account, { method: 'POST', path: '/media/upload', form, uploadBytes: video.size });
			return { providerUploadId: mediaPrefix + idFrom(envelope.Resp, 'media_id', envelope), expiresAt: null };
		},

		openResult: (_account: AccountContext, url: string): Promise<Readable> => openPixverseResult(url, current().timeoutMs),

		classifyError: classifyPixverseError
	};
}

export const pixverse: Provider = createPixverseProvider(() => pixverseSettings(config()));
