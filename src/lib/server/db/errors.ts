/** PostgreSQL's unique_violation, with the constraint or index that was hit. */
export function uniqueViolation(err: unknown): string | null {
	let e: unknown = err;
	// drizzle wraps driver errors; the PostgreSQL error is the cause.
	for (let i = 0; i < 3 && e && typeof e === 'object'; i++) {
		const candidate = e as { code?: unknown; constraint_name?: unknown; cause?: unknown };
		if (candidate.code === '23505') return String(candidate.constraint_name ?? '');
		e = candidate.cause;
	}
	return null;
}

// Connection-level failures from postgres.js and PostgreSQL: the server is down, restarting,
// or the database is gone. Anything else is a bug in a query and stays a 500.
const UNAVAILABLE_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'CONNECTION_CLOSED',
	'CONNECTION_ENDED',
	'CONNECTION_DESTROYED',
	'CONNECT_TIMEOUT',
	'57P01', // admin_shutdown
	'57P02', // crash_shutdown
	'57P03', // cannot_connect_now
	'3D000', // invalid_catalog_name: the database was dropped
	'53300' // too_many_connections
]);

export function isDatabaseUnavailable(err: unknown): boolean {
	let e: unknown = err;
	for (let i = 0; i < 3 && e && typeof e === 'object'; i++) {
		const candidate = e as { code?: unknown; message?: unknown; cause?: unknown };
		if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true;
		// 55000 is broad; only "database ... is not currently accepting connections" means unavailable.
		if (candidate.code === '55000' && String(candidate.message).includes('accepting connections')) return true;
		e = candidate.cause;
	}
	return false;
}
