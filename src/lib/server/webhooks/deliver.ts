/**
 * One delivery: POST the envelope, signed, to the webhook's URL; record the outcome on the
 * webhook row. A non-2xx answer or no answer throws, and pg-boss retries with backoff
 * (queue/jobs.ts); the delivery id stays the same across retries so a receiver can dedupe.
 * Logged: ids, host, status, timing. Never the secret, the signature or the full URL.
 */
import { eq } from 'drizzle-orm';
import { webhooks } from '../db/schema';
import type { JobPayload } from '../queue/jobs';
import type { HandlerContext } from '../worker/handlers';
import { decryptWebhookSecret, signatureHeader } from './signing';

export const DELIVERY_TIMEOUT_MS = 10_000;
const ERROR_MAX_CHARS = 300;

export class WebhookDeliveryError extends Error {
	override name = 'WebhookDeliveryError';
}

export async function deliverWebhook(
	ctx: Pick<HandlerContext, 'db' | 'config' | 'log' | 'attempt'>,
	{ webhook_id, delivery_id, event }: JobPayload<'webhooks.deliver'>
): Promise<Record<string, unknown>> {
	const { db, config, log, attempt } = ctx;
	const [webhook] = await db.select().from(webhooks).where(eq(webhooks.id, webhook_id));
	// Deleted since, or switched off (a ping is sent anyway: it was asked for by hand).
	if (!webhook || (!webhook.active && event.type !== 'ping')) return { webhook_id, delivery_id, skipped: webhook ? 'inactive' : 'deleted' };

	const body = JSON.stringify(event);
	const host = new URL(webhook.url).host;
	const started = Date.now();
	let status: number | null = null;
	let error: string | null = null;
	try {
		const res = await fetch(webhook.url, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'user-agent': 'PixSim7-Webhooks/1',
				'x-pixsim7-event': event.type,
				'x-pixsim7-delivery': delivery_id,
				'x-pixsim7-signature': signatureHeader(decryptWebhookSecret(config, webhook.secretEncrypted), body)
			},
			body,
			// A redirect is an answer to record, not a place to re-send the signed body to.
			redirect: 'manual',
			signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS)
		});
		status = res.status;
		// The receiver's body is not ours to keep; read it off so the connection can be reused.
		await res.arrayBuffer().catch(() => undefined);
		if (!res.ok) error = `HTTP ${res.status}`;
	} catch (err) {
		error = describeFailure(err);
	}
	const durationMs = Date.now() - started;
	await db
		.update(webhooks)
		.set({ lastDeliveryAt: new Date(), lastDeliveryStatus: status, lastDeliveryError: error })
		.where(eq(webhooks.id, webhook_id));

	const fields = { webhook_id, delivery_id, event_id: event.id, event_type: event.type, host, status, duration_ms: durationMs, attempt: attempt.retryCount + 1 };
	if (error === null) return { ...fields, delivered: true };
	if (attempt.final) log.warn({ ...fields, error }, 'webhook:gave-up');
	else log.info({ ...fields, error }, 'webhook:retrying');
	throw new WebhookDeliveryError(`Webhook delivery failed: ${error}`);
}

function describeFailure(err: unknown): string {
	if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
		return `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s.`;
	}
	if (err instanceof Error && err.name === 'CredentialsDecryptError') return 'The signing secret cannot be read (CREDENTIALS_KEY changed).';
	// fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in its cause.
	const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
	const message = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
	return `Could not connect: ${message}`.slice(0, ERROR_MAX_CHARS);
}
