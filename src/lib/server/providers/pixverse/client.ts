/**
 * One HTTP call to Pixverse's platform API: the API-KEY and a fresh Ai-trace-id on every request,
 * a timeout on the whole answer, and the {ErrCode, ErrMsg, Resp} envelope unwrapped. Whatever goes
 * wrong comes out as a ProviderError with its class decided and the API key scrubbed from the
 * message and the raw response (they end up in logs and the submission ledger).
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'undici';
import { logger, type Logger } from '../../logger';
import { ProviderError, type AccountContext } from '../types';
import { errCodeError } from './errors';

export interface ClientSettings {
	/** e.g. https://app-api.pixverse.ai/openapi/v2 (no trailing slash needed). */
	baseUrl: string;
	timeoutMs: number;
	/** Where the adapter's events go; default: the process logger. */
	log?: Logger;
}

export interface Envelope {
	ErrCode: number;
	ErrMsg: string;
	Resp: Record<string, unknown>;
}

const defaultLog = logger.child({ provider: 'pixverse' });
export const pixverseLog = (settings: ClientSettings): Logger => settings.log ?? defaultLog;

export function apiKey(account: AccountContext): string {
	const key = account.credentials.api_key;
	if (!key) throw new ProviderError('account', 'This Pixverse account has no api_key in its credentials.', { code: 'no_api_key' });
	return key;
}

/** The value with every occurrence of the secrets replaced, however deep it sits. */
export function scrub<T>(value: T, secrets: string[]): T {
	const live = secrets.filter((s) => s.length >= 4);
	if (live.length === 0) return value;
	const clean = (text: string) => live.reduce((t, s) => t.split(s).join('[redacted]'), text);
	const walk = (v: unknown): unknown => {
		if (typeof v === 'string') return clean(v);
		if (Array.isArray(v)) return v.map(walk);
		if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
		return v;
	};
	return walk(value) as T;
}

/** A network-level failure (refused, reset, DNS, timeout) as a transient ProviderError. */
export function transportError(err: unknown, what: string, timeoutMs: number): ProviderError {
	if (err instanceof ProviderError) return err;
	const name = err instanceof Error ? err.name : '';
	if (name === 'TimeoutError' || name === 'AbortError') {
		return new ProviderError('transient', `${what}: no answer within ${timeoutMs} ms`, { code: 'timeout' });
	}
	// undici names the reason in the error's code (ECONNREFUSED, UND_ERR_SOCKET, ...); fetch
	// said "fetch failed" and kept it in the cause.
	const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
	const code = (cause as { code?: unknown } | null)?.code;
	const reason = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
	return new ProviderError('transient', `${what}: ${reason}`, { code: 'transport' });
}

function isEnvelope(value: unknown): value is Envelope {
	const v = value as Partial<Envelope> | null;
	return !!v && typeof v === 'object' && typeof v.ErrCode === 'number';
}

export async function callPixverse(
	settings: ClientSettings,
	account: AccountContext,
	request: {
		method: 'GET' | 'POST';
		path: string;
		json?: Record<string, unknown>;
		form?: FormData;
		/** Bytes the form carries: the timeout grows by a second per MiB, so a large upload on a slow link is not cut off. */
		uploadBytes?: number;
	}
): Promise<Envelope> {
	const key = apiKey(account);
	const traceId = randomUUID();
	const url = settings.baseUrl.replace(/\/+$/, '') + request.path;
	const what = `Pixverse ${request.method} ${request.path}`;
	const headers: Record<string, string> = { 'API-KEY': key, 'Ai-trace-id': traceId };
	let body: string | FormData | undefined;
	if (request.json) {
		headers['Content-Type'] = 'application/json';
		body = JSON.stringify(request.json);
	} else if (request.form) {
		body = request.form; // fetch sets the multipart boundary itself
	}

	const log = pixverseLog(settings);
	const timeoutMs = settings.timeoutMs + Math.ceil((request.uploadBytes ?? 0) / 1024 / 1024) * 1000;
	const started = performance.now();
	let status: number;
	let text: string;
	try {
		// The timeout covers the body too: a server that sends headers and then stalls is as dead.
		({ status, text } = await send(url, request.method, headers, body, AbortSignal.timeout(timeoutMs)));
	} catch (err) {
		const error = transportError(err, what, timeoutMs);
		log.warn({ account_id: account.id, trace_id: traceId, path: request.path, err_code: error.details.code, ms: Math.round(performance.now() - started) }, 'pixverse:transport-error');
		throw scrubError(error, key);
	}

	const ms = Math.round(performance.now() - started);
	if (status !== 200) {
		log.warn({ account_id: account.id, trace_id: traceId, path: request.path, http_status: status, ms }, 'pixverse:http-error');
		throw scrubError(new ProviderError('transient', `${what}: HTTP ${status}`, { code: `http_${status}`, response: text.slice(0, 2000) }), key);
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		parsed = undefined;
	}
	if (!isEnvelope(parsed)) {
		log.warn({ account_id: account.id, trace_id: traceId, path: request.path, ms }, 'pixverse:bad-envelope');
		throw scrubError(new ProviderError('transient', `${what}: the answer is not a Pixverse envelope`, { code: 'invalid_response', response: text.slice(0, 2000) }), key);
	}
	const envelope = scrub(parsed, [key]);
	log.debug({ account_id: account.id, trace_id: traceId, path: request.path, err_code: envelope.ErrCode, ms }, 'pixverse:call');
	if (envelope.ErrCode !== 0) throw errCodeError(envelope.ErrCode, String(envelope.ErrMsg ?? ''), envelope);
	envelope.Resp ??= {};
	return envelope;
}

/**
 * JSON calls through undici's request, not fetch: the same client (fetch is built on it) without
 * the WHATWG streams and objects around each call. bench:jobs makes three calls a job; fetch cost a
 * worker ~0.25 ms of CPU a call, request ~0.05 (a loopback server, 16 calls in flight). Uploads
 * keep fetch, which streams a FormData of file-backed Blobs as multipart.
 */
async function send(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body: string | FormData | undefined, signal: AbortSignal) {
	if (body instanceof FormData) {
		const response = await fetch(url, { method, headers, body, signal });
		return { status: response.status, text: await response.text() };
	}
	const response = await httpRequest(url, { method, headers, body, signal });
	return { status: response.statusCode, text: await response.body.text() };
}

function scrubError(error: ProviderError, key: string): ProviderError {
	return new ProviderError(error.cls, scrub(error.message, [key]), scrub(error.details, [key]));
}
