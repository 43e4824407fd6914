// Free loopback ports for labs, tests and benchmarks (the OS picks; we never assume a fixed port).
import { createServer } from 'node:net';
export function freePort() {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const port = s.address().port;
            s.close(() => resolve(port));
        });
    });
}
