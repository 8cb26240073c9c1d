import { randomBytes } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptCredentials } from '../../src/lib/server/accounts/crypto';
import {
	BUILTIN_ACCOUNT_LABEL,
	ensureBuiltinAccounts,
	JobAlreadyHoldsSlotError,
	recordAccountFailure,
	recordRequestFailure,
	recordSuccess,
	recountSlots,
	refundCredits,
	releaseSlot,
	reserveAccount
} from '../../src/lib/server/accounts/pool';
import { connect } from '../../src/lib/server/db/client';
import type { User } from '../../src/lib/server/db/schema';
import { jobs, providerAccounts } from '../../src/lib/server/db/schema';
import { ProviderError } from '../../src/lib/server/providers/types';
import { makeAccount, makeJob, testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let user: User;
let other: User;
const config = testConfig({ ACCOUNT_FAILURES_BEFORE_COOLDOWN: '3', ACCOUNT_FAILURE_WINDOW_SECONDS: '60', ACCOUNT_COOLDOWN_SECONDS: '1' });
const cost = { creditType: 'default', amount: 10 };

beforeAll(async () => {
	t = await createTestDatabase();
	user = (await makeUser(t.db)).user;
	other = (await makeUser(t.db)).user;
});
afterAll(() => t.destroy());

/** Each test uses its own provider id, so accounts made by other tests never compete. */
const newProvider = () => `prov-${randomBytes(4).toString('hex')}`;

async function reserveFor(providerId: string, owner = user, c: typeof cost | null = cost, exclude: string[] = []) {
	const job = await makeJob(t.db, owner.id, { providerId });
	const reserved = await reserveAccount(t.db, config, { id: job.id, ownerId: owner.id, providerId }, c, { excludeAccountIds: exclude });
	return { job, reserved };
}

async function accountRow(id: string) {
	const [row] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, id));
	return row;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('selection order', () => {
	it("prefers the user's private account over a shared one, even a shared one with higher priority", async () => {
		const providerId = newProvider();
		await makeAccount(t.db, { providerId, priority: 10 });
		const mine = await makeAccount(t.db, { providerId, ownerId: user.id, priority: 0 });
		await makeAccount(t.db, { providerId, ownerId: other.id, priority: 99 });

		const { reserved } = await reserveFor(providerId);
		expect(reserved?.account.id).toBe(mine.id);
	});

	it("never picks another user's private account", async () => {
		const providerId = newProvider();
		await makeAccount(t.db, { providerId, ownerId: other.id, maxConcurrentJobs: 5 });
		expect((await reserveFor(providerId)).reserved).toBeNull();
	});

	it('then higher priority, then least recently used (never used first), then more credits', async () => {
		const providerId = newProvider();
		const low = await makeAccount(t.db, { providerId, priority: 1, lastUsedAt: null });
		const highOld = await makeAccount(t.db, { providerId, priority: 5, lastUsedAt: new Date('2026-01-01T00:00:00Z') });
		const highRecent = await makeAccount(t.db, { providerId, priority: 5, lastUsedAt: new Date('2026-06-01T00:00:00Z') });
		const highNever = await makeAccount(t.db, { providerId, priority: 5, lastUsedAt: null, credits: { default: 50 } });
		const highNeverRich = await makeAccount(t.db, { providerId, priority: 5, lastUsedAt: null, credits: { default: 500 } });

		const picked: string[] = [];
		for (let i = 0; i < 5; i++) picked.push((await reserveFor(providerId)).reserved!.account.id);
		expect(picked).toEqual([highNeverRich.id, highNever.id, highOld.id, highRecent.id, low.id]);
	});

	it('skips accounts without enough credits of the cost type, and excluded accounts', async () => {
		const providerId = newProvider();
		const poor = await makeAccount(t.db, { providerId, priority: 9, credits: { default: 5, video: 100 } });
		const excluded = await makeAccount(t.db, { providerId, priority: 8 });
		const fallback = await makeAccount(t.db, { providerId, priority: 0 });

		const { reserved } = await reserveFor(providerId, user, cost, [excluded.id]);
		expect(reserved?.account.id).toBe(fallback.id);
		const video = await reserveFor(providerId, user, { creditType: 'video', amount: 10 });
		expect(video.reserved?.account.id).toBe(poor.id);
	});

	it('never chooses a disabled, exhausted or cooling account', async () => {
		const providerId = newProvider();
		await makeAccount(t.db, { providerId, status: 'disabled', maxConcurrentJobs: 5 });
		await makeAccount(t.db, { providerId, status: 'exhausted', maxConcurrentJobs: 5 });
		await makeAccount(t.db, { providerId, status: 'cooldown', cooldownUntil: new Date(Date.now() + 60_000), maxConcurrentJobs: 5 });
		expect((await reserveFor(providerId)).reserved).toBeNull();
	});

	it('accounts whose credits are not tracked serve any job, and nothing is charged to them', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, credits: null, maxConcurrentJobs: 4 });
		expect((await reserveFor(providerId, user, null)).reserved).not.toBeNull();
		const { job, reserved } = await reserveFor(providerId, user, cost);
		expect(reserved?.account.id).toBe(account.id);
		expect((await accountRow(account.id)).credits).toBeNull();
		const [jobRow] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
		expect(jobRow.creditsCharged).toBeNull();
		await refundCredits(t.db, job.id);
		expect((await accountRow(account.id)).credits).toBeNull();
	});
});

