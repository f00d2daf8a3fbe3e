// The flow baseline of bench/ingest: a bare node:http server doing what the SDK flow needs and nothing else —
// create inserts the episode and its slot row in one transaction and returns an upload URL; the PUT streams the
// body to a file and records its size; finalize updates the status. Same DB kind, schema and file system as
// ours; no auth, validation, signatures or limits. It speaks our wire shapes, so bench/ingest/flow.ts drives both.
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createDb } from '@robotrace/db';
import { sql } from 'drizzle-orm';

const dataDir = process.env.ROBOTRACE_DATA_DIR ?? '.bench-bare-flow';
const files = join(dataDir, 'files');
mkdirSync(files, { recursive: true });
const dbh = process.env.DATABASE_URL
  ? await createDb({ kind: 'postgres', url: process.env.DATABASE_URL })
  : await createDb({ kind: 'pglite', dataDir });
await dbh.migrate();
const projectId = randomUUID();
await dbh.db.execute(sql`insert into project (id, name) values (${projectId}, 'bench-flow')`);
let base = '';

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

const server = createServer(async (req, res) => {
  const send = (status: number, body: unknown) => {
    const out = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  };
  try {
    const url = req.url ?? '';
    if (req.method === 'POST' && url === '/api/ingest/episode') {
      const body = JSON.parse(await readBody(req)) as { source: string; name?: string };
      const id = randomUUID();
      await dbh.db.transaction(async (tx) => {
        await tx.execute(sql`insert into episode (id, project_id, name, source, status, metadata, created_at)
          values (${id}, ${projectId}, ${body.name ?? null}, ${body.source}, 'recording', '{}'::jsonb, now())`);
        await tx.execute(sql`insert into artifact (episode_id, kind, storage_key)
          values (${id}, 'sensors', ${`${projectId}/${id}/sensors`})`);
      });
      send(201, {
        episode_id: id,
        status: 'recording',
        upload_urls: [{ kind: 'sensors', url: `${base}/upload/${id}` }],
      });
    } else if (req.method === 'PUT' && url.startsWith('/upload/')) {
      const id = url.slice('/upload/'.length);
      const file = createWriteStream(join(files, id));
      await pipeline(req, file);
      const size = file.bytesWritten;
      await dbh.db.execute(
        sql`update artifact set size_bytes = ${size}, uploaded_at = now() where episode_id = ${id} and kind = 'sensors'`,
      );
      send(200, { status: 'stored', size_bytes: size });
    } else if (req.method === 'POST' && url.endsWith('/finalize')) {
      const id = url.split('/')[4] ?? '';
      await readBody(req);
      await dbh.db.execute(sql`update episode set status = 'ready', finalized_at = now() where id = ${id}`);
      send(200, { status: 'ready' });
    } else send(404, { error: 'not found' });
  } catch (err) {
    send(500, { error: (err as Error).message });
  }
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  base = `http://127.0.0.1:${port}`;
  process.stdout.write(`bare flow listening on ${base}\n`);
});
process.on('SIGTERM', () => server.close(() => void dbh.close().then(() => process.exit(0))));
