/** Webhooks service on a real PostgreSQL: owner scoping, the per-user limit, URL rules, and a secret that is shown once and stored encrypted. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCredentials } from '../../src/lib/server/accounts/crypto';
import { CreateWebhookRequest, UpdateWebhookRequest } from '../../src/lib/schemas/webhooks';
import { webhooks, type User } from '../../src/lib/server/db/schema';
import { NotFoundError, QuotaExceededError } from '../../src/lib/server/errors';
import { webhookJson } from '../../src/lib/server/webhooks/json';
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, MAX_WEBHOOKS_PER_USER, updateWebhook } from '../../src/lib/server/webhooks/service';
import { TEST_CREDENTIALS_KEY, testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let alice: User;
let bob: User;
const config = testConfig();
const key = Buffer.from(TEST_CREDENTIALS_KEY, 'base64');

beforeAll(async () => {
	t = await createTestDatabase();
	alice = (await makeUser(t.db)).user;
	bob = (await makeUser(t.db)).user;
});
afterAll(() => t.destroy());

describe('webhooks service', () => {
	it('makes a whsec_ secret, answers it once and stores it only encrypted; list and JSON never show it', async () => {
		const { webhook, secret } = await createWebhook(t.db, config, alice.id, { url: 'https://example.com/hooks/a' });
		expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
		const [row] = await t.db.select().from(webhooks).where(eq(webhooks.id, webhook.id));
		expect(row.secretEncrypted).not.toContain(secret);
		expect(row.secretEncrypted).not.toContain(secret.slice(6));
		expect(decryptCredentials(key, row.secretEncrypted)).toEqual({ secret });
		expect(row).toMatchObject({ ownerId: alice.id, url: 'https://example.com/hooks/a', active: true, lastDeliveryAt: null });

		const listed = (await listWebhooks(t.db, alice.id)).map(webhookJson);
		expect(listed).toHaveLength(1);
		expect(JSON.stringify(listed)).not.toContain(secret.slice(6));
		expect(Object.keys(listed[0])).not.toContain('secret');
		expect(listed[0]).toMatchObject({ id: webhook.id, url: 'https://example.com/hooks/a', active: true, last_delivery_status: null });

		// Two webhooks never share a secret.
		const other = await createWebhook(t.db, config, alice.id, { url: 'http://127.0.0.1:9/other' });
		expect(other.secret).not.toBe(secret);
		await deleteWebhook(t.db, alice.id, other.webhook.id);
	});

	it("answers 404 for another user's webhook on every operation, and leaves it alone", async () => {
		const { webhook } = await createWebhook(t.db, config, alice.id, { url: 'https://example.com/hooks/scoped' });
		await expect(getWebhook(t.db, bob.id, webhook.id)).rejects.toBeInstanceOf(NotFoundError);
		await expect(updateWebhook(t.db, bob.id, webhook.id, { active: false })).rejects.toBeInstanceOf(NotFoundError);
		await expect(deleteWebhook(t.db, bob.id, webhook.id)).rejects.toBeInstanceOf(NotFoundError);
		expect(await listWebhooks(t.db, bob.id)).toEqual([]);
		expect((await getWebhook(t.db, alice.id, webhook.id)).active).toBe(true);

		const updated = await updateWebhook(t.db, alice.id, webhook.id, { active: false, url: 'https://example.com/hooks/moved' });
		expect(updated).toMatchObject({ active: false, url: 'https://example.com/hooks/moved' });
		expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(webhook.updatedAt.getTime());
		await deleteWebhook(t.db, alice.id, webhook.id);
		await expect(getWebhook(t.db, alice.id, webhook.id)).rejects.toBeInstanceOf(NotFoundError);
	});

	it(`refuses the ${MAX_WEBHOOKS_PER_USER + 1}th webhook of a user, even when created all at once`, async () => {
		const carol = (await makeUser(t.db)).user;
		const results = await Promise.allSettled(
			Array.from({ length: MAX_WEBHOOKS_PER_USER + 3 }, (_, i) => createWebhook(t.db, config, carol.id, { url: `https://example.com/hooks/${i}` }))
		);
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(MAX_WEBHOOKS_PER_USER);
		const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
		expect(refused).toHaveLength(3);
		for (const r of refused) {
			expect(r.reason).toBeInstanceOf(QuotaExceededError);
			expect(r.reason).toMatchObject({ status: 429, details: { quota: 'webhooks', limit: MAX_WEBHOOKS_PER_USER } });
		}
		// Someone else's limit is their own.
		await expect(createWebhook(t.db, config, bob.id, { url: 'https://example.com/bob' })).resolves.toBeDefined();
	});

	it('takes only absolute http(s) URLs, with a message for the field', () => {
		const bad: [unknown, RegExp][] = [
			['', /Enter the URL/],
			['   ', /Enter the URL/],
			['example.com/hook', /full URL/],
			['ftp://example.com/hook', /https:\/\/ or http:\/\//],
			['javascript:alert(1)', /https:\/\/ or http:\/\//],
			['file:///etc/passwd', /https:\/\/ or http:\/\//],
			[`https://example.com/${'a'.repeat(2050)}`, /too long/],
			[42, /Enter the URL/]
		];
		for (const [url, message] of bad) {
			const parsed = CreateWebhookRequest.safeParse({ url });
			expect(parsed.success, String(url)).toBe(false);
			expect(parsed.error?.issues[0]).toMatchObject({ path: ['url'] });
			expect(parsed.error?.issues[0].message).toMatch(message);
		}
		expect(CreateWebhookRequest.parse({ url: '  https://hooks.example.com:8443/x?y=1  ' })).toEqual({ url: 'https://hooks.example.com:8443/x?y=1' });
		expect(UpdateWebhookRequest.safeParse({ active: 'yes' }).success).toBe(false);
		expect(UpdateWebhookRequest.safeParse({ url: 'gopher://x' }).success).toBe(false);
	});
});
