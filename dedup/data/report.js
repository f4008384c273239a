// dedup's HTML report: unpacks the embedded data and draws the summary, the cluster list
// and the side-by-side views. Everything from the scan is put in with textContent, never as
// markup. Written by dedup/html_report.py into the page; no network, no library.
"use strict";
(function () {
  const PAGE = 50;
  // A member row, as html_report._member_row writes it.
  const M_ID = 0, M_WORDS = 1, M_BYTES = 2, M_JACCARD = 3, M_CONTAINMENT = 4, M_IN_KEPT = 5, M_RULE = 6,
    M_OWN = 7, M_BOILER = 8, M_DECISION = 9, M_PENALTY = 10, M_REASONS = 11;
  const CATEGORY = ["", "shared", "edit", "boilerplate", "own text", "only in the kept copy"];
  const RULES = {
    "jaccard": "joined by Jaccard",
    "contains-cleanest": "joined by containment (the kept copy inside it)",
    "inside-cleanest": "joined by containment (it inside the kept copy)",
    "chain": "joined through other members",
  };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }
  const num = (n) => n.toLocaleString("en-US");
  function pct(x) {
    const t = (x * 100).toFixed(1) + "%";
    return t === "100.0%" && x < 1 ? ">99.9%" : t;
  }
  function bytes(n) {
    if (n < 1000) return n + " B";
    let v = n;
    for (const unit of ["KB", "MB", "GB", "TB"]) {
      v /= 1000;
      if (v < 999.95) return v.toFixed(1) + " " + unit;
    }
    return (v / 1000).toFixed(1) + " PB";
  }

  async function unpack(id) {
    const b64 = $(id).textContent.trim();
    const raw = atob(b64);
    const buf = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) buf[i] = raw.charCodeAt(i);
    const stream = new Blob([buf]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  const state = { data: null, rows: [], shown: [], key: "saved", dir: -1, query: "", page: 0, open: new Set() };
  let textsPromise = null;
  const texts = () => (textsPromise = textsPromise || unpack("data-texts"));

  function summary(d) {
    const s = d.summary, t = d.thresholds;
    const skipped = num(s.skipped) + (d.skipped_by_reason.length
      ? " (" + d.skipped_by_reason.map(([r, n]) => r + " " + num(n)).join(", ") + ")" : "");
    const rows = [
      ["Files read", num(s.files)], ["Documents", num(s.documents)], ["Skipped", skipped],
      ["Clusters", num(s.clusters)], ["Duplicate documents", num(s.duplicates)],
      ["Dropping them saves", s.saved_text], ["Candidate pairs", num(s.candidates)],
      ["Verified pairs", num(s.matches)],
      ["Copies when", "Jaccard ≥ " + pct(t.jaccard) + " or containment ≥ " + pct(t.containment) +
        " (" + t.shingle_size + "-word shingles, containment from " + t.min_shingles + " shingles; " +
        t.cluster_mode + " clusters)"],
    ];
    const table = el("table", { class: "kv" });
    for (const [k, v] of rows) table.append(el("tr", {}, el("th", { text: k }), el("td", { text: v })));
    $("summary").replaceChildren(el("h2", { text: "Summary" }), table);
    $("roots").textContent = "Scanned: " + (d.roots.join(", ") || "—");
  }

  function prepare(d) {
    state.rows = d.clusters.map(([id, saved, members]) => {
      const others = members.slice(1);
      return {
        id, saved, members, size: members.length,
        jaccard: others.length ? Math.min(...others.map((m) => m[M_JACCARD])) : 1,
        containment: others.length ? Math.min(...others.map((m) => m[M_CONTAINMENT])) : 1,
        hay: members.map((m) => m[M_ID]).join("\n").toLowerCase(),
      };
    });
  }

  function refresh() {
    const q = state.query.trim().toLowerCase();
    const rows = q ? state.rows.filter((r) => r.hay.includes(q)) : state.rows.slice();
    const k = state.key, dir = state.dir;
    rows.sort((a, b) => (a[k] < b[k] ? -dir : a[k] > b[k] ? dir : a.id - b.id));
    state.shown = rows;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    drawList(pages);
  }

  const COLUMNS = [["id", "#"], ["", "kept copy"], ["size", "copies"], ["saved", "saves"],
    ["jaccard", "lowest Jaccard"], ["containment", "lowest containment"]];

  function drawList(pages) {
    const head = el("tr");
    for (const [key, label] of COLUMNS) {
      if (!key) { head.append(el("th", { text: label })); continue; }
      const arrow = state.key === key ? (state.dir < 0 ? " ▼" : " ▲") : "";
      const button = el("button", {
        class: "sort", "data-key": key, text: label + arrow,
        onclick: () => {
          state.dir = state.key === key ? -state.dir : (key === "id" ? 1 : -1);
          state.key = key; state.page = 0; refresh();
        },
      });
      head.append(el("th", { "aria-sort": arrow ? (state.dir < 0 ? "descending" : "ascending") : "none" }, button));
    }
    const body = el("tbody");
    const first = state.page * PAGE;
    for (const row of state.shown.slice(first, first + PAGE)) {
      const tr = el("tr", { class: "cluster-row", "data-cluster": String(row.id), tabindex: "0" },
        el("td", { text: String(row.id) }), el("td", { class: "name", text: row.members[0][M_ID] }),
        el("td", { text: num(row.size) }), el("td", { text: bytes(row.saved) }),
        el("td", { text: pct(row.jaccard) }), el("td", { text: pct(row.containment) }));
      const toggle = () => {
        if (state.open.has(row.id)) state.open.delete(row.id); else state.open.add(row.id);
        refresh();
      };
      tr.addEventListener("click", toggle);
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") toggle(); });
      body.append(tr);
      if (state.open.has(row.id)) body.append(el("tr", { class: "detail" }, el("td", { colspan: "6" }, members(row))));
    }
    const total = state.rows.length, n = state.shown.length;
    const info = n ? "Clusters " + num(first + 1) + "–" + num(Math.min(first + PAGE, n)) + " of " + num(n) +
      (n < total ? " matching (" + num(total) + " in all)" : "") : "No cluster matches.";
    const pager = el("div", { class: "pager" },
      el("button", { id: "prev", text: "‹ previous", onclick: () => { state.page--; refresh(); } }),
      el("span", { id: "count", text: info + " · page " + (state.page + 1) + " of " + pages }),
      el("button", { id: "next", text: "next ›", onclick: () => { state.page++; refresh(); } }));
    pager.children[0].disabled = state.page === 0;
    pager.children[2].disabled = state.page >= pages - 1;
    const list = $("cluster-list");
    list.replaceChildren(el("thead", {}, head), body);
    $("pager").replaceChildren(pager);
  }

  function members(row) {
    const embedded = Number($("data-texts").dataset.clusters);
    const table = el("table", { class: "members" }, el("thead", {}, el("tr", {},
      ...["", "copy", "words", "bytes", "Jaccard", "containment", "in kept copy", ""].map((h) => el("th", { text: h })))));
    const body = el("tbody");
    row.members.forEach((m, pos) => {
      const mark = pos === 0 ? "★ kept" : m[M_DECISION] === "superset" ? "superset" : "drop";
      const action = el("td");
      if (pos > 0) {
        action.append(el("button", {
          class: "compare", text: "compare",
          onclick: (e) => { e.stopPropagation(); compare(row, pos); },
        }));
      }
      body.append(el("tr", { class: "member-row " + (pos === 0 ? "kept" : m[M_DECISION]) },
        el("td", { class: "mark", text: mark }), el("td", { class: "name", text: m[M_ID] }),
        el("td", { text: num(m[M_WORDS]) }), el("td", { text: bytes(m[M_BYTES]) }),
        el("td", { text: pos ? pct(m[M_JACCARD]) : "—" }), el("td", { text: pos ? pct(m[M_CONTAINMENT]) : "—" }),
        el("td", { text: pos ? pct(m[M_IN_KEPT]) : "—" }), action));
      const notes = [];
      if (pos > 0) notes.push(evidence(m));
      notes.push(...m[M_REASONS]);
      body.append(el("tr", { class: "notes" }, el("td"), el("td", { colspan: "7" },
        el("span", { class: pos === 0 ? "why" : "", text: (pos === 0 ? "Kept because: " : "") + notes.join("; ") }))));
    });
    table.append(body);
    const box = el("div", { class: "members-box" }, table);
    if (state.rows.indexOf(row) >= embedded) {  // rows keep the file's order: largest saving first
      box.append(el("p", { class: "note", text: "The texts of this cluster are not in the file: it embeds those of the first " +
        num(embedded) + " clusters by saving, so compare shows only the figures." }));
    }
    return box;
  }

  function evidence(m) {
    const rule = RULES[m[M_RULE]] || "";
    const own = m[M_OWN], boiler = m[M_BOILER];
    let words = own ? num(own) + " own words, " + (own === boiler ? "all boilerplate" : num(boiler) + " of them boilerplate") : "no own words";
    if (m[M_DECISION] === "superset") words += ": a superset, kept";
    return pct(m[M_IN_KEPT]) + " of it in the kept copy" + (rule ? ", " + rule : "") + "; " + words +
      "; penalty " + m[M_PENALTY].toFixed(2);
  }

  function side(text, runs) {
    const pre = el("div", { class: "text" });
    if (!runs.length) { pre.textContent = text; return pre; }
    let at = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const cat = runs[i], piece = text.slice(at, at + runs[i + 1]);
      at += runs[i + 1];
      if (cat === 0) pre.append(document.createTextNode(piece));
      else pre.append(el("span", { class: "m" + cat, title: CATEGORY[cat], text: piece }));
    }
    if (at < text.length) pre.append(document.createTextNode(text.slice(at)));
    return pre;
  }

  function legend(kinds) {
    return el("p", { class: "legend" }, ...kinds.map((c) => el("span", { class: "m" + c, text: CATEGORY[c] })));
  }

  async function compare(row, pos) {
    const panel = $("compare");
    const m = row.members[pos], kept = row.members[0];
    const close = el("button", { id: "close-compare", text: "close", onclick: () => { panel.hidden = true; } });
    const head = el("div", { class: "compare-head" }, el("h2", { text: "Cluster " + row.id + ": kept copy and " + m[M_ID] }), close);
    panel.replaceChildren(head, el("p", { class: "note", text: evidence(m) }));
    panel.hidden = false;
    let all;
    try { all = await texts(); } catch (err) { panel.append(el("p", { class: "note", text: "Texts could not be unpacked: " + err })); return; }
    const views = all[String(row.id)];
    const view = views && views.members ? views.members[pos] : null;
    if (!views || (!view && !views.note)) {
      panel.append(el("p", { class: "note", text: "This cluster's texts are not embedded in the report." }));
    } else if (!view || !view.a) {
      panel.append(el("p", { class: "note", text: (view && view.note) || views.note }));
    } else {
      if (view.note) panel.append(el("p", { class: "note", text: view.note }));
      if (view.prose && view.prose > own_unique(m)) {
        panel.append(el("p", { class: "note", text: "Of the " + num(view.prose) + " words of own prose marked, " +
          num(view.prose - own_unique(m)) + " are also held by other documents: the scan counts them as boilerplate." }));
      }
      const more = (n) => n ? el("p", { class: "note", text: "… and " + num(n) + " more characters, not embedded." }) : "";
      panel.append(el("div", { class: "sides" },
        el("div", { class: "side kept-side" }, el("h3", { text: "Kept copy: " + kept[M_ID] }),
          legend([1, 2, 5]), side(views.kept, view.a.r), more(views.kept_more)),
        el("div", { class: "side member-side" }, el("h3", { text: (m[M_DECISION] === "superset" ? "Superset: " : "Duplicate: ") + m[M_ID] }),
          legend([1, 2, 3, 4]), side(view.b.t, view.b.r), more(view.b.more))));
    }
    panel.scrollIntoView({ block: "start" });
  }
  const own_unique = (m) => m[M_OWN] - m[M_BOILER];

  function skippedList(d) {
    if (!d.skipped.length) { $("skipped").replaceChildren(); return; }
    const table = el("table", { class: "members" });
    for (const [name, reason, detail] of d.skipped) {
      table.append(el("tr", {}, el("td", { class: "name", text: name }), el("td", { text: reason }), el("td", { text: detail })));
    }
    const more = d.summary.skipped > d.skipped.length ? " (the first " + num(d.skipped.length) + ")" : "";
    $("skipped").replaceChildren(el("details", {}, el("summary", { text: "Skipped files: " + num(d.summary.skipped) + more }), table));
  }

  async function main() {
    if (typeof DecompressionStream === "undefined") {
      $("status").textContent = "This browser cannot unpack the report (it needs DecompressionStream: Chrome 80, Firefox 113, Safari 16.4 or newer).";
      return;
    }
    const d = await unpack("data-clusters");
    state.data = d;
    summary(d);
    prepare(d);
    const search = el("input", { id: "search", type: "search", placeholder: "Search file names and ids…", "aria-label": "search clusters" });
    search.addEventListener("input", () => { state.query = search.value; state.page = 0; refresh(); });
    $("clusters").replaceChildren(el("h2", { text: "Clusters" }), search, el("div", { id: "pager" }),
      el("table", { id: "cluster-list", class: "clusters" }));
    refresh();
    skippedList(d);
    const embedded = Number($("data-texts").dataset.clusters);
    $("footer").textContent = "dedup " + d.version + " · texts embedded for the first " + num(embedded) + " of " +
      num(d.clusters.length) + " clusters (largest saving first), up to 50,000 characters a document.";
    $("status").remove();
    document.body.dataset.ready = "1";
  }
  main().catch((err) => { $("status").textContent = "The report could not be drawn: " + err; });
})();
