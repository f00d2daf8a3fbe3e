-- A key row stays in its heap page uncompressed up to ~8 KB (the default moves or compresses a row past ~2 KB).
-- A create's stored answer carries its signed upload URLs: four S3 presigned URLs make ~2.5 KB, and PostgreSQL
-- compressed every such key row with pglz as it was written (PGlite has no lz4). Measured on this machine with
-- 4-URL answers, CPU per keyed row over a plain one: PGlite +40-47 -> +23-31 µs, PostgreSQL +51 -> +28 µs. The
-- price is disk: such a row takes ~2.6 KB instead of ~0.8 KB, for the 48 h a key is kept (issue 13).
ALTER TABLE "idempotency_key" SET (toast_tuple_target = 8160);
