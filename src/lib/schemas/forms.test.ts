import { describe, expect, it } from 'vitest';
import { AdminUserForm } from './forms';

const row = { id: '0b8e4a5e-8f0e-4a53-9c55-1c9f3f1f2f10', role: 'user', jobs_per_day: '', storage_gib: '', provider_accounts: '' };

describe('AdminUserForm', () => {
	it('reads blank quota boxes as "the default" and an absent checkbox as inactive', () => {
		expect(AdminUserForm.parse(row)).toEqual({
			id: row.id,
			patch: { role: 'user', is_active: false, quotas: { jobs_per_day: null, storage_bytes: null, provider_accounts: null } }
		});
	});

	it('turns numbers into quotas and GiB into bytes', () => {
		const parsed = AdminUserForm.parse({ ...row, is_active: 'on', jobs_per_day: ' 7 ', storage_gib: '2.5', provider_accounts: '0' });
		expect(parsed.patch).toEqual({
			role: 'user',
			is_active: true,
			quotas: { jobs_per_day: 7, storage_bytes: 2.5 * 1024 ** 3, provider_accounts: 0 }
		});
	});

	it('refuses what is not a whole, non-negative number, naming the box', () => {
		const result = AdminUserForm.safeParse({ ...row, jobs_per_day: 'lots', provider_accounts: '1.5', storage_gib: '-1' });
		expect(result.success).toBe(false);
		const paths = result.error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
		expect(paths).toEqual(
			expect.arrayContaining([
				['jobs_per_day', 'Enter a whole number.'],
				['provider_accounts', 'Enter a whole number.'],
				['storage_gib', 'Enter 0 or more.']
			])
		);
	});
});
