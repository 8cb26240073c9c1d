import { z } from 'zod';
import { isoDate, uuid } from './common';

/** Where a webhook POSTs: an absolute http(s) URL, checked the same way by the API and the form. */
export const webhookUrlField = z
	.string({ error: 'Enter the URL to send events to.' })
	.trim()
	.min(1, 'Enter the URL to send events to.')
	.max(2048, 'The URL is too long (at most 2048 characters).')
	.superRefine((value, ctx) => {
		let url: URL;
		try {
			url = new URL(value);
		} catch {
			ctx.addIssue({ code: 'custom', message: 'Enter a full URL, such as https://example.com/hooks/pixsim7.' });
			return;
		}
		if (url.protocol !== 'https:' && url.protocol !== 'http:') {
			ctx.addIssue({ code: 'custom', message: 'The URL must start with https:// or http://.' });
		} else if (!url.hostname) {
			ctx.addIssue({ code: 'custom', message: 'The URL needs a host name.' });
		}
	});

export const WebhookJson = z
	.object({
		id: uuid,
		url: z.string(),
		active: z.boolean().describe('Inactive webhooks receive no events (a test ping is still sent).'),
		created_at: isoDate,
		updated_at: isoDate,
		last_delivery_at: isoDate.nullable().describe('When the last delivery attempt ended; null before the first.'),
		last_delivery_status: z.number().int().nullable().describe('The HTTP status the receiver answered; null when it did not answer.'),
		last_delivery_error: z.string().nullable().describe('Null after a 2xx answer; else what went wrong.')
	})
	.meta({ id: 'Webhook' });

export const WebhookList = z.object({ items: z.array(WebhookJson) }).meta({ id: 'WebhookList' });

export const CreatedWebhookJson = WebhookJson.extend({
	secret: z
		.string()
		.describe('The signing secret (whsec_…). Returned only here, once: PixSim7 stores it encrypted and never shows it again.')
}).meta({ id: 'CreatedWebhook' });

export const CreateWebhookRequest = z.object({ url: webhookUrlField }).meta({ id: 'CreateWebhookRequest' });

export const UpdateWebhookRequest = z
	.object({
		url: webhookUrlField.optional(),
		active: z.boolean({ error: 'Active is true or false.' }).optional()
	})
	.meta({ id: 'UpdateWebhookRequest' });

export const WebhookTestJson = z
	.object({ delivery_id: uuid.describe('Sent as X-PixSim7-Delivery with the ping.') })
	.meta({ id: 'WebhookTestDelivery' });

export type CreateWebhookInput = z.output<typeof CreateWebhookRequest>;
export type UpdateWebhookInput = z.output<typeof UpdateWebhookRequest>;

// --- The settings page's forms ----------------------------------------------------------------

export const AddWebhookForm = CreateWebhookRequest;

/** The active toggle: a hidden id and the state to set ("true" / "false"). */
export const WebhookActiveForm = z.object({
	id: uuid,
	active: z.enum(['true', 'false'], { error: 'Choose on or off.' }).transform((v) => v === 'true')
});
