import { expect, test } from '@playwright/test';
import { contextWithSession, registerViaApi, section, uniqueUser } from './support/app';

for (const javaScriptEnabled of [true, false]) {
	test(`a webhook is added on the settings page, its secret shown once, and deleted (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async ({
		browser,
		request
	}) => {
		const context = await contextWithSession(browser, await registerViaApi(request, uniqueUser('hooks')), { javaScriptEnabled });
		const page = await context.newPage();
		await page.goto('/settings');
		const hooks = section(page, 'Webhooks');
		await expect(hooks).toContainText('You have no webhooks.');

		const url = hooks.getByLabel('Webhook URL');
		await url.fill('ftp://example.com/in');
		await hooks.getByRole('button', { name: 'Add webhook' }).click();
		await expect(section(page, 'Webhooks').getByLabel('Webhook URL')).toHaveAccessibleDescription(/must start with https:\/\/ or http:\/\//);

		await section(page, 'Webhooks').getByLabel('Webhook URL').fill('https://hooks.example.com/pixsim7');
		await section(page, 'Webhooks').getByRole('button', { name: 'Add webhook' }).click();
		const secret = section(page, 'Webhooks').getByLabel('New webhook secret');
		await expect(secret).toHaveValue(/^whsec_/);
		const value = await secret.inputValue();
		await expect(section(page, 'Webhooks')).toContainText('It will not be shown again');
		const list = section(page, 'Webhooks').getByRole('list', { name: 'Your webhooks' });
		await expect(list).toContainText('https://hooks.example.com/pixsim7');
		await expect(list).toContainText('Active');
		await expect(list).toContainText('None yet');

		// Once: a fresh load of the page has the webhook but not its secret.
		await page.goto('/settings');
		await expect(section(page, 'Webhooks').getByLabel('New webhook secret')).toHaveCount(0);
		expect(await page.content()).not.toContain(value);

		await section(page, 'Webhooks').getByRole('button', { name: /^Pause/ }).click();
		await expect(section(page, 'Webhooks').getByRole('list', { name: 'Your webhooks' })).toContainText('Paused');

		await section(page, 'Webhooks').getByRole('button', { name: /^Delete/ }).click();
		await expect(section(page, 'Webhooks')).toContainText('Webhook deleted.');
		await expect(section(page, 'Webhooks')).toContainText('You have no webhooks.');
		await context.close();
	});
}
