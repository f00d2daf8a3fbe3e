// The baseline: a bare node:http server doing the same single-row episode insert on the same kind of DB
// (same schema and migrations), with no validation, auth, or framework. `bench/ingest/run.ts` starts it.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createDb } from '@robotrace/db';
import { sql } from 'drizzle-orm';

const port = Number(process.env.PORT ?? 0);
const dbh = process.env.DATABASE_URL
  ? await createDb({ kind: 'postgres', url: process.env.DATABASE_URL })
  : await createDb({ kind: 'pglite', dataDir: process.env.ROBOTRACE_DATA_DIR ?? '.bench-baseline' });
await dbh.migrate();
const projectId = randomUUID();
await dbh.db.execute(sql`insert into project (id, name) values (${projectId}, 'bench')`);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      source: string;
      name?: string;
      metadata?: object;
    };
    const id = randomUUID();
    await dbh.db.execute(
      sql`insert into episode (id, project_id, name, source, status, metadata, created_at)
          values (${id}, ${projectId}, ${body.name ?? null}, ${body.source}, 'recording', ${JSON.stringify(body.metadata ?? {})}::jsonb, now())`,
    );
    const out = JSON.stringify({ episode_id: id, status: 'recording' });
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`baseline listening on http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => void dbh.close().then(() => process.exit(0))));
