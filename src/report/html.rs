//! The HTML report (`--html`): one self-contained file (inline CSS and JS, no network,
//! readable with JS off), in the manner of h2spec and Autobahn's report pages:
//!
//! - a header with the target and the counts (click a count to show only that status);
//! - filters: a checkbox per status and a text search over ids, titles and messages,
//!   also settable from the address (`report.html#status=fail,warn&q=tools`);
//! - a matrix of checks (rows, the worst outcome first) x version/transport (columns),
//!   each cell the status, linking to the result;
//! - per result, most severe first: verdict, level, spec link, message, baseline
//!   reason, and the wire transcript (collapsible). Failures are open by default.

use super::{CheckResult, EntryState, Report};
use crate::transcript::Dir;
use crate::verdict::Status;
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn to_string(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024 + report.results.len() * 2048);
    let s = &report.summary;
    let target = match (&report.target.url, &report.target.command) {
        (Some(u), _) => u.clone(),
        (None, Some(c)) => c.join(" "),
        (None, None) => String::new(),
    };
    let verdict = if report.has_failures() { "FAILED" } else { "PASSED" };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>mcp-conform: {verdict} ({} failed, {} warned of {})</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        s.fail + s.xpass,
        s.warn,
        s.total()
    );

    // Header.
    let _ = write!(
        out,
        "<header>\n<h1><span class=\"verdict {}\">{verdict}</span> mcp-conform report</h1>\n<p class=\"meta\">Target <code>{}</code> \
         over <b>{}</b> · spec version <b>{}</b> · {} {}{}</p>\n<p class=\"chips\">",
        if report.has_failures() { "bad" } else { "good" },
        esc(&target),
        esc(&report.target.transport),
        esc(&report.spec_version),
        esc(&report.tool.name),
        esc(&report.tool.version),
        report.shard.map(|sh| format!(" · shard {}/{}", sh.index, sh.count)).unwrap_or_default()
    );
    for st in ORDER {
        let _ = write!(
            out,
            "<button type=\"button\" class=\"chip st-{0}\" data-solo=\"{0}\" title=\"show only {0}\">{1} {0}</button> ",
            st.as_str(),
            s.count(st)
        );
    }
    let _ = write!(out, "<span class=\"total\">{} results</span></p>\n</header>\n", s.total());

    // Filters.
    out.push_str("<nav id=\"filters\">\n");
    for st in ORDER {
        let _ = writeln!(
            out,
            "<label class=\"st-{0}\"><input type=\"checkbox\" data-status=\"{0}\" checked> {0}</label>",
            st.as_str()
        );
    }
    out.push_str(
        "<input type=\"search\" id=\"q\" placeholder=\"search ids, titles, messages\" aria-label=\"search\">\n\
         <button type=\"button\" id=\"all\">reset</button> <button type=\"button\" id=\"expand\">expand all</button> \
         <button type=\"button\" id=\"collapse\">collapse all</button>\n<span id=\"shown\"></span>\n</nav>\n<main>\n",
    );

    // Baseline.
    if let Some(b) = &report.baseline {
        let problems: Vec<_> = b.entries.iter().filter(|e| e.state != EntryState::Used).collect();
        let _ = write!(out, "<section id=\"baseline\"><h2>Baseline <code>{}</code></h2><p>{} entries", esc(&b.file), b.entries.len());
        if problems.is_empty() {
            out.push_str(", all used.</p>");
        } else {
            out.push_str(":</p><ul>");
            for e in problems {
                let (cls, what) = match e.state {
                    EntryState::Stale => ("st-xpass", "stale: every check it matches now passes"),
                    _ => ("st-skip", "unused: matched no exercised check"),
                };
                let _ = write!(out, "<li class=\"{cls}\"><code>{}</code> ({}): {what}</li>", esc(&e.label()), esc(&e.reason));
            }
            out.push_str("</ul>");
        }
        out.push_str("</section>\n");
    }

    // Matrix.
    let columns = report.matrix_columns();
    // id -> ((version, transport) -> index in `ordered`, a result of the check)
    type Row<'a> = (BTreeMap<(String, String), usize>, &'a CheckResult);
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    let ordered = report.results_by_severity();
    let anchor: BTreeMap<String, usize> = ordered.iter().enumerate().map(|(i, r)| (r.trial_name(), i)).collect();
    for r in &report.results {
        let row = rows.entry(r.id.as_str()).or_insert_with(|| (BTreeMap::new(), r));
        row.0.insert((r.spec_version.clone(), r.transport.clone()), anchor[&r.trial_name()]);
    }
    out.push_str("<section><h2>Matrix</h2>\n<div class=\"scroll\"><table id=\"matrix\">\n<thead><tr><th>check</th><th>level</th>");
    for (v, t) in &columns {
        let _ = write!(out, "<th>{}<br><small>{}</small></th>", esc(v), esc(t));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    // Rows with the worst outcome first (failures at the top), then by id.
    let mut rows: Vec<_> = rows.into_iter().collect();
    rows.sort_by_key(|(id, (cells, _))| (cells.values().map(|&i| ordered[i].status).min(), *id));
    for (id, (cells, first)) in &rows {
        let _ = write!(
            out,
            "<tr data-search=\"{}\"><th title=\"{}\">{}</th><td class=\"lvl\">{}</td>",
            esc(&format!("{id} {}", first.title).to_lowercase()),
            esc(&first.title),
            esc(id),
            first.level.as_str()
        );
        for col in &columns {
            match cells.get(col) {
                Some(&i) => {
                    let st = ordered[i].status.as_str();
                    let _ = write!(out, "<td><a class=\"badge st-{st}\" data-status=\"{st}\" href=\"#r-{i}\">{st}</a></td>");
                }
                None => out.push_str("<td class=\"na\">–</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div></section>\n");

    // Results.
    out.push_str("<section><h2>Results</h2>\n<p id=\"none\" hidden>No result matches the filters.</p>\n");
    for (i, r) in ordered.iter().enumerate() {
        result(&mut out, report, r, i);
    }
    out.push_str("</section>\n</main>\n<footer>Generated by mcp-conform. Self-contained: no network access.</footer>\n");
    let _ = write!(out, "<script>{JS}</script>\n</body>\n</html>\n");
    out
}

const ORDER: [Status; 6] = [Status::Fail, Status::Xpass, Status::Warn, Status::Xfail, Status::Pass, Status::Skip];

fn result(out: &mut String, report: &Report, r: &CheckResult, i: usize) {
    let st = r.status.as_str();
    let trial = r.trial_name();
    let open = if r.status.fails_run() { " open" } else { "" };
    let search = format!("{trial} {} {} {st}", r.title, r.message).to_lowercase();
    let _ = write!(
        out,
        "<details class=\"res st-{st}\" id=\"r-{i}\" data-status=\"{st}\" data-search=\"{}\"{open}>\n\
         <summary><span class=\"badge st-{st}\">{st}</span> <code>{}</code> <span class=\"lvl\">{}</span> {}</summary>\n<dl>",
        esc(&search),
        esc(&trial),
        r.level.as_str(),
        esc(&r.title)
    );
    let _ = write!(out, "<dt>spec</dt><dd><a href=\"{0}\" rel=\"noreferrer\">{0}</a></dd>", esc(&r.spec));
    let _ = write!(out, "<dt>duration</dt><dd>{:.1} ms</dd>", r.duration_ms);
    if let Some(reason) = report.baseline_reason(&trial) {
        let what = if r.status == Status::Xpass { "expected to fail, but passed: the baseline entry is stale" } else { "expected failure" };
        let _ = write!(out, "<dt>baseline</dt><dd>{what}: {}</dd>", esc(reason));
    }
    if !r.aliases.is_empty() {
        let _ = write!(out, "<dt>aliases</dt><dd>{}</dd>", esc(&r.aliases.join(", ")));
    }
    if !r.message.is_empty() {
        let _ = write!(out, "<dt>message</dt><dd><pre class=\"msg\">{}</pre></dd>", esc(&r.message.replace("; ", ";\n")));
    }
    out.push_str("</dl>\n");
    if r.transcript.is_empty() {
        out.push_str("<p class=\"muted\">No transcript.</p>\n");
    } else {
        let _ = write!(out, "<details class=\"wire\"><summary>wire transcript ({} entries)</summary>\n<table class=\"tx\">", r.transcript.len());
        for e in &r.transcript {
            let (cls, arrow) = match e.dir {
                Dir::Out => ("out", "→ out"),
                Dir::In => ("in", "← in"),
                Dir::Stderr => ("err", "stderr"),
                Dir::Note => ("note", "note"),
            };
            let cut = e.truncated_from.map(|n| format!(" <span class=\"muted\">(cut from {n} bytes)</span>")).unwrap_or_default();
            let _ = write!(
                out,
                "<tr class=\"{cls}\"><td class=\"t\">{:.3}</td><td class=\"d\">{arrow}</td><td><pre>{}</pre>{cut}</td></tr>",
                e.t_ms,
                esc(e.raw.trim_end_matches(['\r', '\n']))
            );
        }
        out.push_str("</table>\n");
        out.push_str("</details>\n");
    }
    out.push_str("</details>\n");
}

/// Escape text for HTML element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r##"
:root{--fail:#c62828;--xpass:#8e24aa;--warn:#b26a00;--xfail:#00838f;--pass:#2e7d32;--skip:#757575;--bg:#fff;--fg:#1b1b1b;--mut:#666;--line:#ddd;--code:#f5f5f5}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--fg:#e6e6e6;--mut:#9a9a9a;--line:#33363b;--code:#1f2227;--fail:#ef5350;--xpass:#ce93d8;--warn:#ffb300;--xfail:#4dd0e1;--pass:#66bb6a;--skip:#9e9e9e}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header,nav,main,footer{padding:0 20px}
header{padding-top:14px;border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 8px}
.verdict{display:inline-block;padding:1px 8px;border-radius:4px;color:#fff;font-size:14px;vertical-align:middle}
.verdict.bad{background:var(--fail)}.verdict.good{background:var(--pass)}
.meta{margin:0 0 6px;color:var(--mut)}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.chips{margin:6px 0 12px}.total{color:var(--mut);margin-left:6px}
.chip{border:1px solid currentColor;background:transparent;border-radius:12px;padding:2px 10px;cursor:pointer;font-weight:600}
nav{position:sticky;top:0;z-index:2;background:var(--bg);padding-top:8px;padding-bottom:8px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:10px;align-items:center}
nav label{font-weight:600;cursor:pointer}
#q{flex:1;min-width:200px;max-width:420px;padding:4px 8px;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
#shown{color:var(--mut)}
.scroll{overflow-x:auto}
table{border-collapse:collapse}
#matrix th,#matrix td{border:1px solid var(--line);padding:3px 8px;text-align:center;white-space:nowrap}
#matrix tbody th{text-align:left;font-weight:500;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
#matrix thead th{position:sticky;top:0;background:var(--code);font-weight:600}
td.na{color:var(--mut)}td.lvl,.lvl{font-size:11px;color:var(--mut);font-weight:600}
.badge{display:inline-block;min-width:44px;padding:0 6px;border-radius:3px;color:#fff;font-weight:600;font-size:12px;text-decoration:none;text-align:center}
.badge.st-fail{background:var(--fail)}.badge.st-xpass{background:var(--xpass)}.badge.st-warn{background:var(--warn)}
.badge.st-xfail{background:var(--xfail)}.badge.st-pass{background:var(--pass)}.badge.st-skip{background:var(--skip)}
.badge.dim{opacity:.18}
.chip.st-fail,label.st-fail,li.st-fail{color:var(--fail)}.chip.st-xpass,label.st-xpass,li.st-xpass{color:var(--xpass)}.chip.st-warn,label.st-warn{color:var(--warn)}
.chip.st-xfail,label.st-xfail{color:var(--xfail)}.chip.st-pass,label.st-pass{color:var(--pass)}.chip.st-skip,label.st-skip,li.st-skip{color:var(--skip)}
details.res{border:1px solid var(--line);border-left:5px solid var(--skip);border-radius:4px;margin:6px 0;padding:4px 10px}
details.res.st-fail{border-left-color:var(--fail)}details.res.st-xpass{border-left-color:var(--xpass)}details.res.st-warn{border-left-color:var(--warn)}
details.res.st-xfail{border-left-color:var(--xfail)}details.res.st-pass{border-left-color:var(--pass)}
details.res>summary{cursor:pointer;padding:2px 0}
details.res:target{outline:2px solid #1976d2}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dt{color:var(--mut);font-weight:600}dd{margin:0;min-width:0}
dd a{word-break:break-all}
pre{margin:0;white-space:pre-wrap;word-break:break-word}
pre.msg{background:var(--code);padding:6px 8px;border-radius:4px}
details.wire{margin:4px 0 6px}details.wire>summary{cursor:pointer;color:var(--mut)}
table.tx{width:100%;margin-top:4px;background:var(--code);border-radius:4px}
table.tx td{vertical-align:top;padding:1px 6px;border-bottom:1px solid var(--line)}
table.tx td.t{color:var(--mut);text-align:right;white-space:nowrap;font:12px ui-monospace,Menlo,monospace}
table.tx td.d{white-space:nowrap;font-size:11px;font-weight:600}
tr.out td.d{color:#1565c0}tr.in td.d{color:var(--pass)}tr.err td.d{color:var(--warn)}tr.note td.d{color:var(--mut)}
tr.note pre{color:var(--mut);font-style:italic}
.muted{color:var(--mut)}
#baseline ul{margin:4px 0}
footer{color:var(--mut);font-size:12px;padding:16px 20px}
"##;

const JS: &str = r##"
window.addEventListener("error", function (e) {
  document.documentElement.setAttribute("data-js-error", String(e.message));
});
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("nav input[data-status]"));
  var q = document.getElementById("q");
  var items = Array.prototype.slice.call(document.querySelectorAll("details.res"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr"));
  function apply() {
    var on = {};
    boxes.forEach(function (b) { if (b.checked) on[b.dataset.status] = true; });
    var text = q.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (el) {
      var ok = on[el.dataset.status] && (!text || el.dataset.search.indexOf(text) >= 0);
      el.hidden = !ok;
      if (ok) shown++;
    });
    rows.forEach(function (tr) {
      var cells = Array.prototype.slice.call(tr.querySelectorAll("[data-status]"));
      var any = false;
      cells.forEach(function (c) {
        var lit = !!on[c.dataset.status];
        c.classList.toggle("dim", !lit);
        if (lit) any = true;
      });
      tr.hidden = !(any && (!text || tr.dataset.search.indexOf(text) >= 0 || cells.some(function (c) {
        var d = document.getElementById(c.getAttribute("href").slice(1));
        return d && !d.hidden;
      })));
    });
    document.getElementById("shown").textContent = shown + " of " + items.length + " results shown";
    document.getElementById("none").hidden = shown > 0;
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  q.addEventListener("input", apply);
  Array.prototype.forEach.call(document.querySelectorAll("[data-solo]"), function (chip) {
    chip.addEventListener("click", function () {
      boxes.forEach(function (b) { b.checked = b.dataset.status === chip.dataset.solo; });
      apply();
    });
  });
  document.getElementById("all").addEventListener("click", function () {
    boxes.forEach(function (b) { b.checked = true; });
    q.value = "";
    apply();
  });
  document.getElementById("expand").addEventListener("click", function () {
    items.forEach(function (d) { if (!d.hidden) d.open = true; });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    items.forEach(function (d) { d.open = false; });
  });
  // Filters from the address: `report.html#status=fail,warn&q=ping` (shareable views).
  if (location.hash.indexOf("=") >= 0) {
    location.hash.slice(1).split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
      if (k === "status") {
        var wanted = v.split(",");
        boxes.forEach(function (b) { b.checked = wanted.indexOf(b.dataset.status) >= 0; });
      } else if (k === "q") {
        q.value = v;
      }
    });
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href^='#r-']");
    if (!a) return;
    var d = document.getElementById(a.getAttribute("href").slice(1));
    if (d) { d.hidden = false; d.open = true; }
  });
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();
"##;
