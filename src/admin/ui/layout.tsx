/** @jsxImportSource hono/jsx */
/**
 * The page shell every admin page shares: one stylesheet and one script from the node itself
 * (the Content-Security-Policy allows nothing else), a navigation of plain links, and the
 * session's CSRF token for the script's API calls.
 */
import type { Child } from "hono/jsx";

/** The pages in the navigation, in its order. */
export const PAGES = [
  ["/admin/", "Dashboard"],
  ["/admin/participation", "KSN participation"],
  ["/admin/licences", "Licences"],
  ["/admin/reputation", "Reputation"],
  ["/admin/sync", "Mirror sync"],
  ["/admin/statistics", "Statistics and samples"],
  ["/admin/audit", "Audit log"],
  ["/admin/system", "System"],
] as const;

/** What a page gives its shell. */
export interface ShellProps {
  title: string;
  /** The signed-in operator; absent on the setup and sign-in pages. */
  session?: { username: string; csrfToken: string };
  /** The navigation entry to mark as current. */
  current?: string;
  /** Seconds between the page refreshing its own content; absent: it does not. */
  refreshSeconds?: number;
  children?: Child;
}

/** The whole HTML document of an admin page. */
export function Shell(props: ShellProps): Child {
  const { session } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · pksn`}</title>
        <link rel="stylesheet" href="/admin/assets/app.css" />
        {session ? <meta name="csrf-token" content={session.csrfToken} /> : null}
        <script src="/admin/assets/app.js" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/admin/">pksn</a>
          {session
            ? (
              <nav aria-label="Main">
                <ul>
                  {PAGES.map(([href, label]) => (
                    <li>
                      <a href={href} aria-current={props.current === href ? "page" : undefined}>
                        {label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            )
            : null}
          {session
            ? (
              <form class="signout" data-api="POST /admin/api/logout" data-then="go:/admin/login">
                <span>{session.username}</span>
                <button type="submit">Sign out</button>
                <p role="alert" class="error"></p>
              </form>
            )
            : null}
        </header>
        <main
          id="main"
          data-refresh={props.refreshSeconds === undefined
            ? undefined
            : String(props.refreshSeconds)}
        >
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A form's error line: the script writes the API's message into it. */
export function ErrorLine(): Child {
  return <p role="alert" class="error"></p>;
}

/** Bytes in the unit that reads best. */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A whole number with thousands separators. */
export function intText(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
