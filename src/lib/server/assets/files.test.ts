import { describe, expect, it } from 'vitest';
import { parseRange } from './files';

describe('parseRange', () => {
	it('reads a closed, an open and a suffix range, clamped to the file', () => {
		expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
		expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
		expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
		expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
		expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
	});

	it('says unsatisfiable past the end or for an empty suffix', () => {
		expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
		expect(parseRange('bytes=200-300', 100)).toBe('unsatisfiable');
		expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
		expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
	});

	it('ignores what it does not serve: no header, bad syntax, several ranges, other units', () => {
		expect(parseRange(null, 100)).toBeNull();
		expect(parseRange('bytes=5-2', 100)).toBeNull();
		expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
		expect(parseRange('items=0-1', 100)).toBeNull();
		expect(parseRange('bytes=-', 100)).toBeNull();
	});
});
