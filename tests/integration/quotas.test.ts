import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { dailyUsage, users } from '../../src/lib/server/db/schema';
import { consumeDailyJobs, tryConsumeDailyJobs, tryReserveStorage, releaseStorage, utcDay, rolloverDailyUsage } from '../../src/lib/server/users/quotas';
import { QuotaExceededError } from '../../src/lib/server/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => {
	await t.destroy();
});

const defaults = { QUOTA_JOBS_PER_DAY: 7, QUOTA_STORAGE_BYTES: 1000, QUOTA_PROVIDER_ACCOUNTS: 2 };

describe('daily job quota', () => {
	it('accepts exactly the limit when 50 increments race at it', async () => {
		const { user } = await makeUser(t.db);
		const results = await Promise.all(Array.from({ length: 50 }, () => tryConsumeDailyJobs(t.db, user.id, 1, 20)));
		expect(results.filter(Boolean)).toHaveLength(20);
		const [row] = await t.db.select().from(dailyUsage).where(eq(dailyUsage.userId, user.id));
		expect(row).toMatchObject({ day: utcDay(), jobsCreated: 20 });
	});

	it('uses the per-user override before the default and says when the quota is spent', async () => {
		const { user } = await makeUser(t.db);
		const [limited] = await t.db.update(users).set({ quotaJobsPerDay: 2 }).where(eq(users.id, user.id)).returning();
		await consumeDailyJobs(t.db, limited, defaults);
		await consumeDailyJobs(t.db, limited, defaults);
		const err = await consumeDailyJobs(t.db, limited, defaults).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(QuotaExceededError);
		expect(err).toMatchObject({ status: 429, code: 'quota_exceeded' });
	});

	it('refuses a request larger than the whole limit on a fresh day', async () => {
		const { user } = await makeUser(t.db);
		expect(await tryConsumeDailyJobs(t.db, user.id, 8, 7)).toBe(false);
		expect(await t.db.select().from(dailyUsage).where(eq(dailyUsage.userId, user.id))).toHaveLength(0);
	});
});

describe('storage bytes', () => {
	it('never overspends under 50 concurrent reservations, and releases back to zero', async () => {
		const { user } = await makeUser(t.db);
		const results = await Promise.all(Array.from({ length: 50 }, () => tryReserveStorage(t.db, user.id, 100, 1000)));
		expect(results.filter(Boolean)).toHaveLength(10);
		const [after] = await t.db.select().from(users).where(eq(users.id, user.id));
		expect(after.storageBytesUsed).toBe(1000);
		await Promise.all(Array.from({ length: 12 }, () => releaseStorage(t.db, user.id, 100)));
		const [released] = await t.db.select().from(users).where(eq(users.id, user.id));
		expect(released.storageBytesUsed).toBe(0);
	});
});

describe('midnight roll-over', () => {
	it("opens today's row for active users and prunes records past retention", async () => {
		const { user } = await makeUser(t.db);
		await t.db.insert(dailyUsage).values({ userId: user.id, day: '2020-01-01', jobsCreated: 3 });
		const now = new Date('2026-06-01T00:00:05Z');
		const result = await rolloverDailyUsage(t.db, 30, now);
		expect(result.pruned).toBeGreaterThanOrEqual(1);
		const rows = await t.db.select().from(dailyUsage).where(eq(dailyUsage.userId, user.id));
		expect(rows.map((r) => r.day)).toContain('2026-06-01');
		expect(rows.map((r) => r.day)).not.toContain('2020-01-01');
	});
});
