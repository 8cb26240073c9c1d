/**
 * The drizzle client's statements (db/client.ts `preparing`): a statement text used again runs as
 * a named prepared statement on its connection, one used once does not, and transactions (with
 * their savepoints) get the same client and still commit and roll back as before.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/lib/server/db/client';
import { users } from '../../src/lib/server/db/schema';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let one: Database;

beforeAll(async () => {
	t = await createTestDatabase();
	// One connection, so pg_prepared_statements (per session) sees everything this client prepared.
	one = connect(t.url, { max: 1 });
});
afterAll(async () => {
	await one?.close();
	await t?.destroy();
});

const preparedTexts = async (db: Database['db'], like: string) =>
	(await db.execute<{ statement: string }>(sql`select statement from pg_prepared_statements where statement like ${like}`)).map((r) => r.statement);

describe('the drizzle client', () => {
	it('prepares a statement text from its second use on, and never a text used once', async () => {
		const { user } = await makeUser(t.db);
		const lookup = () => one.db.select({ id: users.id }).from(users).where(eq(users.id, user.id));
		expect(await lookup()).toEqual([{ id: user.id }]);
		expect(await preparedTexts(one.db, '%from "users" where "users"."id"%')).toEqual([]);
		expect(await lookup()).toEqual([{ id: user.id }]);
		expect(await lookup()).toEqual([{ id: user.id }]);
		expect(await preparedTexts(one.db, '%from "users" where "users"."id"%')).toHaveLength(1);

		await one.db.execute(sql`select ${'once'}::text as marker_used_once`);
		expect(await preparedTexts(one.db, '%marker_used_once%')).toEqual([]);
	});

	it('keeps transactions and savepoints whole: a rolled-back savepoint undoes only its part', async () => {
		const { user } = await makeUser(t.db);
		const setQuota = (db: Pick<Database['db'], 'update'>, quota: number) => db.update(users).set({ quotaJobsPerDay: quota }).where(eq(users.id, user.id));
		await one.db.transaction(async (tx) => {
			await setQuota(tx, 1);
			await tx
				.transaction(async (inner) => {
					await setQuota(inner, 2);
					throw new Error('roll back the savepoint');
				})
				.catch(() => {});
		});
		await one.db
			.transaction(async (tx) => {
				await setQuota(tx, 3);
				throw new Error('roll back the transaction');
			})
			.catch(() => {});
		const [row] = await one.db.select({ quota: users.quotaJobsPerDay }).from(users).where(eq(users.id, user.id));
		expect(row.quota).toBe(1);
	});
});
