import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from './rate-limit';

describe('AttemptLimiter', () => {
	it('allows max attempts per window, then says how long to wait', () => {
		let now = 1_000_000;
		const limiter = new AttemptLimiter(3, 60_000, () => now);
		expect([limiter.consume('a'), limiter.consume('a'), limiter.consume('a')]).toEqual([0, 0, 0]);
		expect(limiter.consume('a')).toBe(60);
		now += 45_000;
		expect(limiter.consume('a')).toBe(15);
		expect(limiter.consume('b')).toBe(0);
		now += 15_000;
		expect(limiter.consume('a')).toBe(0);
	});

	it('forgets a key on reset', () => {
		const limiter = new AttemptLimiter(1, 60_000);
		limiter.consume('k');
		expect(limiter.consume('k')).toBeGreaterThan(0);
		limiter.reset('k');
		expect(limiter.consume('k')).toBe(0);
	});
});
