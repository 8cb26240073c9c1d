import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
	it('applies defaults for an empty environment', () => {
		const cfg = loadConfig({});
		expect(cfg.DATABASE_URL).toBeUndefined();
		expect(cfg.SESSION_TTL_DAYS).toBe(30);
		expect(cfg.QUOTA_STORAGE_BYTES).toBe(10 * 1024 ** 3);
		expect(cfg.dataDir.endsWith('.data')).toBe(true);
	});

	it('treats an empty variable as unset', () => {
		expect(loadConfig({ QUOTA_JOBS_PER_DAY: '' }).QUOTA_JOBS_PER_DAY).toBe(200);
	});

	it('coerces numbers from strings', () => {
		expect(loadConfig({ QUOTA_JOBS_PER_DAY: '12' }).QUOTA_JOBS_PER_DAY).toBe(12);
	});

	it('names the variable when a value is bad', () => {
		expect(() => loadConfig({ SESSION_TTL_DAYS: 'soon' })).toThrow(ConfigError);
		expect(() => loadConfig({ SESSION_TTL_DAYS: 'soon' })).toThrow(/SESSION_TTL_DAYS/);
		expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgres/);
		expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
	});

	it('accepts only a well-formed CREDENTIALS_KEY', () => {
		expect(loadConfig({ CREDENTIALS_KEY: Buffer.alloc(32, 1).toString('base64') }).CREDENTIALS_KEY).toBeDefined();
		expect(() => loadConfig({ CREDENTIALS_KEY: 'short' })).toThrow(/CREDENTIALS_KEY: must be base64 of 32 bytes/);
		expect(loadConfig({}).CREDENTIALS_KEY).toBeUndefined();
	});
});