describe('reservation', () => {
	it('takes the slot, deducts the cost and records both on the job, with the decrypted credentials', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, credentials: { api_key: 'sk-secret-1234' } });
		const { job, reserved } = await reserveFor(providerId);

		expect(reserved?.context).toEqual({ id: account.id, credentials: { api_key: 'sk-secret-1234' } });
		const after = await accountRow(account.id);
		expect(after.currentJobs).toBe(1);
		expect(after.credits).toEqual({ default: 90 });
		expect(after.lastUsedAt).not.toBeNull();
		const [jobRow] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
		expect(jobRow).toMatchObject({ accountId: account.id, holdsSlot: true, creditsCharged: { type: 'default', amount: 10 } });
	});

	it('commits its own reservation without waiting for the flush, and nothing else on the connection', async () => {
		const single = connect(t.url, { max: 1 });
		try {
			const providerId = newProvider();
			await makeAccount(t.db, { providerId });
			const job = await makeJob(t.db, user.id, { providerId });
			expect(await reserveAccount(single.db, config, { id: job.id, ownerId: user.id, providerId }, cost)).not.toBeNull();
			const [setting] = await single.db.execute<{ synchronous_commit: string }>(sql`show synchronous_commit`);
			expect(setting.synchronous_commit).toBe('on');
		} finally {
			await single.close();
		}
	});

	it('refuses to reserve for a job that already holds a slot (the slot would leak)', async () => {
		const providerId = newProvider();
		await makeAccount(t.db, { providerId, maxConcurrentJobs: 3 });
		const { job } = await reserveFor(providerId);
		await expect(reserveAccount(t.db, config, { id: job.id, ownerId: user.id, providerId }, cost)).rejects.toThrow(JobAlreadyHoldsSlotError);
		// The failed attempt rolled back: only the first reservation's slot is taken.
		const [row] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.providerId, providerId));
		expect(row.currentJobs).toBe(1);
	});

	it('200 concurrent reservations on 5 accounts × 2 slots never hold more than 10 slots', async () => {
		const providerId = newProvider();
		const accounts = await Promise.all(
			Array.from({ length: 5 }, () => makeAccount(t.db, { providerId, maxConcurrentJobs: 2, credits: { default: 1_000_000 } }))
		);
		const jobRows = await Promise.all(Array.from({ length: 200 }, () => makeJob(t.db, user.id, { providerId })));
		let held = 0;
		let maxHeld = 0;
		let served = 0;
		// Each call that gets a slot holds it a moment and releases it, so later calls can find
		// freed slots while others are still taking theirs.
		await Promise.all(
			jobRows.map(async (job) => {
				const reserved = await reserveAccount(t.db, config, { id: job.id, ownerId: user.id, providerId }, cost);
				if (!reserved) return;
				held++;
				maxHeld = Math.max(maxHeld, held);
				// The database agrees: no account over its limit at any moment we look.
				const over = await t.db
					.select({ id: providerAccounts.id })
					.from(providerAccounts)
					.where(sql`${providerAccounts.providerId} = ${providerId} and ${providerAccounts.currentJobs} > ${providerAccounts.maxConcurrentJobs}`);
				expect(over).toEqual([]);
				await sleep(20);
				held--;
				expect(await releaseSlot(t.db, job.id)).toBe(true);
				served++;
			})
		);
		expect(served).toBeGreaterThanOrEqual(10);
		expect(maxHeld).toBeLessThanOrEqual(10);
		expect(maxHeld).toBeGreaterThan(1);
		const after = await t.db.select().from(providerAccounts).where(inArray(providerAccounts.id, accounts.map((a) => a.id)));
		expect(after.map((a) => a.currentJobs)).toEqual([0, 0, 0, 0, 0]);
		expect(after.reduce((sum, a) => sum + (1_000_000 - a.credits!.default), 0)).toBe(served * 10);
	});

	it('200 concurrent reservations without release: exactly 10 succeed, two per account', async () => {
		const providerId = newProvider();
		await Promise.all(Array.from({ length: 5 }, () => makeAccount(t.db, { providerId, maxConcurrentJobs: 2 })));
		const jobRows = await Promise.all(Array.from({ length: 200 }, () => makeJob(t.db, user.id, { providerId })));
		const results = await Promise.all(
			jobRows.map((job) => reserveAccount(t.db, config, { id: job.id, ownerId: user.id, providerId }, null))
		);
		expect(results.filter(Boolean)).toHaveLength(10);
		const rows = await t.db.select().from(providerAccounts).where(eq(providerAccounts.providerId, providerId));
		expect(rows.map((r) => r.currentJobs)).toEqual([2, 2, 2, 2, 2]);
		const holding = await t.db.select().from(jobs).where(sql`${jobs.providerId} = ${providerId} and ${jobs.holdsSlot}`);
		expect(holding).toHaveLength(10);
	});

	it('credits never go below zero under concurrency, and the last credits mark the account exhausted', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 50, credits: { default: 35 } });
		const jobRows = await Promise.all(Array.from({ length: 20 }, () => makeJob(t.db, user.id, { providerId })));
		const results = await Promise.all(jobRows.map((job) => reserveAccount(t.db, config, { id: job.id, ownerId: user.id, providerId }, cost)));
		expect(results.filter(Boolean)).toHaveLength(3);
		expect((await accountRow(account.id)).credits).toEqual({ default: 5 });

		const exact = await makeAccount(t.db, { providerId: newProvider(), maxConcurrentJobs: 5, credits: { default: 20 } });
		await reserveFor(exact.providerId);
		expect((await accountRow(exact.id)).status).toBe('active');
		await reserveFor(exact.providerId);
		const spent = await accountRow(exact.id);
		expect(spent.credits).toEqual({ default: 0 });
		expect(spent.status).toBe('exhausted');
	});

	it('an account whose credentials no longer decrypt is disabled and the next account is used', async () => {
		const providerId = newProvider();
		const broken = await makeAccount(t.db, {
			providerId,
			priority: 9,
			credentialsEncrypted: encryptCredentials(randomBytes(32), { api_key: 'other key' })
		});
		const good = await makeAccount(t.db, { providerId, priority: 0 });
		const { reserved } = await reserveFor(providerId);
		expect(reserved?.account.id).toBe(good.id);
		const row = await accountRow(broken.id);
		expect(row.status).toBe('disabled');
		expect(row.currentJobs).toBe(0);
		expect(row.lastError).toMatch(/CREDENTIALS_KEY/);
	});
});

