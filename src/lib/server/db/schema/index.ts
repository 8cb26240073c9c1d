export * from './users';
export * from './auth';
export * from './workspaces';
export * from './assets';
export * from './generation';
