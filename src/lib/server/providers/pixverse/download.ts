/**
 * Streams a Pixverse result file. The link is a short-lived URL on Pixverse's CDN, so the API-KEY
 * is not sent to it. The timeout bounds the wait for an answer and then every silence between two
 * chunks: a CDN that stops sending mid-file fails the download (transient) instead of holding the
 * worker and the account's slot until the job's own expiry.
 */
import { Transform, type Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ProviderError } from '../types';
import { transportError } from './client';

const what = 'Pixverse result download';

export async function openPixverseResult(url: string, timeoutMs: number): Promise<Readable> {
	const abort = new AbortController();
	let timer = setTimeout(() => abort.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
	let response: Dispatcher.ResponseData;
	try {
		// undici's request: its body is already a Node stream (fetch's needed a conversion).
		response = await request(url, { signal: abort.signal });
	} catch (err) {
		clearTimeout(timer);
		throw transportError(err, what, timeoutMs);
	}
	clearTimeout(timer);
	if (response.statusCode !== 200) {
		await response.body.dump().catch(() => {});
		throw new ProviderError('transient', `${what}: HTTP ${response.statusCode}`, { code: `http_${response.statusCode}` });
	}

	const body: Readable = response.body;
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
