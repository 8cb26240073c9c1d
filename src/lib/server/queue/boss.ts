/** The one place that knows pg-boss: construction, queue creation, typed sends. */
import { sql } from 'drizzle-orm';
import { fromDrizzle, PgBoss, type SendOptions } from 'pg-boss';
import type { DbOrTx } from '../db/client';
import { isDatabaseUnavailable } from '../db/errors';
import type { Logger } from '../logger';
import { jobDefinitions, jobNames, type JobName, type JobPayload, type QueueOptions } from './jobs';

export type { PgBoss };

/** Each instance's schema, for the statements below that pg-boss's API has no batch form of. */
const schemas = new WeakMap<PgBoss, string>();

export function createBoss(url: string, schema: string, role: 'web' | 'worker'): PgBoss {
	const boss = new PgBoss({
		connectionString: url,
		schema,
		application_name: `pixsim7-${role}`,
		max: role === 'worker' ? 10 : 4,
		// Maintenance and cron belong to the worker; the web process only sends.
		supervise: role === 'worker',
		schedule: role === 'worker',
		// The pass that retries jobs whose worker died (stale heartbeat, see queue/jobs.ts) runs this
		// often, instead of every minute: a killed worker's generation stages resume ~10-20 s later.
		...(role === 'worker' ? { superviseIntervalSeconds: 10, monitorIntervalSeconds: 10 } : {}),
		// Workers listen for queues created with `notify` (queue/jobs.ts): one dedicated connection.
		useListenNotify: role === 'worker'
	});
	schemas.set(boss, schema);
	return boss;
}

/**
 * pg-boss reports its pool's errors as events. A lost connection (the database restarting or
 * shutting down before this process) is a warning in one short line; anything else is an error.
 */
export function logQueueErrors(boss: PgBoss, log: Logger): void {
	boss.on('error', (err: unknown) => {
		const { message, code } = (err ?? {}) as { message?: string; code?: string };
		if (isDatabaseUnavailable(err)) log.warn({ code, err_message: message }, 'queue:connection-lost');
		else log.error({ err }, 'queue:error');
	});
}

/** createQueue must precede send and work (pg-boss 12); it is idempotent. */
export async function ensureQueues(boss: PgBoss): Promise<void> {
	for (const name of jobNames) {
		const def: { retryLimit: number; queue?: QueueOptions } = jobDefinitions[name];
		await boss.createQueue(name, { retryLimit: def.retryLimit, retryBackoff: true, ...def.queue });
	}
}

/**
 * Sends a job. With `tx`, the job is written inside the caller's transaction, so it exists
 * exactly when the rows it is about do (both commit or neither).
 */
export async function enqueue<N extends JobName>(
	boss: PgBoss,
	name: N,
	payload: JobPayload<N>,
	{ tx, ...options }: SendOptions & { tx?: DbOrTx } = {}
): Promise<string | null> {
	const connection = tx ? { db: fromDrizzle(tx, sql) } : {};
	return boss.send(name, jobDefinitions[name].payload.parse(payload) as object, { ...options, ...connection });
}

const connectionOf = (tx?: DbOrTx) => (tx ? { db: fromDrizzle(tx, sql) } : {});

/**
 * Sends a job under a key, or, when one is already waiting under that key, moves it to the new
 * start time instead of adding a second (pg-boss upsert). With `tx`, inside the caller's transaction.
 */
export async function enqueueKeyed<N extends JobName>(
	boss: PgBoss,
	name: N,
	payload: JobPayload<N>,
	{ tx, singletonKey, startAfter, priority }: { tx?: DbOrTx; singletonKey: string; startAfter?: Date; priority?: number }
): Promise<void> {
	await boss.upsert(name, jobDefinitions[name].payload.parse(payload) as object, {
		singletonKey,
		...(startAfter ? { startAfter } : {}),
		...(priority === undefined ? {} : { priority }),
		...connectionOf(tx)
	});
}

/**
 * Makes the jobs waiting under these keys due now, in ONE statement, inside the caller's
 * transaction; answers how many it moved. pg-boss's update() edits one key per statement, and
 * the pipeline wakes about one waiting job per job it runs (npm run bench:jobs ran ~900 of them
 * for 1000 jobs, a statement each). The edit is update()'s when only startAfter changes: the
 * not-yet-active jobs under the keys become due, their retention window sliding with them, and
 * one NOTIFY on pg-boss's channel (queues/jobs.ts `notify`) lets an idle worker fetch at once.
 * Written against pg-boss 12's job table, like its own update statement (plans.updateJob).
 */
export async function wakeKeyedMany(boss: PgBoss, name: JobName, singletonKeys: string[], { tx }: { tx: DbOrTx }): Promise<number> {
	if (singletonKeys.length === 0) return 0;
	const schema = schemas.get(boss);
	if (!schema) throw new Error('wakeKeyedMany needs a pg-boss instance made by createBoss');
	const s = sql.identifier(schema);
	const def: { retryLimit: number; queue?: QueueOptions } = jobDefinitions[name];
	const notify = def.queue?.notify === true;
	const [row] = await tx.execute<{ woken: number }>(sql`
		with woken as (
			update ${s}.job j set start_after = ${s}.job_now(), keep_until = ${s}.job_now() + (j.keep_until - j.start_after)
			where j.name = ${name} and j.state < 'active' and j.singleton_key in (select jsonb_array_elements_text(${JSON.stringify(singletonKeys)}::jsonb))
			returning j.id
		), notified as (
			-- pg-boss's channel for this schema (plans.notifyChannelSql): its workers LISTEN there.
			select pg_notify('pgboss_' || left(encode(sha224(${schema}::bytea), 'hex'), 24), ${name}) from woken where ${notify} limit 1
		)
		select count(*)::int as woken from woken where (select count(*) from notified) >= 0`);
	return row.woken;
}

/**
 * Sends many jobs of one queue in ONE statement (pg-boss insert). A job whose singletonKey already
 * has one waiting is skipped, as send() skips it. With `tx`, inside the caller's transaction.
 */
export async function enqueueMany<N extends JobName>(
	boss: PgBoss,
	name: N,
	items: { payload: JobPayload<N>; singletonKey?: string; startAfter?: Date; priority?: number }[],
	{ tx }: { tx?: DbOrTx } = {}
): Promise<void> {
	if (items.length === 0) return;
	const schema = jobDefinitions[name].payload;
	await boss.insert(
		name,
		items.map((item) => ({
			data: schema.parse(item.payload) as object,
			...(item.singletonKey ? { singletonKey: item.singletonKey } : {}),
			...(item.startAfter ? { startAfter: item.startAfter } : {}),
			...(item.priority === undefined ? {} : { priority: item.priority })
		})),
		connectionOf(tx)
	);
}
