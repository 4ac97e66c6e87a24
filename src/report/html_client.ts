/**
 * The HTML report's own script (inline; it fetches nothing): per binary a sortable file table
 * with a level filter, one search box over files and functions, the source view of a file
 * (rendered when opened: covered and uncovered statements painted from the block spans, Go's
 * 1-based byte columns mapped to characters, the largest count per line) and deep links
 * `#<file>/<line>` (or `#<hash 12>/<file>/<line>` for one binary of several) and
 * `#search=<text>&level=<level>`. Every name and source text is put in the page with
 * `textContent` (shown as text, controls written visibly), never as markup. When it is done,
 * `<body data-ready-ms>` holds the time since navigation began and `data-script-ms` the script's
 * own (the bench reads them).
 */

import { SOURCE_VIEW_SCRIPT } from "./html_source_view.ts";

/** Levels of the filter: value, label (the page's `<select>`). */
export const LEVELS: [string, string][] = [
  ["all", "all levels"],
  ["zero", "0 % covered"],
  ["low", "under 50 %"],
  ["mid", "50 % to under 80 %"],
  ["high", "80 % and over"],
  ["full", "100 %"],
];

/** The script, as it goes into `<script>` (it holds no `</` and no `<!--`: a test checks). */
export const CLIENT_SCRIPT = String.raw`
(function () {
  "use strict";
  var began = performance.now();
  var data = JSON.parse(document.getElementById("cc-data").textContent);
  var UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
  function vis(s) {
    return s.replace(UNSAFE, function (c) {
      var n = c.charCodeAt(0);
      return n >= 256 ? "\\u{" + n.toString(16) + "}" : "\\x" + (n >= 16 ? "" : "0") + n.toString(16);
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function level(s, c) {
    var p = s === 0 ? 0 : c / s;
    if (c === 0) return "zero";
    return p >= 0.8 ? "high" : p >= 0.5 ? "mid" : "low";
  }
  function levelOk(want, s, c) {
    if (want === "all") return true;
    if (want === "full") return c === s && s > 0;
    return level(s, c) === want;
  }
  function link(bi, file, line) {
    var pre = data.binaries.length > 1 ? data.binaries[bi].hash.slice(0, 12) + "/" : "";
    return "#" + pre + encodeURIComponent(file).replace(/%2F/g, "/") + "/" + line;
  }
  function bar(s, c, p) {
    var b = el("span", "bar");
    var f = el("span");
    f.style.width = (s === 0 ? 0 : (100 * c) / s).toFixed(1) + "%";
    b.appendChild(f);
    var w = el("span");
    w.appendChild(b);
    w.appendChild(document.createTextNode(" " + p + "%"));
    return w;
  }

  // One table per binary.
  var tables = data.binaries.map(function (b, bi) {
    var box = document.querySelector('.files[data-binary="' + bi + '"]');
    var t = { bi: bi, rows: [], key: "file", asc: true, box: box };
    var table = el("table", "filetable");
    var head = el("tr");
    [["file", "File"], ["s", "Statements"], ["c", "Covered"], ["p", "%"]].forEach(function (h) {
      var th = el("th");
      var btn = el("button", "sort", h[1]);
      btn.type = "button";
      btn.setAttribute("data-key", h[0]);
      btn.addEventListener("click", function () {
        t.asc = t.key === h[0] ? !t.asc : h[0] === "file";
        t.key = h[0];
        sortTable(t);
      });
      th.appendChild(btn);
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    t.body = el("tbody");
    b.files.forEach(function (f, fi) {
      var tr = el("tr", "file");
      tr.setAttribute("data-file", vis(f.f));
      tr.setAttribute("data-statements", String(f.s));
      tr.setAttribute("data-covered", String(f.c));
      tr.setAttribute("data-percent", f.p);
      tr.setAttribute("data-level", level(f.s, f.c));
      var td = el("td", "fname");
      var a = el("a", "", vis(f.f));
      a.href = link(bi, f.f, 1);
      td.appendChild(a);
      if (f.src === null) td.appendChild(el("span", "nosrc-mark", " (no source)"));
      tr.appendChild(td);
      tr.appendChild(el("td", "num", String(f.s)));
      tr.appendChild(el("td", "num", String(f.c)));
      var pc = el("td", "num pct");
      pc.appendChild(bar(f.s, f.c, f.p));
      tr.appendChild(pc);
      t.rows.push({ tr: tr, f: f, fi: fi, name: f.f.toLowerCase() });
      t.body.appendChild(tr);
    });
    table.appendChild(t.body);
    t.count = el("p", "count");
    t.hits = el("ul", "fnhits");
    box.appendChild(t.count);
    box.appendChild(t.hits);
    box.appendChild(table);
    t.viewer = document.querySelector('.viewer[data-binary="' + bi + '"]');
    return t;
  });

  function sortTable(t) {
    var k = t.key, dir = t.asc ? 1 : -1;
    t.rows.sort(function (x, y) {
      var a, b;
      if (k === "file") { a = x.f.f; b = y.f.f; }
      else if (k === "p") { a = x.f.s ? x.f.c / x.f.s : 0; b = y.f.s ? y.f.c / y.f.s : 0; }
      else { a = x.f[k]; b = y.f[k]; }
      return (a < b ? -1 : a > b ? 1 : x.fi - y.fi) * dir;
    });
    t.rows.forEach(function (r) { t.body.appendChild(r.tr); });
    t.box.querySelectorAll("button.sort").forEach(function (btn) {
      var on = btn.getAttribute("data-key") === k;
      btn.parentNode.setAttribute("aria-sort", on ? (t.asc ? "ascending" : "descending") : "none");
    });
  }

  var search = document.getElementById("cc-search");
  var levelSel = document.getElementById("cc-level");
  var MAX_HITS = 100;
  function applyFilter() {
    var q = search.value.trim().toLowerCase(), want = levelSel.value;
    tables.forEach(function (t) {
      var shown = 0, hits = 0;
      t.hits.textContent = "";
      t.rows.forEach(function (r) {
        var fnHit = false;
        if (q !== "") {
          r.f.fns.forEach(function (fn) {
            if (fn[0].toLowerCase().indexOf(q) < 0) return;
            fnHit = true;
            if (++hits > MAX_HITS) return;
            var li = el("li", "fnhit");
            var a = el("a", "", vis(fn[0]));
            a.href = link(t.bi, r.f.f, fn[1]);
            li.appendChild(a);
            li.appendChild(el("span", "n", " " + vis(r.f.f) + ":" + fn[1] + " " + fn[3] + "/" + fn[2] + " " + fn[4] + "%"));
            t.hits.appendChild(li);
          });
        }
        var ok = (q === "" || r.name.indexOf(q) >= 0 || fnHit) && levelOk(want, r.f.s, r.f.c);
        r.tr.hidden = !ok;
        if (ok) shown++;
      });
      if (hits > MAX_HITS) t.hits.appendChild(el("li", "n", "… " + (hits - MAX_HITS) + " more functions"));
      t.count.textContent = shown + " of " + t.rows.length + " files shown" +
        (q !== "" ? ", " + hits + " functions match" : "");
      t.box.setAttribute("data-shown", String(shown));
    });
  }
  search.addEventListener("input", applyFilter);
  levelSel.addEventListener("change", applyFilter);

  // The source view: src/report/html_source_view.ts.
  ${SOURCE_VIEW_SCRIPT}

  var current = null;
  function openFile(bi, fi, line) {
    var t = tables[bi], f = data.binaries[bi].files[fi];
    tables.forEach(function (o) {
      if (o !== t) { o.viewer.textContent = ""; o.viewer.removeAttribute("data-file"); }
    });
    if (!current || current.bi !== bi || current.fi !== fi) {
      current = { bi: bi, fi: fi, f: f };
      var v = t.viewer;
      v.textContent = "";
      v.setAttribute("data-file", vis(f.f));
      var close = el("button", "close", "close");
      close.type = "button";
      close.addEventListener("click", function () {
        v.textContent = "";
        v.removeAttribute("data-file");
        current = null;
        history.replaceState(null, "", location.pathname + location.search);
      });
      v.appendChild(close);
      v.appendChild(el("h3", "", vis(f.f)));
      var fig = el("p", "figures", f.c + " of " + f.s + " statements covered (" + f.p + "%), package " + vis(f.pkg));
      fig.setAttribute("data-statements", String(f.s));
      fig.setAttribute("data-covered", String(f.c));
      v.appendChild(fig);
      if (f.fns.length > 0) {
        var fl = el("ul", "fns");
        f.fns.forEach(function (fn) {
          var li = el("li");
          var a = el("a", "", vis(fn[0]));
          a.href = link(bi, f.f, fn[1]);
          li.appendChild(a);
          li.appendChild(el("span", "n", " line " + fn[1] + ": " + fn[3] + "/" + fn[2] + " (" + fn[4] + "%)"));
          fl.appendChild(li);
        });
        v.appendChild(fl);
      }
      if (f.src === null) {
        v.appendChild(el("p", "nosrc", "Source not shown: " + vis(f.why)));
      } else {
        var r = renderSource(sourceText(f.src), f.bl, function (n) { return link(bi, f.f, n); });
        if (r.cut) v.appendChild(el("p", "nosrc", "Highlighting stopped early: the blocks span far more than the file."));
        v.appendChild(r.table);
      }
    }
    var rows = t.viewer.querySelectorAll(".line.target");
    rows.forEach(function (r) { r.classList.remove("target"); });
    var row = t.viewer.querySelector('div.line[data-line="' + line + '"]');
    // The viewer is a panel of its own (fixed, scrolled inside): the page stays where it was.
    if (row) {
      row.classList.add("target");
      t.viewer.scrollTop = Math.max(0, row.offsetTop - t.viewer.clientHeight / 2);
    }
  }

  function onHash() {
    var h = location.hash.slice(1);
    try { h = decodeURIComponent(h); } catch (e) { return; }
    if (h === "") return;
    if (/^(search|level)=/.test(h)) {
      var ps = new URLSearchParams(location.hash.slice(1));
      if (ps.has("search")) search.value = ps.get("search");
      if (ps.has("level")) levelSel.value = ps.get("level");
      applyFilter();
      return;
    }
    var cut = h.lastIndexOf("/");
    var line = Number(h.slice(cut + 1));
    if (cut < 0 || !(line >= 1)) return;
    var file = h.slice(0, cut), bis = data.binaries.map(function (_, i) { return i; });
    var m = /^([0-9a-f]{12})\//.exec(file);
    if (m && data.binaries.length > 1) {
      var only = bis.filter(function (i) { return data.binaries[i].hash.slice(0, 12) === m[1]; });
      if (only.length > 0) { bis = only; file = file.slice(13); }
    }
    for (var i = 0; i < bis.length; i++) {
      var files = data.binaries[bis[i]].files;
      for (var fi = 0; fi < files.length; fi++) {
        if (files[fi].f === file) { openFile(bis[i], fi, line); return; }
      }
    }
  }
  window.addEventListener("hashchange", onHash);
  applyFilter();
  onHash();
  document.body.setAttribute("data-script-ms", String(Math.round(performance.now() - began)));
  document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
`;
