import type { Webhook } from '../db/schema';

/** A webhook as the API and the settings page show it: never its secret. */
export function webhookJson(webhook: Webhook) {
	return {
		id: webhook.id,
		url: webhook.url,
		active: webhook.active,
		created_at: webhook.createdAt.toISOString(),
		updated_at: webhook.updatedAt.toISOString(),
		last_delivery_at: webhook.lastDeliveryAt?.toISOString() ?? null,
		last_delivery_status: webhook.lastDeliveryStatus,
		last_delivery_error: webhook.lastDeliveryError
	};
}

export type WebhookView = ReturnType<typeof webhookJson>;
