import { describe, expect, it } from 'vitest';
import { bytesToGib, describeUserAgent, formatBytes, formatDateTime } from './format';

describe('format', () => {
	it('names browsers and systems from user agents', () => {
		const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
		const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
		expect(describeUserAgent(chrome)).toBe('Chrome on Linux');
		expect(describeUserAgent(iphone)).toBe('Safari on iOS');
		expect(describeUserAgent('curl/8.5.0')).toBe('curl');
		expect(describeUserAgent('something else')).toBe('Unknown browser');
		expect(describeUserAgent(null)).toBe('Unknown device');
	});

	it('writes sizes in binary units', () => {
		expect(formatBytes(0)).toBe('0 bytes');
		expect(formatBytes(1536)).toBe('1.5 KiB');
		expect(formatBytes(10 * 1024 ** 3)).toBe('10 GiB');
		expect(bytesToGib(2.5 * 1024 ** 3)).toBe('2.5');
	});

	it('shows instants in UTC', () => {
		expect(formatDateTime('2026-01-02T03:04:05Z')).toBe('2 Jan 2026, 03:04 UTC');
		expect(formatDateTime(null)).toBe('Never');
	});
});
