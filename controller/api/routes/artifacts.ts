// Artifacts:
//   POST /v1/artifacts?kind=kubelet-binary&version=V   the file as application/octet-stream (operator; streamed to the store)
//   GET  /v1/artifacts                                 the records (operator)
//   GET  /v1/artifacts/sha256/:sha256                  the blob, streamed (enrolled agents with their pinned certificate, and operators)
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NwError } from '../../../host/errors.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import type { ArtifactRecord } from '../../store/store.js';
import { actorOf, callerOf, pinnedCallerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

const KINDS: ArtifactRecord['kind'][] = ['kubelet-binary'];
const AddQuery = Type.Object(
  { kind: Type.Optional(Type.String({ maxLength: 64 })), version: Type.Optional(Type.String({ maxLength: 128 })) },
  { additionalProperties: false },
);
const BlobParams = Type.Object({ sha256: Type.String({ maxLength: 64 }) });

export function artifactRoutes(artifacts: ArtifactStore) {
  return async function routes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
    // the body stays a stream: the store hashes it on its way to disk (no size limit from bodyLimit)
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

    app.post('/v1/artifacts', { schema: { querystring: AddQuery } }, async (req) => {
      const who = callerOf(req, ctx.operatorRoles);
      const q = req.query as { kind?: string; version?: string };
      if (!KINDS.includes(q.kind as ArtifactRecord['kind'])) throw new NwError('NW_USAGE', `artifact kind must be ${KINDS.join(' or ')}, got ${JSON.stringify(q.kind ?? null)}`);
      if (!q.version) throw new NwError('NW_USAGE', 'the artifact needs --version V');
      if (req.headers['content-type'] !== 'application/octet-stream' || !req.body) throw new NwError('NW_USAGE', 'send the artifact as application/octet-stream');
      const record = await artifacts.add(req.body as NodeJS.ReadableStream, { kind: q.kind as ArtifactRecord['kind'], version: q.version });
      await ctx.store.appendEvent({
        at: ctx.now().toISOString(), actor: actorOf(who), kind: 'artifact.added', subject: `${record.kind}/${record.version}`,
        message: `${record.kind} ${record.version}: sha256 ${record.sha256}, ${record.size} bytes`,
      });
      return record;
    });

    app.get('/v1/artifacts', async (req) => {
      callerOf(req, ctx.operatorRoles);
      return { artifacts: await ctx.store.listArtifacts() };
    });

    app.get('/v1/artifacts/sha256/:sha256', { schema: { params: BlobParams } }, async (req, reply) => {
      await pinnedCallerOf(req, ['agent', ...ctx.operatorRoles], ctx.store); // an agent: only with its pinned certificate
      const blob = await artifacts.open((req.params as { sha256: string }).sha256);
      reply.header('content-type', 'application/octet-stream').header('content-length', String(blob.size));
      return reply.send(blob.stream);
    });
  };
}