describe('concurrent reservations share statements (coalesced batches)', () => {
	const reserveJob = (job: { id: string; ownerId: string; providerId: string }, c: typeof cost | null = cost, db = t.db) =>
		reserveAccount(db, config, { id: job.id, ownerId: job.ownerId, providerId: job.providerId }, c);

	/** Every job of the provider holding a slot, with the account it holds it on. */
	async function holders(providerId: string) {
		return t.db
			.select({ id: jobs.id, accountId: jobs.accountId, creditsCharged: jobs.creditsCharged })
			.from(jobs)
			.where(sql`${jobs.providerId} = ${providerId} and ${jobs.holdsSlot}`);
	}

	it('200 at once on 5 accounts × 2 slots: exactly 10 granted, two per account, each recorded on its job', async () => {
		const providerId = newProvider();
		const accounts = await Promise.all(Array.from({ length: 5 }, () => makeAccount(t.db, { providerId, maxConcurrentJobs: 2 })));
		const jobRows = await Promise.all(Array.from({ length: 200 }, () => makeJob(t.db, user.id, { providerId })));
		const results = await Promise.all(jobRows.map((job) => reserveJob(job)));

		const granted = jobRows.flatMap((job, i) => (results[i] ? [{ jobId: job.id, accountId: results[i].account.id }] : []));
		expect(granted).toHaveLength(10);
		const rows = await t.db.select().from(providerAccounts).where(eq(providerAccounts.providerId, providerId));
		expect(rows.map((r) => r.currentJobs)).toEqual([2, 2, 2, 2, 2]);
		for (const row of rows) expect(row.credits).toEqual({ default: 80 });
		// The job rows say exactly what the callers were told, and nobody else holds anything.
		const held = await holders(providerId);
		expect(new Map(held.map((h) => [h.id, h.accountId]))).toEqual(new Map(granted.map((g) => [g.jobId, g.accountId])));
		for (const h of held) expect(h.creditsCharged).toEqual({ type: 'default', amount: 10 });
		expect(new Set(granted.map((g) => g.accountId))).toEqual(new Set(accounts.map((a) => a.id)));
	});

	it('assigns a burst as the same calls one after another would: own accounts, then priority, round-robin within', async () => {
		// Two identical providers: one served call by call, one by a burst of the same calls.
		const setUp = async () => {
			const providerId = newProvider();
			const accounts = [
				await makeAccount(t.db, { providerId, ownerId: user.id, priority: 0, maxConcurrentJobs: 2 }),
				await makeAccount(t.db, { providerId, priority: 5, maxConcurrentJobs: 3, lastUsedAt: new Date('2026-01-02T00:00:00Z') }),
				await makeAccount(t.db, { providerId, priority: 5, maxConcurrentJobs: 1, lastUsedAt: null, credits: { default: 50 } }),
				await makeAccount(t.db, { providerId, priority: 5, maxConcurrentJobs: 2, lastUsedAt: null, credits: { default: 500 } }),
				await makeAccount(t.db, { providerId, priority: 1, maxConcurrentJobs: 2 }),
				await makeAccount(t.db, { providerId, ownerId: other.id, priority: 99, maxConcurrentJobs: 5 })
			];
			const jobRows = [];
			for (let i = 0; i < 14; i++) jobRows.push(await makeJob(t.db, user.id, { providerId }));
			const picked = (results: (Awaited<ReturnType<typeof reserveJob>> | null)[]) =>
				results.map((r) => (r ? accounts.findIndex((a) => a.id === r.account.id) : null));
			return { jobRows, picked };
		};
		const sequential = await setUp();
		const oneByOne = [];
		for (const job of sequential.jobRows) oneByOne.push(await reserveJob(job));
		const burst = await setUp();
		const atOnce = await Promise.all(burst.jobRows.map((job) => reserveJob(job)));

		// Own account twice, then the priority-5 group round-robin (never used first, richer first,
		// then the one idle longest) until each is full, then priority 1; never the other user's.
		const expected = [0, 0, 3, 2, 1, 3, 1, 1, 4, 4, null, null, null, null];
		expect(sequential.picked(oneByOne)).toEqual(expected);
		expect(burst.picked(atOnce)).toEqual(expected);
	});

	it("owners' bursts at the same time: a private account serves only its owner, shared slots are never over-booked", async () => {
		const providerId = newProvider();
		const mine = await makeAccount(t.db, { providerId, ownerId: user.id, maxConcurrentJobs: 2 });
		const shared = await makeAccount(t.db, { providerId, maxConcurrentJobs: 3 });
		const jobRows = [];
		for (let i = 0; i < 40; i++) jobRows.push(await makeJob(t.db, i % 2 ? other.id : user.id, { providerId }));
		const results = await Promise.all(jobRows.map((job) => reserveJob(job)));

		const got = jobRows.map((job, i) => ({ owner: job.ownerId, account: results[i]?.account.id }));
		expect(got.filter((g) => g.account)).toHaveLength(5);
		expect(got.filter((g) => g.account === mine.id).map((g) => g.owner)).toEqual([user.id, user.id]);
		expect(got.filter((g) => g.account === shared.id)).toHaveLength(3);
		expect((await accountRow(mine.id)).currentJobs).toBe(2);
		expect((await accountRow(shared.id)).currentJobs).toBe(3);
		expect(await holders(providerId)).toHaveLength(5);
	});

	it('a job that already holds a slot fails only its own call; the same job twice in a burst is reserved once', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 10 });
		const holding = await makeJob(t.db, user.id, { providerId });
		expect(await reserveJob(holding)).not.toBeNull();
		const jobRows = await Promise.all(Array.from({ length: 6 }, () => makeJob(t.db, user.id, { providerId })));
		const twice = jobRows[4];
		// The first call runs alone; the others, the holder among them, share the next statement.
		const calls = [jobRows[0], jobRows[1], holding, jobRows[2], jobRows[3], twice, twice, jobRows[5]];
		const settled = await Promise.allSettled(calls.map((job) => reserveJob(job)));

		expect(settled[2].status).toBe('rejected');
		expect(settled[2].status === 'rejected' && settled[2].reason).toBeInstanceOf(JobAlreadyHoldsSlotError);
		// Of the two calls for one job, one reserved it and the other found it holding the slot.
		expect(settled.slice(5, 7).map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
		const others = [0, 1, 3, 4, 7].map((i) => settled[i]);
		for (const s of others) expect(s.status === 'fulfilled' && s.value?.account.id).toBe(account.id);
		expect((await accountRow(account.id)).currentJobs).toBe(7);
		expect(await holders(providerId)).toHaveLength(7);
	});

	it('credits running out inside a burst: the account serves what its credits pay for and is marked exhausted', async () => {
		const providerId = newProvider();
		const poor = await makeAccount(t.db, { providerId, priority: 9, maxConcurrentJobs: 10, credits: { default: 30 } });
		const fallback = await makeAccount(t.db, { providerId, priority: 0, maxConcurrentJobs: 4, credits: { default: 1000 } });
		const jobRows = await Promise.all(Array.from({ length: 12 }, () => makeJob(t.db, user.id, { providerId })));
		const results = await Promise.all(jobRows.map((job) => reserveJob(job)));

		// The first three calls (in call order) take the preferred account's last credits.
		expect(results.map((r) => (r ? (r.account.id === poor.id ? 'poor' : 'fallback') : null))).toEqual([
			'poor', 'poor', 'poor', 'fallback', 'fallback', 'fallback', 'fallback', null, null, null, null, null
		]);
		expect(await accountRow(poor.id)).toMatchObject({ credits: { default: 0 }, status: 'exhausted', currentJobs: 3 });
		expect(await accountRow(fallback.id)).toMatchObject({ credits: { default: 960 }, status: 'active', currentJobs: 4 });
	});

	it('two connection pools (two processes) bursting at once never over-book, and fill every slot', async () => {
		const providerId = newProvider();
		await Promise.all(Array.from({ length: 5 }, () => makeAccount(t.db, { providerId, maxConcurrentJobs: 2 })));
		const jobRows = await Promise.all(Array.from({ length: 300 }, () => makeJob(t.db, user.id, { providerId })));
		const processes = [connect(t.url, { max: 4 }), connect(t.url, { max: 4 })];
		try {
			for (let round = 0; round < 3; round++) {
				const results = await Promise.all(jobRows.map((job, i) => reserveJob(job, cost, processes[i % 2].db)));
				const granted = jobRows.filter((_, i) => results[i]);
				expect(granted).toHaveLength(10);
				const rows = await t.db.select().from(providerAccounts).where(eq(providerAccounts.providerId, providerId));
				expect(rows.map((r) => r.currentJobs)).toEqual([2, 2, 2, 2, 2]);
				expect((await holders(providerId)).map((h) => h.id).sort()).toEqual(granted.map((j) => j.id).sort());
				for (const job of granted) {
					await releaseSlot(t.db, job.id);
					await refundCredits(t.db, job.id);
				}
			}
		} finally {
			await Promise.all(processes.map((p) => p.close()));
		}
	});

	/**
	 * Runs `start` while another transaction holds every account of the provider locked, and lets
	 * go after a moment: the reservations it started all wait for those rows, then run one after
	 * the other, each having taken its snapshot before the others committed.
	 */
	async function whileAccountsLocked<T>(providerId: string, start: () => Promise<T>): Promise<T> {
		let locked!: () => void;
		let unblock!: () => void;
		const isLocked = new Promise<void>((r) => (locked = r));
		const blocker = t.db.transaction(async (tx) => {
			await tx.execute(sql`select id from ${providerAccounts} where ${providerAccounts.providerId} = ${providerId} for update`);
			locked();
			await new Promise<void>((r) => (unblock = r));
		});
		await isLocked;
		const started = start();
		await sleep(100);
		unblock();
		await blocker;
		return started;
	}

	it('a statement that waited for another process assigns from the rows as that one left them', async () => {
		const providerId = newProvider();
		const accounts = [await makeAccount(t.db, { providerId }), await makeAccount(t.db, { providerId })];
		const jobRows = [await makeJob(t.db, user.id, { providerId }), await makeJob(t.db, user.id, { providerId })];
		const processes = [connect(t.url, { max: 1 }), connect(t.url, { max: 1 })];
		try {
			// Both would pick the same (preferred) account from what they saw before waiting; the
			// second must find it full and take the other one, not answer null.
			const results = await whileAccountsLocked(providerId, () =>
				Promise.all(jobRows.map((job, i) => reserveJob(job, cost, processes[i].db)))
			);
			expect(results.map((r) => r?.account.id).sort()).toEqual(accounts.map((a) => a.id).sort());
		} finally {
			await Promise.all(processes.map((p) => p.close()));
		}
	});

	it('the same job reserved by two processes at once gets one slot; the later call is told it holds one', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 5 });
		const job = await makeJob(t.db, user.id, { providerId });
		const processes = [connect(t.url, { max: 1 }), connect(t.url, { max: 1 })];
		try {
			const settled = await whileAccountsLocked(providerId, () =>
				Promise.allSettled(processes.map((p) => reserveJob(job, cost, p.db)))
			);
			expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
			const rejected = settled.find((s) => s.status === 'rejected');
			expect(rejected?.reason).toBeInstanceOf(JobAlreadyHoldsSlotError);
			expect(await accountRow(account.id)).toMatchObject({ currentJobs: 1, credits: { default: 90 } });
		} finally {
			await Promise.all(processes.map((p) => p.close()));
		}
	});

	it('an undecryptable account met inside a burst is disabled, and each of its callers moves on to the next account', async () => {
		const providerId = newProvider();
		const broken = await makeAccount(t.db, {
			providerId,
			priority: 9,
			maxConcurrentJobs: 3,
			credentialsEncrypted: encryptCredentials(randomBytes(32), { api_key: 'other key' })
		});
		const good = await makeAccount(t.db, { providerId, priority: 0, maxConcurrentJobs: 5, credits: { default: 1000 } });
		const jobRows = await Promise.all(Array.from({ length: 5 }, () => makeJob(t.db, user.id, { providerId })));
		const results = await Promise.all(jobRows.map((job) => reserveJob(job)));

		expect(results.map((r) => r?.account.id)).toEqual(jobRows.map(() => good.id));
		expect(await accountRow(broken.id)).toMatchObject({ status: 'disabled', currentJobs: 0, credits: { default: 100 } });
		expect(await accountRow(good.id)).toMatchObject({ currentJobs: 5, credits: { default: 950 } });
	});
});

