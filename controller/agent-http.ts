// One request to an agent: plain HTTP with the bearer token (loopback agents), or HTTPS with a
// client certificate of the fleet CA, the agent's certificate checked against that CA.
// node:https rather than fetch: Node 20's fetch cannot present a client certificate.
import http from 'node:http';
import https from 'node:https';

export interface ClientTls {
  /** PEM contents, not file names. */
  ca: string;
  cert: string;
  key: string;
}

export interface AgentCredentials {
  token?: string;
  tls?: ClientTls;
}

export interface AgentResponse {
  status: number;
  body: unknown;
}

export function agentRequest(url: URL, o: { method: 'GET' | 'POST'; body?: unknown; creds: AgentCredentials; timeoutMs: number; agent?: http.Agent }): Promise<AgentResponse> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  const headers: Record<string, string> = {
    ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
    ...(o.creds.token ? { authorization: `Bearer ${o.creds.token}` } : {}),
  };
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: o.method,
    headers,
    signal: AbortSignal.timeout(o.timeoutMs),
    ...(o.agent ? { agent: o.agent } : {}),
    ...(secure && o.creds.tls ? { ca: o.creds.tls.ca, cert: o.creds.tls.cert, key: o.creds.tls.key } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = {};
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          body = { message: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
