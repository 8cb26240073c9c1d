/**
 * Fixed-window attempt counters kept in memory, as in Lucia's SvelteKit example. PixSim7 runs one
 * web process, so memory is the right home; a restart forgets the counts, which only ever helps a
 * legitimate user.
 */
export class AttemptLimiter {
	private windows = new Map<string, { count: number; resetAt: number }>();

	constructor(
		private readonly max: number,
		private readonly windowMs: number,
		private readonly now: () => number = Date.now
	) {}

	/** Counts one attempt. Returns 0 when allowed, else the seconds until the window resets. */
	consume(key: string): number {
		const now = this.now();
		const entry = this.windows.get(key);
		if (!entry || entry.resetAt <= now) {
			this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
			this.sweep(now);
			return 0;
		}
		if (entry.count >= this.max) return Math.max(1, Math.ceil((entry.resetAt - now) / 1000));
		entry.count += 1;
		return 0;
	}

	reset(key: string): void {
		this.windows.delete(key);
	}

	private sweep(now: number): void {
		if (this.windows.size < 10_000) return;
		for (const [key, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(key);
	}
}