describe('release and refund', () => {
	it('releases a slot once, however often and however concurrently it is called', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 2 });
		const { job } = await reserveFor(providerId);
		await reserveFor(providerId);
		expect((await accountRow(account.id)).currentJobs).toBe(2);

		const results = await Promise.all(Array.from({ length: 10 }, () => releaseSlot(t.db, job.id)));
		expect(results.filter(Boolean)).toHaveLength(1);
		expect(await releaseSlot(t.db, job.id)).toBe(false);
		expect((await accountRow(account.id)).currentJobs).toBe(1);
		const [jobRow] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
		expect(jobRow.holdsSlot).toBe(false);
	});

	it('a released slot can be taken by the next job', async () => {
		const providerId = newProvider();
		await makeAccount(t.db, { providerId, maxConcurrentJobs: 1 });
		const first = await reserveFor(providerId);
		expect((await reserveFor(providerId)).reserved).toBeNull();
		await releaseSlot(t.db, first.job.id);
		expect((await reserveFor(providerId)).reserved).not.toBeNull();
	});

	it('refunds the charged credits once, and revives an account exhausted by our own count', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 3, credits: { default: 10 } });
		const { job } = await reserveFor(providerId);
		expect(await accountRow(account.id)).toMatchObject({ credits: { default: 0 }, status: 'exhausted' });

		await Promise.all([refundCredits(t.db, job.id), refundCredits(t.db, job.id)]);
		await t.db.transaction((tx) => refundCredits(tx, job.id));
		expect(await accountRow(account.id)).toMatchObject({ credits: { default: 10 }, status: 'active' });
		const [jobRow] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
		expect(jobRow.creditsCharged).toBeNull();
	});

	it('a refund does not revive an account the provider declared exhausted while it still had credits', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 3, credits: { default: 50 } });
		const { job } = await reserveFor(providerId);
		await recordAccountFailure(t.db, config, account.id, new ProviderError('account', 'balance is empty', { exhausted: true }));
		await refundCredits(t.db, job.id);
		expect(await accountRow(account.id)).toMatchObject({ credits: { default: 50 }, status: 'exhausted' });
	});
});

