import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountJson } from '../../src/lib/server/accounts/json';
import { reserveAccount } from '../../src/lib/server/accounts/pool';
import { createAccount, deleteAccount, getAccount, listAccounts, updateAccount } from '../../src/lib/server/accounts/service';
import { decryptCredentials } from '../../src/lib/server/accounts/crypto';
import { CreateAccountRequest } from '../../src/lib/schemas/accounts';
import { providerAccounts, users, type User } from '../../src/lib/server/db/schema';
import { ConflictError, ForbiddenError, NotFoundError, QuotaExceededError, ValidationError } from '../../src/lib/server/errors';
import { makeJob, TEST_CREDENTIALS_KEY, testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let admin: User;
let alice: User;
let bob: User;
const config = testConfig();
const key = Buffer.from(TEST_CREDENTIALS_KEY, 'base64');

const input = (overrides: Record<string, unknown> = {}) =>
	CreateAccountRequest.parse({ provider_id: 'pixverse', label: 'Main key', credentials: { api_key: 'sk-test-0123456789abcd' }, ...overrides });

beforeAll(async () => {
	t = await createTestDatabase();
	admin = (await makeUser(t.db, { role: 'admin' })).user;
	alice = (await makeUser(t.db)).user;
	bob = (await makeUser(t.db)).user;
});
afterAll(() => t.destroy());

describe('accounts service', () => {
	it('stores credentials encrypted, and the JSON shows only their names and a 4-character hint', async () => {
		const account = await createAccount(t.db, config, alice, input({ credits: { default: 120 } }));
		expect(account.credentialsEncrypted).not.toContain('sk-test');
		expect(decryptCredentials(key, account.credentialsEncrypted)).toEqual({ api_key: 'sk-test-0123456789abcd' });
		const json = accountJson(account, alice, config);
		expect(JSON.stringify(json)).not.toContain('sk-test-0123456789');
		expect(json).toMatchObject({ owner_id: alice.id, shared: false, has_credentials: true, credential_names: ['api_key'], credentials_hint: 'abcd', credits: { default: 120 } });
	});

	it("answers 404 for another user's private account, on every operation", async () => {
		const account = await createAccount(t.db, config, alice, input());
		await expect(getAccount(t.db, bob, account.id)).rejects.toThrow(NotFoundError);
		await expect(updateAccount(t.db, config, bob, account.id, { label: 'mine now' })).rejects.toThrow(NotFoundError);
		await expect(deleteAccount(t.db, bob, account.id)).rejects.toThrow(NotFoundError);
		expect((await listAccounts(t.db, bob)).map((a) => a.id)).not.toContain(account.id);
		// Admins see and manage everyone's.
		expect((await getAccount(t.db, admin, account.id)).id).toBe(account.id);
	});

	it('lets only admins add or change shared accounts; users see them without the hint', async () => {
		await expect(createAccount(t.db, config, alice, input({ shared: true }))).rejects.toThrow(ForbiddenError);
		const shared = await createAccount(t.db, config, admin, input({ shared: true, label: 'Team key' }));
		expect(shared.ownerId).toBeNull();
		expect((await listAccounts(t.db, alice)).map((a) => a.id)).toContain(shared.id);
		await expect(updateAccount(t.db, config, alice, shared.id, { status: 'disabled' })).rejects.toThrow(ForbiddenError);
		await expect(deleteAccount(t.db, alice, shared.id)).rejects.toThrow(ForbiddenError);
		expect(accountJson(shared, alice, config)).toMatchObject({ can_manage: false, credentials_hint: null, has_credentials: true });
	});

	it('refuses an unknown provider and a provider that needs no account', async () => {
		await expect(createAccount(t.db, config, alice, input({ provider_id: 'nope' }))).rejects.toThrow(ValidationError);
		await expect(createAccount(t.db, config, alice, input({ provider_id: 'local' }))).rejects.toThrow(ValidationError);
	});

	it('enforces the private account quota, even for concurrent creates', async () => {
		const { user } = await makeUser(t.db);
		const [limited] = await t.db.update(users).set({ quotaProviderAccounts: 3 }).where(eq(users.id, user.id)).returning();
		const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => createAccount(t.db, config, limited, input({ label: `k${i}` }))));
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
		const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
		expect(refused).toHaveLength(7);
		for (const r of refused) expect(r.reason).toBeInstanceOf(QuotaExceededError);
		const owned = await t.db.select().from(providerAccounts).where(eq(providerAccounts.ownerId, user.id));
		expect(owned).toHaveLength(3);
	});

	it('enables, disables, replaces credentials and credits; enabling ends a cooldown', async () => {
		const account = await createAccount(t.db, config, alice, input({ credits: { default: 5 } }));
		await t.db
			.update(providerAccounts)
			.set({ status: 'cooldown', cooldownUntil: new Date(Date.now() + 60_000), recentFailures: 2 })
			.where(eq(providerAccounts.id, account.id));
		const enabled = await updateAccount(t.db, config, alice, account.id, { status: 'active' });
		expect(enabled).toMatchObject({ status: 'active', cooldownUntil: null, recentFailures: 0 });

		const changed = await updateAccount(t.db, config, alice, account.id, {
			status: 'disabled',
			credentials: { api_key: 'sk-new-key-9999' },
			credits: { default: 300 },
			max_concurrent_jobs: 3,
			priority: 7,
			label: 'Renamed'
		});
		expect(changed).toMatchObject({ status: 'disabled', credits: { default: 300 }, maxConcurrentJobs: 3, priority: 7, label: 'Renamed' });
		expect(decryptCredentials(key, changed.credentialsEncrypted)).toEqual({ api_key: 'sk-new-key-9999' });
	});

	it('new credits revive an account exhausted by spending', async () => {
		const account = await createAccount(t.db, config, alice, input({ credits: { default: 0 } }));
		await t.db.update(providerAccounts).set({ status: 'exhausted' }).where(eq(providerAccounts.id, account.id));
		expect((await updateAccount(t.db, config, alice, account.id, { credits: { default: 50 } })).status).toBe('active');
	});

	it('refuses to delete an account while it runs a job (409), and deletes it after', async () => {
		const account = await createAccount(t.db, config, alice, input({ provider_id: 'pixverse', label: 'Busy' }));
		const job = await makeJob(t.db, alice.id, { providerId: 'pixverse' });
		// Make this the only account the job can use: disable the user's others.
		const reserved = await reserveAccount(t.db, config, { id: job.id, ownerId: alice.id, providerId: 'pixverse' }, null, {
			excludeAccountIds: (await t.db.select({ id: providerAccounts.id }).from(providerAccounts))
				.map((r) => r.id)
				.filter((id) => id !== account.id)
		});
		expect(reserved?.account.id).toBe(account.id);
		await expect(deleteAccount(t.db, alice, account.id)).rejects.toThrow(ConflictError);
		await t.db.update(providerAccounts).set({ currentJobs: 0 }).where(eq(providerAccounts.id, account.id));
		await deleteAccount(t.db, alice, account.id);
		await expect(getAccount(t.db, alice, account.id)).rejects.toThrow(NotFoundError);
	});
});
