import { CreatedWebhookJson, CreateWebhookRequest, WebhookList } from '$lib/schemas/webhooks';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { webhookJson } from '$lib/server/webhooks/json';
import { createWebhook, listWebhooks, MAX_WEBHOOKS_PER_USER } from '$lib/server/webhooks/service';

const DELIVERY =
	'Each job and asset event of yours (job.created, job.queued, job.started, job.completed, job.failed, job.cancelled, asset.ready, asset.failed; not job.progress) ' +
	'is POSTed as JSON `{"id", "type", "created_at", "data"}` (data as on GET /api/v1/events) with headers `X-PixSim7-Event` (the type), `X-PixSim7-Delivery` (a uuid, the same on retries) and ' +
	'`X-PixSim7-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Answer 2xx within 10 s; anything else is retried with exponential backoff for about 4 hours.';

export const _operations = {
	GET: operation({
		summary: 'List your webhooks',
		description: 'With the outcome of each one\'s last delivery. Secrets are never returned.',
		tags: ['webhooks'],
		auth: 'user',
		success: { status: 200, description: 'Your webhooks, oldest first', schema: WebhookList }
	}),
	POST: operation({
		summary: 'Add a webhook',
		description:
			`An http(s) URL to POST your events to. The answer holds the signing secret, the only time it is shown. At most ${MAX_WEBHOOKS_PER_USER} per user (429 quota_exceeded). ` +
			DELIVERY,
		tags: ['webhooks'],
		auth: 'user',
		body: CreateWebhookRequest,
		success: { status: 201, description: 'Created, with its secret', schema: CreatedWebhookJson },
		errors: ['quota_exceeded']
	})
};

export const GET = endpoint(_operations.GET, async ({ user }) => ({ items: (await listWebhooks(db(), user.id)).map(webhookJson) }));

export const POST = endpoint(_operations.POST, async ({ user, body }) => {
	const { webhook, secret } = await createWebhook(db(), config(), user.id, body);
	return { ...webhookJson(webhook), secret };
});