describe('health', () => {
	it('cools down after N account failures within the window and is chosen again once it ends', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 5 });
		const err = new ProviderError('account', 'too many concurrent tasks', { code: 500063 });
		expect(await recordAccountFailure(t.db, config, account.id, err)).toBe('active');
		expect(await recordAccountFailure(t.db, config, account.id, err)).toBe('active');
		expect((await reserveFor(providerId)).reserved).not.toBeNull();
		expect(await recordAccountFailure(t.db, config, account.id, err)).toBe('cooldown');

		const cooling = await accountRow(account.id);
		expect(cooling.cooldownUntil!.getTime()).toBeGreaterThan(Date.now());
		expect(cooling.failureCount).toBe(3);
		expect(cooling.lastError).toBe('too many concurrent tasks');
		expect((await reserveFor(providerId)).reserved).toBeNull();

		await sleep(1100);
		const { reserved } = await reserveFor(providerId);
		expect(reserved?.account.id).toBe(account.id);
		expect(await accountRow(account.id)).toMatchObject({ status: 'active', cooldownUntil: null });
		// The count started over: one more failure does not cool it again.
		expect(await recordAccountFailure(t.db, config, account.id, err)).toBe('active');
	});

	it('failures outside the window do not add up', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId });
		const err = new ProviderError('account', 'unauthorised');
		await recordAccountFailure(t.db, config, account.id, err);
		await recordAccountFailure(t.db, config, account.id, err);
		await t.db
			.update(providerAccounts)
			.set({ recentFailuresSince: sql`now() - interval '61 seconds'` })
			.where(eq(providerAccounts.id, account.id));
		expect(await recordAccountFailure(t.db, config, account.id, err)).toBe('active');
		expect((await accountRow(account.id)).recentFailures).toBe(1);
	});

	it('concurrent failures all count', async () => {
		const account = await makeAccount(t.db, { providerId: newProvider() });
		const many = testConfig({ ACCOUNT_FAILURES_BEFORE_COOLDOWN: '1000' });
		await Promise.all(
			Array.from({ length: 30 }, () => recordAccountFailure(t.db, many, account.id, new ProviderError('account', 'x')))
		);
		expect(await accountRow(account.id)).toMatchObject({ recentFailures: 30, failureCount: 30 });
	});

	it('marks the account exhausted when the provider says the balance is gone', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 5 });
		const status = await recordAccountFailure(t.db, config, account.id, new ProviderError('account', 'insufficient balance', { exhausted: true }));
		expect(status).toBe('exhausted');
		expect((await reserveFor(providerId)).reserved).toBeNull();
	});

	it('a disabled account stays disabled whatever the provider answers', async () => {
		const account = await makeAccount(t.db, { providerId: newProvider(), status: 'disabled' });
		const err = new ProviderError('account', 'x', { exhausted: true });
		expect(await recordAccountFailure(t.db, config, account.id, err)).toBe('disabled');
	});

	it('request failures count against the success rate without cooling down; successes average their durations', async () => {
		const account = await makeAccount(t.db, { providerId: newProvider() });
		for (let i = 0; i < 5; i++) await recordRequestFailure(t.db, account.id, 'prompt rejected by moderation');
		await recordSuccess(t.db, account.id, 30);
		await recordSuccess(t.db, account.id, 60);
		expect(await accountRow(account.id)).toMatchObject({
			status: 'active',
			failureCount: 5,
			successCount: 2,
			avgGenerationSec: 45,
			lastError: 'prompt rejected by moderation'
		});
	});
});

