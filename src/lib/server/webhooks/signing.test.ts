import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { missingIds } from './dispatch';
import { decryptWebhookSecret, encryptWebhookSecret, generateWebhookSecret, signatureHeader } from './signing';

describe('webhook signing', () => {
	it('signs "<t>.<body>" with HMAC-SHA256 of the secret, Stripe-style', () => {
		const at = new Date('2026-12-04T12:00:00Z');
		const body = '{"id":"1","type":"job.created"}';
		const header = signatureHeader('whsec_test', body, at);
		const t = at.getTime() / 1000;
		expect(header).toBe(`t=${t},v1=${createHmac('sha256', 'whsec_test').update(`${t}.${body}`).digest('hex')}`);
		expect(signatureHeader('whsec_other', body, at)).not.toBe(header);
		expect(signatureHeader('whsec_test', body + ' ', at)).not.toBe(header);
	});

	it('makes distinct whsec_ secrets that come back from their encrypted form', () => {
		const a = generateWebhookSecret();
		expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
		expect(generateWebhookSecret()).not.toBe(a);
		const config = loadConfig({ NODE_ENV: 'test', CREDENTIALS_KEY: randomBytes(32).toString('base64') });
		const blob = encryptWebhookSecret(config, a);
		expect(blob).not.toContain(a.slice(6));
		expect(decryptWebhookSecret(config, blob)).toBe(a);
	});
});

describe('missingIds', () => {
	it('lists the ids a read skipped after the cursor', () => {
		expect(missingIds(10, [11, 12, 13])).toEqual([]);
		expect(missingIds(10, [12, 15])).toEqual([11, 13, 14]);
		expect(missingIds(10, [])).toEqual([]);
	});

	it('keeps only the last 1000 of a huge jump', () => {
		const missing = missingIds(0, [1_000_000]);
		expect(missing).toHaveLength(1000);
		expect(missing.at(-1)).toBe(999_999);
	});
});
