/**
 * Streams a Pixverse result file. The link is a short-lived URL on Pixverse's CDN, so the API-KEY
 * is not sent to it. The timeout bounds the wait for an answer and then every silence between two
 * chunks: a CDN that stops sending mid-file fails the download (transient) instead of holding the
 * worker and the account's slot until the job's own expiry.
 */
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ProviderError } from '../types';
import { transportError } from './client';

const what = 'Pixverse result download';

export async function openPixverseResult(url: string, timeoutMs: number): Promise<Readable> {
	const abort = new AbortController();
	let timer = setTimeout(() => abort.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
	let response: Response;
	try {
		response = await fetch(url, { signal: abort.signal });
	} catch (err) {
		clearTimeout(timer);
		throw transportError(err, what, timeoutMs);
	}
	clearTimeout(timer);
	if (response.status !== 200 || !response.body) {
		await response.body?.cancel().catch(() => {});
		throw new ProviderError('transient', `${what}: HTTP ${response.status}`, { code: `http_${response.status}` });
	}

	const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
	const guarded = new Transform({
		transform(chunk: Buffer, _encoding, done) {
			arm();
			done(null, chunk);
		},
		flush(done) {
			clearTimeout(timer);
			done();
		}
	});
	function arm() {
		clearTimeout(timer);
		timer = setTimeout(() => {
			guarded.destroy(new ProviderError('transient', `${what}: no data for ${timeoutMs} ms`, { code: 'timeout' }));
			abort.abort();
		}, timeoutMs);
	}
	arm();
	// A reset mid-file reaches the reader as a transient ProviderError, not as fetch's bare "terminated".
	body.on('error', (err) => {
		clearTimeout(timer);
		if (!guarded.destroyed) guarded.destroy(transportError(err, what, timeoutMs));
	});
	guarded.on('close', () => {
		clearTimeout(timer);
		if (!body.destroyed) body.destroy();
	});
	body.pipe(guarded);
	return guarded;
}
