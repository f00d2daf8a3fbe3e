// The upload baseline of bench/memory: a bare node:http server that streams a PUT body to a file, with no
// signature, slot or size checks. What RoboTrace's upload route costs in memory beyond this is its own.
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env.BARE_UPLOAD_DIR ?? '.';
let n = 0;
const server = createServer((req, res) => {
  pipeline(req, createWriteStream(join(dir, `upload-${++n}.bin`))).then(
    () => res.writeHead(200).end('stored'),
    () => res.writeHead(500).end(),
  );
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`bare upload listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
