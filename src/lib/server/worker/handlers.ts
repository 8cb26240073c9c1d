/**
 * The worker's handler table: one entry per job in queue/jobs.ts. The mapped type makes a
 * missing handler a compile error; startWorker also checks at run time.
 */
import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Logger } from '../logger';
import type { JobName, JobPayload } from '../queue/jobs';
import { purgeExpiredSessions } from '../auth/sessions';
import { rolloverDailyUsage } from '../users/quotas';

export interface HandlerContext {
	db: Db;
	config: Config;
	log: Logger;
}

export type Handler<N extends JobName> = (payload: JobPayload<N>, ctx: HandlerContext) => Promise<Record<string, unknown> | void>;

export const handlers: { [N in JobName]: Handler<N> } = {
	'sessions.purge': async (_payload, { db }) => ({ purged: await purgeExpiredSessions(db) }),
	'usage.rollover': async (_payload, { db, config }) => rolloverDailyUsage(db, config.USAGE_RETENTION_DAYS)
};
