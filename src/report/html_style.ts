/** The HTML report's styles (inline: the page fetches nothing). */

export const PAGE_STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin:1.2em 0 .4em}h3{font-size:1em;margin:.8em 0 .2em}
summary{cursor:pointer;padding:2px 0}
.bar{display:inline-block;width:120px;height:10px;background:#e66;vertical-align:middle}
.bar span{display:block;height:100%;background:#3a3}
.pct{display:inline-block;width:4em;text-align:right;font-variant-numeric:tabular-nums}
.n{color:#666;font-size:.9em}.name{display:inline-block;min-width:28em}
table{border-collapse:collapse;margin:.3em 0 .6em 0}td{padding:1px 8px}
.err{color:#a00}.binary{border-top:1px solid #ccc;margin-top:1.5em}
.toolbar{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd;z-index:1}
.toolbar input{width:28em;font:inherit;padding:2px 6px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0}
.facts dt{color:#555}.facts dd{margin:0}
.filetable td.num{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}
.filetable th button{font:inherit;font-weight:bold;border:0;background:none;cursor:pointer;padding:0}
.filetable th[aria-sort=ascending] button::after{content:" ▲"}
.filetable th[aria-sort=descending] button::after{content:" ▼"}
.filetable tr:hover{background:#f4f4f4}.nosrc-mark{color:#888;font-size:.85em}
.filetable{max-height:none}.count{color:#555;margin:.3em 0}.fnhits{margin:.2em 0;columns:2}
.viewer[data-file]{position:fixed;top:3.2em;right:1em;bottom:1em;left:32%;background:#fff;
overflow:auto;border:1px solid #bbb;box-shadow:0 2px 12px #0003;padding:0 1em;z-index:2}
.viewer .close{float:right;margin:.6em 0;font:inherit}.nosrc{color:#a60}.fns{columns:2;margin:.2em 0 .6em}
.src{font:12px/16px ui-monospace,monospace}.src .chunk{content-visibility:auto}.src .line{white-space:pre;height:16px}
.src .ln{display:inline-block;width:4em;color:#999;text-align:right;user-select:none}
.src .ln a{color:inherit;text-decoration:none}
.src .hits{display:inline-block;width:4em;padding-right:6px;margin-right:6px;color:#777;
text-align:right;border-right:1px solid #ddd}
.src .line.target{outline:2px solid #1a5fb4}.src code{font:inherit}
.c0{background:#fbb}.c1{background:#bfb}
.unc .ln{background:#fdd}.cov .ln{background:#dfd}.mix .ln{background:#ffd}
`;
