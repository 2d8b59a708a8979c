// The ao dashboard: a view of the daemon's API. It owns no state that
// matters: the table is the last snapshot of the event stream (/events)
// plus every session re-read when an event names it. No polling for the
// table, no reload. Untrusted text (ids, branches, prompts, agent output)
// only ever goes into the page as text, never as HTML.
"use strict";

(function () {
  const ATTENTION = ["needs_input", "stuck", "ci_failed", "errored"];
  const TOKEN_KEY = "ao.token"; // sessionStorage: this tab only
  const sessions = new Map(); // id -> view
  const rows = new Map(); // id -> <tr>
  const groups = new Map(); // project -> <tbody>
  const stats = { renders: 0, snapshotMs: 0, lastUpdateMs: 0, updates: 0, firstTableAt: 0 };
  window.aoStats = stats;
  let lastEventId = null;
  let streamAbort = null;
  let current = null; // the session page's id
  let tailTimer = null;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- API

  function headers(json) {
    const h = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) h["Authorization"] = "Bearer " + token;
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  class Unauthorized extends Error {}

  async function api(method, path, body) {
    const init = { method, headers: headers(body !== undefined), credentials: "same-origin" };
    if (body !== undefined) init.body = JSON.stringify(body);
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    if (r.status === 401) throw new Unauthorized((data && data.error) || "unauthorized");
    return { status: r.status, ok: r.ok, data };
  }

  function seg(id) { return encodeURIComponent(id); }

  // ---------------------------------------------------------------- sign-in

  function showSignin(message) {
    if (streamAbort) streamAbort.abort();
    $("signin").hidden = false;
    $("fleet").hidden = true;
    $("session").hidden = true;
    $("signin-error").textContent = message || "";
    setConn("signed out", "off");
  }

  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    start();
  });

  function unauthorized(err) {
    const had = sessionStorage.getItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    showSignin(had ? "That token was refused: " + err.message : "");
  }

  // ---------------------------------------------------------------- times

  function ago(ms) {
    if (ms === null || ms === undefined) return "-";
    let s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    s = s % 60;
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " m";
    if (m) return s ? m + " m " + s + " s" : m + " m";
    return s + " s";
  }

  function local(ms) {
    if (ms === null || ms === undefined) return "-";
    return new Date(ms).toLocaleString();
  }

  // ---------------------------------------------------------------- the table

  function rank(v) {
    const i = ATTENTION.indexOf(v.status);
    return i < 0 ? ATTENTION.length : i;
  }

  function isTerminal(v) { return v.lifecycle.session.state === "terminated" || v.lifecycle.session.state === "done"; }

  function activityText(v) {
    const a = v.lifecycle.activity;
    if (isTerminal(v)) return "- (finished)";
    if (!v.hooks_reporting) return "none (hooks silent)";
    return a.state + " (" + a.source + ")";
  }

  const REASON_WORDS = {
    ci_failing: "CI failing", changes_requested: "changes requested", bot_comments: "bot comments",
    merge_conflicts: "merge conflicts", merge_ready: "mergeable", approved: "approved",
    review_pending: "review pending", in_progress: "in progress", merged: "merged",
    closed_unmerged: "closed", cleared_on_restore: "-", not_created: "-",
  };

  function cell(tr, i) {
    while (tr.cells.length <= i) tr.insertCell();
    return tr.cells[i];
  }

  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  function fillRow(tr, v) {
    const id = v.id;
    let a = cell(tr, 0).firstChild;
    if (!a) { a = document.createElement("a"); cell(tr, 0).appendChild(a); }
    a.href = "#/s/" + seg(id);
    setText(a, id);
    const st = cell(tr, 1);
    setText(st, v.status);
    st.className = "status s-" + v.status;
    const act = cell(tr, 2);
    setText(act, activityText(v));
    act.className = !v.hooks_reporting && !isTerminal(v) ? "warn" : "";
    const pr = v.lifecycle.pr;
    const prCell = cell(tr, 3);
    prCell.textContent = "";
    if (pr.number !== null && pr.number !== undefined) {
      const label = "#" + pr.number + (pr.draft ? " draft" : "") + " " + pr.state;
      if (pr.url && /^https?:\/\//.test(pr.url)) {
        const link = document.createElement("a");
        link.href = pr.url; link.rel = "noopener noreferrer"; link.target = "_blank";
        link.textContent = label;
        prCell.appendChild(link);
      } else {
        prCell.textContent = label;
      }
    } else {
      prCell.textContent = pr.state === "none" ? "-" : pr.state;
    }
    const ci = cell(tr, 4);
    setText(ci, pr.state === "none" ? "-" : (REASON_WORDS[pr.reason] || pr.reason));
    ci.className = pr.reason === "ci_failing" ? "bad" : "";
    const age = cell(tr, 5); age.dataset.t = v.created_at; setText(age, ago(v.created_at));
    const since = cell(tr, 6); since.dataset.t = v.status_since ?? ""; setText(since, ago(v.status_since));
    setText(cell(tr, 7), v.issue_id || "-");
    setText(cell(tr, 8), v.metadata.branch || "-");
    tr.dataset.rank = rank(v);
    tr.dataset.id = id;
    tr.classList.toggle("attention", rank(v) < ATTENTION.length);
    tr.hidden = !matches(v);
  }

  function matches(v) {
    const f = $("filter").value.trim().toLowerCase();
    if (!f) return true;
    return [v.id, v.project_id, v.status, v.metadata.branch, v.issue_id].some((s) => (s || "").toLowerCase().includes(f));
  }

  function group(project) {
    let tb = groups.get(project);
    if (!tb) {
      tb = document.createElement("tbody");
      tb.dataset.project = project;
      const head = tb.insertRow();
      head.className = "group";
      const th = document.createElement("th");
      th.colSpan = 9;
      head.appendChild(th);
      groups.set(project, tb);
      $("sessions").appendChild(tb);
    }
    return tb;
  }

  function byRankThenId(a, b) {
    const ra = Number(a.dataset.rank), rb = Number(b.dataset.rank);
    if (ra !== rb) return ra - rb;
    return a.dataset.id.localeCompare(b.dataset.id, undefined, { numeric: true });
  }

  // Orders the rows of the touched groups (attention first), then the groups.
  function place(touched) {
    for (const project of touched) {
      const tb = groups.get(project);
      if (!tb) continue;
      const list = Array.from(tb.rows).slice(1);
      if (list.length === 0) { tb.remove(); groups.delete(project); continue; }
      const sorted = list.slice().sort(byRankThenId);
      if (sorted.some((r, i) => r !== list[i])) for (const r of sorted) tb.appendChild(r);
      const attention = sorted.filter((r) => Number(r.dataset.rank) < ATTENTION.length).length;
      tb.dataset.rank = attention ? 0 : 1;
      setText(tb.rows[0].cells[0], project + " (" + list.length + " session" + (list.length === 1 ? "" : "s") +
        (attention ? ", " + attention + " need" + (attention === 1 ? "s" : "") + " attention" : "") + ")");
    }
    const tbs = Array.from(groups.values());
    const sorted = tbs.slice().sort((a, b) => (a.dataset.rank - b.dataset.rank) || a.dataset.project.localeCompare(b.dataset.project));
    const inDom = Array.from($("sessions").tBodies);
    if (sorted.some((t, i) => t !== inDom[i])) for (const t of sorted) $("sessions").appendChild(t);
    summary();
  }

  function summary() {
    let shown = 0, attention = 0;
    for (const v of sessions.values()) {
      if (v.cleaned) continue;
      shown++;
      if (rank(v) < ATTENTION.length) attention++;
    }
    setText($("summary"), shown + " session" + (shown === 1 ? "" : "s") + (attention ? " · " + attention + " need attention" : ""));
    $("empty").hidden = shown !== 0;
  }

  // Puts one view in the table (cleaned sessions leave it, as in `ao ls`).
  function upsert(v, touched) {
    const old = rows.get(v.id);
    if (v.cleaned) { if (old) remove(v.id, touched); sessions.set(v.id, v); return; }
    sessions.set(v.id, v);
    let tr = old;
    if (tr && tr.parentNode && tr.parentNode.dataset.project !== v.project_id) {
      touched.add(tr.parentNode.dataset.project);
      tr.remove();
      tr = null;
    }
    if (!tr) { tr = document.createElement("tr"); rows.set(v.id, tr); }
    fillRow(tr, v);
    if (!tr.parentNode) group(v.project_id).appendChild(tr);
    touched.add(v.project_id);
  }

  function remove(id, touched) {
    const tr = rows.get(id);
    if (tr && tr.parentNode) { touched.add(tr.parentNode.dataset.project); tr.remove(); }
    rows.delete(id);
    sessions.delete(id);
  }

  function applySnapshot(list) {
    const t0 = performance.now();
    const touched = new Set(groups.keys());
    const seen = new Set();
    for (const v of list) { seen.add(v.id); upsert(v, touched); }
    for (const id of Array.from(sessions.keys())) if (!seen.has(id)) remove(id, touched);
    place(touched);
    stats.snapshotMs = performance.now() - t0;
    stats.renders++;
    if (!stats.firstTableAt) stats.firstTableAt = performance.now();
    if (current) showSession(current);
  }

  function applyViews(list, gone) {
    const t0 = performance.now();
    const touched = new Set();
    for (const v of list) upsert(v, touched);
    for (const id of gone) remove(id, touched);
    place(touched);
    stats.lastUpdateMs = performance.now() - t0;
    stats.updates++;
    if (current && (list.some((v) => v.id === current) || gone.includes(current))) showSession(current);
  }

  // Sessions named by events, re-read together (many at once: one list read).
  const ALL = "\u0000all";
  const dirty = new Set();
  let flushing = false;
  function touch(id) {
    dirty.add(id);
    if (!flushing) { flushing = true; setTimeout(flush, 0); }
  }

  async function flush() {
    const ids = Array.from(dirty);
    dirty.clear();
    try {
      if (ids.length > 20 || dirty.has(ALL) || ids.includes(ALL)) {
        const r = await api("GET", "/sessions");
        if (r.ok) applySnapshot(r.data);
      } else {
        const views = [], gone = [];
        await Promise.all(ids.map(async (id) => {
          const r = await api("GET", "/sessions/" + seg(id));
          if (r.ok) views.push(r.data); else if (r.status === 404) gone.push(id);
        }));
        applyViews(views, gone);
      }
    } catch (e) {
      if (e instanceof Unauthorized) { unauthorized(e); return; }
    } finally {
      flushing = false;
      if (dirty.size) { flushing = true; setTimeout(flush, 0); }
    }
  }

  // ---------------------------------------------------------------- the event stream

  function setConn(text, cls) {
    const c = $("conn");
    setText(c, text);
    c.className = "conn " + cls;
  }

  // EventSource cannot send a bearer token: read the stream with fetch.
  async function stream() {
    if (streamAbort) streamAbort.abort();
    const ctl = new AbortController();
    streamAbort = ctl;
    const h = headers(false);
    if (lastEventId) h["Last-Event-ID"] = lastEventId;
    let r;
    try {
      r = await fetch("/events", { headers: h, signal: ctl.signal, credentials: "same-origin" });
    } catch (e) {
      if (ctl.signal.aborted) return;
      return retry(ctl);
    }
    if (r.status === 401) { unauthorized(new Error("unauthorized")); return; }
    if (!r.ok || !r.body) return retry(ctl);
    setConn("live", "on");
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    let ev = { event: "message", data: [], id: null };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          let line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.endsWith("\r")) line = line.slice(0, -1);
          if (line === "") { dispatch(ev); ev = { event: "message", data: [], id: null }; continue; }
          if (line.startsWith(":")) continue;
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          let value2 = i < 0 ? "" : line.slice(i + 1);
          if (value2.startsWith(" ")) value2 = value2.slice(1);
          if (field === "event") ev.event = value2;
          else if (field === "data") ev.data.push(value2);
          else if (field === "id") ev.id = value2;
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    retry(ctl);
  }

  function retry(ctl) {
    if (ctl.signal.aborted) return;
    setConn("reconnecting", "off");
    setTimeout(() => { if (!ctl.signal.aborted) stream(); }, 1000);
  }

  function dispatch(ev) {
    if (ev.id) lastEventId = ev.id;
    if (ev.data.length === 0) return;
    let data;
    try { data = JSON.parse(ev.data.join("\n")); } catch (_) { return; }
    if (ev.event === "snapshot") applySnapshot(data);
    // An operation over many sessions (a cleanup) names none: re-read them all.
    else if (ev.event === "session") touch(data.session && data.session !== "-" ? data.session : ALL);
  }

  // ---------------------------------------------------------------- the session page

  function showSession(id) {
    const v = sessions.get(id);
    setText($("s-id"), id);
    if (!v) {
      setText($("s-status"), "unknown");
      setText($("s-facts"), "No such session (yet).");
      return;
    }
    const st = $("s-status");
    setText(st, v.status);
    st.className = "status s-" + v.status;
    const pr = v.lifecycle.pr;
    setText($("s-facts"), [
      "project " + v.project_id, "issue " + (v.issue_id || "-"), v.kind,
      "runtime " + (v.metadata.runtime_name || "-") + " " + v.lifecycle.runtime.state,
      "activity " + activityText(v),
      "PR " + (pr.number ? "#" + pr.number + " " : "") + pr.state + "/" + pr.reason,
      "created " + local(v.created_at), "in this state since " + local(v.status_since),
    ].join(" · "));
    $("s-attach").hidden = !v.attach_command;
    setText($("s-attach-cmd"), v.attach_command || "");
    setText($("s-attach-ao"), "ao attach " + id);
    const rec = Object.assign({}, v);
    for (const k of ["status", "hooks_reporting", "cleaned", "status_since", "output_log", "attach", "attach_command"]) delete rec[k];
    setText($("record"), JSON.stringify(rec, null, 2));
  }

  async function loadTimeline(id) {
    try {
      const r = await api("GET", "/sessions/" + seg(id) + "/timeline?limit=200");
      const ol = $("timeline");
      ol.textContent = "";
      if (!r.ok) { const li = document.createElement("li"); li.textContent = (r.data && r.data.error) || "no timeline"; ol.appendChild(li); return; }
      for (const e of r.data.entries) {
        const li = document.createElement("li");
        if (!e.decided) li.className = "quiet";
        const t = document.createElement("time");
        t.textContent = e.at === null ? "-" : local(e.at);
        li.appendChild(t);
        li.appendChild(document.createTextNode(" " + e.text));
        ol.appendChild(li);
      }
    } catch (e) { if (e instanceof Unauthorized) unauthorized(e); }
  }

  // Escape sequences (colours, cursor moves) are not shown as text.
  const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*(\u0007|\u001b\\)|\u001b[@-_]/g;

  async function loadTerminal(id) {
    try {
      const r = await api("GET", "/sessions/" + seg(id) + "/output?lines=60");
      if (current !== id) return;
      if (r.ok) {
        setText($("term-source"), r.data.runtime + ": " + r.data.source);
        setText($("terminal"), r.data.lines.join("\n").replace(ANSI, "") || "(no output yet)");
      } else {
        setText($("term-source"), "");
        setText($("terminal"), (r.data && r.data.error) || "no output");
      }
    } catch (e) { if (e instanceof Unauthorized) unauthorized(e); }
  }

  function answer(r, fallback) {
    const d = r.data || {};
    let text;
    if (d.error) text = d.error;
    else if (d.summary) text = (d.ok ? "ok: " : "FAILED: ") + d.summary;
    else text = fallback;
    const el = $("answer");
    el.className = "answer " + (r.ok ? "ok" : "bad");
    setText(el, "HTTP " + r.status + " — " + text);
  }

  async function act(path, body, fallback) {
    if (!current) return;
    const id = current;
    setText($("answer"), "…");
    try {
      const r = await api("POST", "/sessions/" + seg(id) + path, body);
      answer(r, fallback);
      loadTimeline(id);
      setTimeout(() => loadTerminal(id), 300);
    } catch (e) {
      if (e instanceof Unauthorized) unauthorized(e);
      else { $("answer").className = "answer bad"; setText($("answer"), String(e)); }
    }
  }

  $("send-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const message = $("message").value;
    act("/send", { message }, "delivered").then(() => { $("message").value = ""; });
  });
  $("kill").addEventListener("click", () => act("/kill", {}, "killed"));
  $("restore").addEventListener("click", () => act("/restore", {}, "restored"));
  $("filter").addEventListener("input", () => {
    for (const [id, tr] of rows) tr.hidden = !matches(sessions.get(id));
  });

  // ---------------------------------------------------------------- routing

  function route() {
    const m = location.hash.match(/^#\/s\/(.+)$/);
    if (tailTimer) { clearInterval(tailTimer); tailTimer = null; }
    if (m) {
      current = decodeURIComponent(m[1]);
      $("fleet").hidden = true;
      $("session").hidden = false;
      setText($("answer"), "");
      setText($("terminal"), "");
      $("timeline").textContent = "";
      showSession(current);
      loadTimeline(current);
      loadTerminal(current);
      // The terminal is not in the event stream: re-read it while it is shown.
      const id = current;
      tailTimer = setInterval(() => { if (!document.hidden) loadTerminal(id); }, 2000);
    } else {
      current = null;
      $("session").hidden = true;
      $("fleet").hidden = false;
    }
  }

  // Relative times move on without the network.
  setInterval(() => {
    for (const tr of rows.values()) {
      for (const i of [5, 6]) {
        const c = tr.cells[i];
        if (c && c.dataset.t) setText(c, ago(Number(c.dataset.t)));
      }
    }
  }, 1000);

  function start() {
    $("signin").hidden = true;
    route();
    stream();
  }

  window.addEventListener("hashchange", route);
  start();
})();
