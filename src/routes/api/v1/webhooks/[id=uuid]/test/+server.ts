import { z } from 'zod';
import { WebhookTestJson } from '$lib/schemas/webhooks';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { boss, db } from '$lib/server/runtime';
import { queueTestPing } from '$lib/server/webhooks/service';

export const _operations = {
	POST: operation({
		summary: 'Send a test ping',
		description:
			'Queues a delivery of type `ping` (`data: {"webhook_id"}`), signed like any event, even to an inactive webhook. Its outcome shows as the webhook\'s last delivery.',
		tags: ['webhooks'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 202, description: 'Queued', schema: WebhookTestJson },
		errors: ['not_found']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, params }) => {
	const { deliveryId } = await queueTestPing(db(), boss(), user.id, params.id);
	return { delivery_id: deliveryId };
});
