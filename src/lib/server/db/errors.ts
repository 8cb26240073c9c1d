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
