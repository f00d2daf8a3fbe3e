/** Logging episodes the way the SDKs do: create (Bearer key) → PUT to the signed URL → finalize. */

export interface EpisodeInput {
  source: 'real' | 'sim' | 'replay';
  name?: string;
  robot?: string;
  policy_version?: string;
  env_version?: string;
  git_sha?: string;
  seed?: number;
  fps?: number;
  metadata?: Record<string, unknown>;
  otel?: Record<string, string>;
}

export interface FinalizeInput {
  status: 'ready' | 'failed';
  duration_s?: number;
  failure_time_s?: number;
  metadata?: Record<string, unknown>;
}

export async function api(
  baseUrl: string,
  key: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function logEpisode(
  baseUrl: string,
  key: string,
  input: EpisodeInput,
  finalize: FinalizeInput,
  video?: Uint8Array,
): Promise<string> {
  const created = await api(baseUrl, key, '/api/ingest/episode', {
    ...input,
    request_uploads: video ? ['video'] : [],
  });
  if (created.status !== 201)
    throw new Error(`create failed: ${created.status} ${JSON.stringify(created.json)}`);
  const id = String(created.json.episode_id);
  if (video) {
    const [slot] = created.json.upload_urls as { url: string }[];
    const put = await fetch(slot?.url ?? '', {
      method: 'PUT',
      headers: { 'content-type': 'video/mp4' },
      body: Buffer.from(video),
    });
    if (put.status !== 200) throw new Error(`upload failed: ${put.status}`);
  }
  const done = await api(baseUrl, key, `/api/ingest/episode/${id}/finalize`, finalize);
  if (done.status !== 200) throw new Error(`finalize failed: ${done.status} ${JSON.stringify(done.json)}`);
  return id;
}
