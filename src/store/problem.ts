// A database failure in words an operator can act on. The drivers' messages ("attempt to write a
// readonly database", "database disk image is malformed", SQLSTATE 53100) say what broke, not what
// to do; this names the fix. It reads only the errors' codes, so it knows no driver.

/**
 * What to tell the operator about `error`, or null when it is not a database failure we know
 * (then it is ours to fix and keeps its stack). `database` names it: "the SQLite database FILE".
 */
export function storeProblem(error: unknown, database?: string): string | null {
  if (!(error instanceof Error)) return null;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  const said = error.message ? ` (${error.message})` : '';
  if (error.name === 'SqliteError' || code.startsWith('SQLITE_')) return sqliteProblem(code, said, database ?? 'the SQLite database');
  // pg's DatabaseError: a five-character SQLSTATE and a severity.
  if ('severity' in error && /^[0-9A-Z]{5}$/u.test(code)) return postgresProblem(code, said, database ?? 'the PostgreSQL database');
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/u.test(code) || /Connection terminated/u.test(error.message)) {
    return `the database server cannot be reached${said}: check that it runs and that DATABASE_URL points at it; queued alerts are kept and the worker keeps trying`;
  }
  return null;
}

function sqliteProblem(code: string, said: string, database: string): string | null {
  if (code.startsWith('SQLITE_READONLY')) {
    return `${database} cannot be written${said}: make the file, its -wal and -shm files and the directory they are in writable by the user running steppewatch`;
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return `${database} is damaged${said}: stop steppewatch, then restore the file from a backup, or recover its rows with \`sqlite3 FILE .recover\`, or move it aside to start empty`;
  }
  if (code === 'SQLITE_FULL') return `the disk holding ${database} is full${said}: free some space; queued alerts are kept and go out once writes succeed again`;
  if (code.startsWith('SQLITE_IOERR')) return `${database} could not be read or written${said}: check the disk and the file system it is on`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `${database} cannot be opened${said}: check that its directory exists and can be read and written`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return `${database} stayed locked by another process${said}: only one steppewatch should write to one SQLite file at a time (use PostgreSQL for several workers)`;
  }
  // Constraint and SQL errors are ours to fix: they keep their stack.
  return null;
}

function postgresProblem(code: string, said: string, database: string): string | null {
  if (code === '25006') return `${database} accepts no writes${said}: it is a standby or read-only; point DATABASE_URL at the primary`;
  if (code === '53100') return `the PostgreSQL server's disk is full${said}: free some space; queued alerts are kept and go out once writes succeed again`;
  if (code.startsWith('53')) return `the PostgreSQL server is out of resources${said}: check its memory and connection limits`;
  if (code === 'XX001' || code === 'XX002') return `${database} is damaged${said}: restore it from a backup`;
  if (code.startsWith('57P')) return `the PostgreSQL server is shutting down or starting${said}: the worker keeps trying`;
  if (code.startsWith('08')) return `the connection to the PostgreSQL server failed${said}: check the server and the network; the worker keeps trying`;
  if (code === '28P01' || code === '28000') return `the PostgreSQL server refused the login${said}: check the user and password in DATABASE_URL`;
  if (code === '42501') return `the PostgreSQL user may not do this${said}: grant it the rights on the database and schema`;
  return null;
}
