/**
 * What a delivery POSTs: `{id, type, created_at, data}`. For an event, `id` is the event's id
 * (the same number the SSE stream sends as its id, here as a string) and `data` is the event's
 * data (the job or the asset summary, as on the stream). A test ping has type `ping`.
 */
import type { EventRow } from '../db/schema';

export interface WebhookEnvelope {
	id: string;
	type: string;
	created_at: string;
	data: Record<string, unknown>;
}

export function eventEnvelope(row: Pick<EventRow, 'id' | 'type' | 'createdAt' | 'data'>): WebhookEnvelope {
	return { id: String(row.id), type: row.type, created_at: row.createdAt.toISOString(), data: row.data };
}

export function pingEnvelope(webhookId: string, deliveryId: string): WebhookEnvelope {
	return { id: `ping-${deliveryId}`, type: 'ping', created_at: new Date().toISOString(), data: { webhook_id: webhookId } };
}

/** One delivery per (webhook, event): the key of its pg-boss job in the `exclusive` queue. */
export function deliverySingletonKey(webhookId: string, envelopeId: string): string {
	return `${webhookId}:${envelopeId}`;
}
