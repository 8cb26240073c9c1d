import { sql } from 'drizzle-orm';
import type { Db } from './db/client';
import { providerOperations } from './providers/catalog';
import type { OperationType } from './providers/types';
import type { PgBoss } from './queue/boss';

export interface Health {
	status: 'healthy' | 'degraded';
	/** Registered providers and what each can do (not whether an account is free). */
	providers: { id: string; operations: OperationType[] }[];
	database: 'ok' | 'unreachable';
	queue: 'ok' | 'unreachable';
}

const within = <T>(ms: number, p: Promise<T>) =>
	Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

export async function checkHealth(db: Db, boss: PgBoss): Promise<Health> {
	const [database, queue] = await Promise.all([
		within(2000, db.execute(sql`select 1`)).then(
			() => 'ok' as const,
			() => 'unreachable' as const
		),
		within(2000, boss.schemaVersion()).then(
			(v) => (v === null ? ('unreachable' as const) : ('ok' as const)),
			() => 'unreachable' as const
		)
	]);
	return { status: database === 'ok' && queue === 'ok' ? 'healthy' : 'degraded', providers: providerOperations(), database, queue };
}