describe('recountSlots', () => {
	it('releases a slot held by a finished job and corrects drifted counters', async () => {
		const providerId = newProvider();
		const account = await makeAccount(t.db, { providerId, maxConcurrentJobs: 3 });
		const finished = await reserveFor(providerId);
		const running = await reserveFor(providerId);
		await t.db.update(jobs).set({ status: 'processing' }).where(eq(jobs.id, running.job.id));
		// A crash between the job ending and its release: the job is done but still holds its slot.
		await t.db.update(jobs).set({ status: 'completed' }).where(eq(jobs.id, finished.job.id));
		const drifted = await makeAccount(t.db, { providerId: newProvider(), currentJobs: 2, maxConcurrentJobs: 2 });

		const { released } = await recountSlots(t.db);
		expect(released).toBeGreaterThanOrEqual(1);
		expect((await accountRow(account.id)).currentJobs).toBe(1);
		expect((await accountRow(drifted.id)).currentJobs).toBe(0);
		const [finishedRow] = await t.db.select().from(jobs).where(eq(jobs.id, finished.job.id));
		expect(finishedRow.holdsSlot).toBe(false);
		// The running job keeps its slot, and releasing it later still works exactly once.
		expect(await releaseSlot(t.db, running.job.id)).toBe(true);
		expect((await accountRow(account.id)).currentJobs).toBe(0);
	});
});

describe('ensureBuiltinAccounts', () => {
	it('gives the local renderer one shared account with LOCAL_PROVIDER_SLOTS slots, however often and concurrently it runs', async () => {
		await Promise.all([ensureBuiltinAccounts(t.db, config), ensureBuiltinAccounts(t.db, config), ensureBuiltinAccounts(t.db, config)]);
		const rows = await t.db.select().from(providerAccounts).where(eq(providerAccounts.providerId, 'local'));
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ label: BUILTIN_ACCOUNT_LABEL, ownerId: null, maxConcurrentJobs: 4, credits: null, status: 'active' });

		await ensureBuiltinAccounts(t.db, testConfig({ LOCAL_PROVIDER_SLOTS: '6' }));
		const [resized] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.providerId, 'local'));
		expect(resized.maxConcurrentJobs).toBe(6);
		// Any user's local job runs under it.
		const { reserved } = await reserveFor('local', other, null);
		expect(reserved?.account.id).toBe(rows[0].id);
		expect(reserved?.context.credentials).toEqual({});
	});
});
