/**
 * The HTML report's source view, a part of its script (src/report/html_client.ts puts it in, with
 * its `el` and `vis`): a file's source text (read from its `cc-src-N` element when the file is
 * first opened) as lines (`div.line`: number, count, code), each block of the file painted from its span as
 * `go tool cover -html` paints it (blocks in order of their start, a later one over an earlier
 * one; Go's 1-based byte columns mapped to the line's characters; the end column exclusive),
 * `c0` uncovered and `c1` covered, and per line its class (`unc`, `cov`, `mix` or `none`, from its
 * painted non-space characters) and the largest count painted on it. Painting costs the spans'
 * characters, bounded by a budget of 50 times the text's length: a hostile block list cannot
 * stall the page (the view then says highlighting stopped early).
 */

/** The script part (no `</` and no `<!--`). */
export const SOURCE_VIEW_SCRIPT = String.raw`
  // The source view.
  var texts = {};
  function sourceText(id) {
    if (!(id in texts)) texts[id] = JSON.parse(document.getElementById("cc-src-" + id).textContent);
    return texts[id];
  }
  var ASCII = /^[\x00-\x7f]*$/;
  function index(line, ascii, col) {
    if (ascii) return Math.max(0, Math.min(line.length, col - 1));
    var bytes = 0;
    for (var i = 0; i < line.length; i++) {
      if (bytes >= col - 1) return i;
      var c = line.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < line.length) { bytes += 4; i++; }
      else bytes += 3;
    }
    return line.length;
  }
  var CHUNK = 250;
  var HTML_CHARS = /[&<>"]/g;
  var ENTITY = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
  function escHtml(t) {
    return t.replace(HTML_CHARS, function (c) { return ENTITY[c]; });
  }
  function renderSource(text, bl, lineLink) {
    var lines = text.split("\n");
    lines = lines.map(function (l) { return l.charCodeAt(l.length - 1) === 13 ? l.slice(0, -1) : l; });
    var ascii = lines.map(function (l) { return ASCII.test(l); });
    var paint = new Array(lines.length);
    var order = [];
    for (var k = 0; k + 5 < bl.length; k += 6) order.push(k);
    order.sort(function (x, y) {
      return bl[x] - bl[y] || bl[x + 1] - bl[y + 1] || bl[x + 2] - bl[y + 2] || bl[x + 3] - bl[y + 3];
    });
    // Painting costs the spans' characters: bounded (a hostile block list cannot stall the page).
    var budget = 50 * text.length + 6 * bl.length + 1000, cut = false;
    outer: for (var o = 0; o < order.length; o++) {
      var b = order[o], sl = bl[b], sc = bl[b + 1], en = Math.min(bl[b + 2], lines.length), ec = bl[b + 3];
      var count = bl[b + 5];
      if (!(sl >= 1 && en >= sl)) continue;
      for (var L = sl; L <= en; L++) {
        var line = lines[L - 1];
        var a = L === sl ? index(line, ascii[L - 1], sc) : 0;
        var z = L === bl[b + 2] ? index(line, ascii[L - 1], ec) : line.length;
        budget -= line.length + 1;
        if (budget < 0) { cut = true; break outer; }
        if (z <= a) continue;
        var p = paint[L - 1];
        if (!p) { p = paint[L - 1] = new Float64Array(line.length); p.fill(-1); }
        for (var i = a; i < z; i++) p[i] = count;
      }
    }
    // The rows as one escaped string: the text of every piece passes vis and escaping (it is
    // text, never markup), which builds a 10,000-line file several times faster than elements.
    var html = [];
    for (var n = 0; n < lines.length; n++) {
      // Lines in chunks the browser lays out only when they are scrolled to.
      if (n % CHUNK === 0) {
        html.push((n > 0 ? "<" + "/div>" : "") + '<div class="chunk" style="contain-intrinsic-size:auto ' +
          Math.min(CHUNK, lines.length - n) * 16 + 'px">');
      }
      var ln = lines[n], pt = paint[n];
      var max = -1, zero = false, some = false;
      if (pt) {
        for (var j = 0; j < ln.length; j++) {
          var ch = ln.charCodeAt(j);
          if (pt[j] < 0 || ch === 32 || ch === 9) continue;
          if (pt[j] === 0) zero = true; else some = true;
          if (pt[j] > max) max = pt[j];
        }
      }
      var hits = max >= 0 ? String(max) : "";
      html.push('<div class="line ' + (some && zero ? "mix" : some ? "cov" : zero ? "unc" : "none") +
        '" data-line="' + (n + 1) + '" data-hits="' + hits + '"><span class="ln"><a href="' +
        escHtml(lineLink(n + 1)) + '">' + (n + 1) + "<" + '/a><' + '/span><span class="hits">' + hits +
        "<" + '/span><code class="code">');
      var start = 0;
      for (var q = 1; q <= ln.length; q++) {
        var v = pt ? pt[start] : -1;
        if (q < ln.length && (pt ? pt[q] : -1) === v) continue;
        var piece = escHtml(vis(ln.slice(start, q).replace(/\t/g, "    ")));
        if (v < 0) html.push(piece);
        else {
          html.push('<span class="' + (v > 0 ? "c1" : "c0") + '" title="' + v +
            (v === 1 ? " run" : " runs") + '">' + piece + "<" + "/span>");
        }
        start = q;
      }
      html.push("<" + "/code><" + "/div>");
    }
    // Lines are blocks, not table rows: a 10,000-line file lays out in a fraction of the time.
    if (lines.length > 0) html.push("<" + "/div>");
    var table = el("div", "src");
    table.innerHTML = html.join("");
    return { table: table, cut: cut };
  }
`;
