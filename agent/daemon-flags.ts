// V8 flags for `nodewright-agent run`, set by the run command before the daemon's modules load.
// A mostly idle daemon gains little from V8's optimizing compiler (reconciles wait on I/O) and
// without it idle RSS is ~8 MiB lower (bench P1). NODE_OPTIONS refuses --no-opt, hence set at runtime.
export const DAEMON_V8_FLAGS = '--no-opt';
