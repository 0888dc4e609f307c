// The operator page's stylesheet, served as /page.css: the CSP allows styles from the page's own
// origin only, never inline. Logical properties (inline-start/end) so Arabic reads right to left.

export const PAGE_CSS = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6570; --bg: #ffffff; --panel: #f5f7f9; --line: #d9dee3; --bad: #b3261e; --bad-bg: #fdecea; --ok: #1b7f3b; --accent: #0b63b6; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ec; --muted: #9aa4ae; --bg: #14181c; --panel: #1c2227; --line: #323a41; --bad: #ff8a80; --bad-bg: #3a1f1f; --ok: #7fd99a; --accent: #7cb8ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans Arabic", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; align-items: center; padding: 0.75rem 1.25rem; border-block-end: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 1.15rem; margin: 0; }
nav a, nav span { margin-inline-end: 0.75rem; }
nav .current { font-weight: 600; }
.languages a, .languages span { margin-inline-start: 0.4rem; }
form.search { display: flex; gap: 0.4rem; margin-inline-start: auto; }
form.search input[type=url] { width: min(32rem, 60vw); padding: 0.3rem 0.5rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
form.search button { padding: 0.3rem 0.8rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
main { padding: 0.5rem 1.25rem 2rem; max-width: 90rem; }
section { margin-block: 1.5rem; }
h2 { font-size: 1.1rem; margin-block: 0 0.5rem; }
h3 { font-size: 1rem; margin-block: 0.6rem 0.4rem; }
a { color: var(--accent); }
.muted, .note { color: var(--muted); }
.note { font-size: 0.9rem; }
.status { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; padding: 0.6rem 0.8rem; background: var(--panel); border-radius: 6px; }
.status .ready { color: var(--ok); font-weight: 600; }
.status .not-ready { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: start; padding: 0.3rem 0.5rem; border-block-end: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.number, th.number { text-align: end; font-variant-numeric: tabular-nums; }
.wrap { overflow-x: auto; }
.url { color: var(--muted); font-size: 0.85rem; word-break: break-all; }
tr.failing td { background: var(--bad-bg); }
.state-failing { color: var(--bad); font-weight: 600; }
.state-ok { color: var(--ok); }
.state-new { color: var(--muted); }
.error { color: var(--bad); word-break: break-word; max-width: 28rem; }
svg.plot { width: 100%; height: auto; background: var(--panel); border-radius: 6px; }
svg.plot .grid { stroke: var(--line); stroke-width: 1; }
svg.plot .day { stroke: var(--line); stroke-dasharray: 2 3; }
svg.plot .axis-line { stroke: var(--muted); }
svg.plot .axis { fill: var(--muted); font-size: 11px; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-inline-end: 0.4rem; vertical-align: -0.1rem; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1.5rem; margin-block-start: 0.8rem; }
article.story { padding: 0.6rem 0.8rem; margin-block: 0.8rem; border: 1px solid var(--line); border-radius: 6px; }
article.story h3 { font-size: 1rem; margin: 0 0 0.2rem; }
.badge { display: inline-block; padding: 0 0.4rem; border-radius: 3px; font-size: 0.8rem; background: var(--bad); color: #fff; margin-inline-start: 0.4rem; }
ul.went { margin: 0.4rem 0 0; padding-inline-start: 1.2rem; }
.decision p { margin: 0.2rem 0; white-space: pre-wrap; }
.decision { padding: 0.6rem 0.8rem; background: var(--panel); border-radius: 6px; margin-block: 0.8rem; }
footer { padding: 1rem 1.25rem; color: var(--muted); font-size: 0.85rem; border-block-start: 1px solid var(--line); }
`;
