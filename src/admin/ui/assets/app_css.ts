/**
 * The admin pages' stylesheet, served as /admin/assets/app.css; text in a module so every form
 * of the program carries it. System fonts only (nothing is fetched); colours meet WCAG AA
 * contrast on their backgrounds; the layout works from phone width up.
 */
export const APP_CSS = `
:root { --ink: #1b1f24; --muted: #4a5360; --line: #c9ced6; --bg: #ffffff; --panel: #f4f6f8;
  --accent: #0b5cad; --bad: #a4161a; --ok: #1b6e2d; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus {
  outline: 3px solid #f2b600; outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .5rem 1rem;
  background: #10243e; color: #fff; }
.top a { color: #fff; }
.brand { font-weight: 700; font-size: 1.2rem; text-decoration: none; }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem .9rem; list-style: none; margin: 0;
  padding: 0; }
.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
.signout .error { color: #ffd6d6; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 1rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
.card h2 { margin-top: 0; font-size: 1rem; color: var(--muted); }
.figure { font-size: 1.6rem; font-weight: 700; }
.state-fresh, .good { color: var(--ok); font-weight: 700; }
.state-stale, .warn { color: var(--warn); font-weight: 700; }
.state-frozen, .state-unsynced, .bad { color: var(--bad); font-weight: 700; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); }
.table-wrap { overflow-x: auto; }
form.stack { display: grid; gap: .6rem; max-width: 34rem; }
form.inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
form.inline label { min-width: 0; max-width: 100%; flex: 1 1 12rem; }
label > input, label > select, label > textarea { min-width: 0; }
input[type="file"] { width: 100%; }
label { display: grid; gap: .2rem; font-weight: 600; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; }
fieldset label { display: flex; gap: .5rem; align-items: baseline; font-weight: 400; }
.choice { display: grid; grid-template-columns: auto 1fr; gap: .1rem .6rem; align-items: baseline;
  padding: .4rem 0; font-weight: 400; }
.choice small { grid-column: 2; color: var(--muted); }
input, select, textarea, button { font: inherit; }
input, select, textarea { padding: .4rem .5rem; border: 1px solid #6b7480; border-radius: 4px;
  background: #fff; color: var(--ink); max-width: 100%; }
button { padding: .45rem .9rem; border: 1px solid var(--accent); border-radius: 4px;
  background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .6; }
.error { color: var(--bad); font-weight: 600; min-height: 1.5em; margin: 0; }
.note { color: var(--muted); }
.key-box { background: #fff7d6; border: 2px solid #f2b600; padding: .75rem 1rem; border-radius: 6px; }
.key-box code { font-size: 1.1rem; word-break: break-all; }
dialog { max-width: min(48rem, 95vw); border: 1px solid var(--line); border-radius: 8px; }
dialog pre { white-space: pre-wrap; max-height: 60vh; overflow: auto; }
pre.result { background: var(--panel); padding: .75rem; border-radius: 6px; overflow-x: auto; }
.chart { width: 100%; height: auto; max-height: 14rem; background: var(--panel); border-radius: 6px; }
.chart .bar { fill: var(--accent); }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart text { fill: var(--ink); font-size: 11px; }
.mix { display: flex; height: 1.2rem; border-radius: 4px; overflow: hidden; border: 1px solid var(--line); }
.actions { display: flex; flex-wrap: wrap; gap: .4rem; }
details { margin: .25rem 0; }
@media (max-width: 40rem) { .signout { margin-left: 0; } main { padding: .5rem; } }
`;
