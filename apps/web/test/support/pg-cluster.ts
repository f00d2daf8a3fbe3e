import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';

export { pgBinDir } from '../../../../test/support/postgres.js';

/**
 * A throwaway PostgreSQL cluster that checks passwords the way a real server does: TCP connections need a role's
 * password (scram-sha-256), and only the superuser's socket is trusted — what an operator finds after
 * `apt-get install postgresql`. The default test cluster trusts every connection, so a wrong password would pass there.
 */
export type PasswordPostgres = TestPostgres;

export function startPasswordPostgres(): Promise<PasswordPostgres> {
  return startPostgres({ passwords: true });
}
