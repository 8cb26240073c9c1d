import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		// Most integration time is spent waiting on PostgreSQL and server processes, not on CPU:
		// three files at a time on two cores halves the run.
		maxWorkers: 3,
		projects: [
			{
				extends: true,
				test: { name: 'unit', include: ['src/**/*.test.ts'], environment: 'node' }
			},
			{
				// Services against a real PostgreSQL, the JSON API over HTTP against the built app,
				// and the worker process. Each suite gets its own database cloned from a template.
				extends: true,
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts', 'tests/http/**/*.test.ts', 'tests/worker/**/*.test.ts'],
					environment: 'node',
					globalSetup: ['tests/support/global-setup.ts'],
					testTimeout: 30_000,
					hookTimeout: 60_000
				}
			}
		]
	}
});
