export * from './desired.js';
export * from './bundle.js';
export * from './canonical.js';
export * from './status.js';
