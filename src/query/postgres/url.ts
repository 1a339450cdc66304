// Telling a PostgreSQL URL from a file path, and showing one without its password. No driver here:
// the CLI imports this for every verb.

/** Is `target` a PostgreSQL URL (rather than a SQLite file path)? */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target.trim());
}

/** The URL without its password (and without query parameters, which may carry one), for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url.trim());
    if (u.password) u.password = '***';
    u.search = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@').replace(/\?.*$/, '');
  }
}
