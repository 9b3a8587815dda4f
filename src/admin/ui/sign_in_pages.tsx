/** @jsxImportSource hono/jsx */
/** The first-run setup page and the sign-in page: the two pages that need no session. */
import type { Child } from "hono/jsx";
import { ErrorLine, Shell } from "./layout.tsx";

/** First run: the one-time token `serve` printed, then the account. */
export function SetupPage(): Child {
  return (
    <Shell title="Set up this node">
      <p>
        Create the operator account. The one-time setup token is in the log of this run of{" "}
        <code>pksn serve</code> (the line "Admin setup token").
      </p>
      <form class="stack" data-api="POST /admin/api/setup" data-then="sign-in">
        <label>
          Setup token
          <input name="token" required autocomplete="off" spellcheck={false} />
        </label>
        <label>
          User name
          <input name="username" required autocomplete="username" maxLength={64} />
        </label>
        <label>
          Password (at least 12 characters)
          <input
            name="password"
            type="password"
            required
            minLength={12}
            autocomplete="new-password"
          />
        </label>
        <button type="submit">Create account</button>
        <ErrorLine />
      </form>
    </Shell>
  );
}

/** Sign-in; the API's lock-out message (with its remaining time) shows in the alert line. */
export function LoginPage(): Child {
  return (
    <Shell title="Sign in">
      <form class="stack" data-api="POST /admin/api/login" data-then="go:/admin/">
        <label>
          User name
          <input name="username" required autocomplete="username" maxLength={64} />
        </label>
        <label>
          Password
          <input name="password" type="password" required autocomplete="current-password" />
        </label>
        <button type="submit">Sign in</button>
        <ErrorLine />
      </form>
    </Shell>
  );
}
