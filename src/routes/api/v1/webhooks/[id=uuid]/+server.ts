import { z } from 'zod';
import { UpdateWebhookRequest, WebhookJson } from '$lib/schemas/webhooks';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { webhookJson } from '$lib/server/webhooks/json';
import { deleteWebhook, getWebhook, updateWebhook } from '$lib/server/webhooks/service';

const params = z.object({ id: z.uuid() });

export const _operations = {
	GET: operation({
		summary: 'A webhook',
		description: "One of yours; another user's answers 404. The secret is never returned.",
		tags: ['webhooks'],
		auth: 'user',
		params,
		success: { status: 200, description: 'The webhook', schema: WebhookJson },
		errors: ['not_found']
	}),
	PATCH: operation({
		summary: 'Change a webhook',
		description: 'Its URL, or `active`: an inactive webhook receives no events (those that happen meanwhile are not sent later).',
		tags: ['webhooks'],
		auth: 'user',
		params,
		body: UpdateWebhookRequest,
		success: { status: 200, description: 'The updated webhook', schema: WebhookJson },
		errors: ['not_found']
	}),
	DELETE: operation({
		summary: 'Delete a webhook',
		description: 'Deliveries still waiting for it are dropped.',
		tags: ['webhooks'],
		auth: 'user',
		params,
		success: { status: 204, description: 'Deleted' },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params }) => webhookJson(await getWebhook(db(), user.id, params.id)));

export const PATCH = endpoint(_operations.PATCH, async ({ user, params, body }) => webhookJson(await updateWebhook(db(), user.id, params.id, body)));

export const DELETE = endpoint(_operations.DELETE, async ({ user, params }) => {
	await deleteWebhook(db(), user.id, params.id);
});
