// The review page: shows the session's state and sends corrections; all logic is the server's.
"use strict";

const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2",
                 "#9d755d", "#eeca3b", "#ff9da6", "#79706e", "#bab0ac", "#8cd17d"];
const FIELDS = [["kicker", "Kicker"], ["headline", "Headline"], ["subheadline", "Subheadline"],
                ["byline", "Byline"], ["section", "Section"], ["body", "Body"]];
const ROLE_NAMES = {body: "body", headline: "headline", kicker: "kicker", subheadline: "subheadline",
                    byline: "byline", "unattributed byline": "unattributed byline", unassigned: "not an article"};
const EDIT_DELAY = 350;

let state = null;
let selected = [];          // selected line numbers, sorted
let anchor = null;          // the line a Shift+click range starts from
const pendingEdits = new Map();  // "key/field" -> {article, field, value}
let editTimer = null;
let queue = Promise.resolve();

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// --- talking to the server ---------------------------------------------------------------

function call(path, body) {
  // Requests go one at a time, in the order they were made.
  const run = async () => {
    const options = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
    const response = await fetch(path, options);
    let data = {};
    try { data = await response.json(); } catch (e) { data = {error: `HTTP ${response.status}`}; }
    if (data.state) render(data.state);
    else if (response.ok && path !== "/api/save") render(data);
    return {ok: response.ok, status: response.status, data};
  };
  queue = queue.then(run, run);
  return queue;
}

async function flushEdits() {
  clearTimeout(editTimer);
  const edits = [...pendingEdits.values()];
  pendingEdits.clear();
  for (const edit of edits) {
    const result = await call("/api/correct", {op: "edit", ...edit});
    if (!result.ok) showStatus(result.data.error, "error");
  }
}

async function correct(op, args) {
  await flushEdits();
  const result = await call("/api/correct", {op, ...args});
  if (result.ok) { clearSelection(); showStatus(""); }
  else showStatus(result.data.error, "error");
}

async function save(asDraft) {
  await flushEdits();
  const result = await call("/api/save", {draft: asDraft});
  if (result.ok) {
    $("#conflict").hidden = true;
    showStatus(result.data.message, "ok");
  } else if (result.status === 409) {
    $("#conflict-text").textContent = result.data.error;
    $("#conflict").hidden = false;
    showStatus("Not saved: files changed on disk.", "error");
  } else {
    showStatus(result.data.error, "error");
  }
}

function showStatus(text, kind = "") {
  const node = $("#status");
  node.textContent = text || "";
  node.className = text ? kind : "";
}

// --- rendering ---------------------------------------------------------------------------

function articleIndex() {
  const index = new Map();
  state.articles.forEach((a, i) => index.set(a.key, {article: a, colour: PALETTE[i % PALETTE.length]}));
  return index;
}

function render(next) {
  state = next;
  const index = articleIndex();
  const where = `${state.page} → ${state.articles_dir}/`;
  $("#page-name").textContent = where;
  $("#page-name").title = where;
  renderCounts();
  renderLines(index);
  renderTargets(index);
  renderCards(index);
  renderNotices();
  $("#undo").disabled = !state.can_undo;
  $("#save").disabled = state.errors > 0;
  $("#save").title = state.errors > 0
    ? `${state.errors} error(s) remain: fix them, or save as a draft`
    : "Write the article files";
  updateToolbar();
}

function renderCounts() {
  const node = $("#counts");
  node.replaceChildren(
    `${state.articles.length} articles · `,
    el("span", {class: state.errors ? "errors" : "", text: plural(state.errors, "error")}), " · ",
    el("span", {class: state.warnings ? "warnings" : "", text: plural(state.warnings, "warning")}),
    state.unsaved ? " · unsaved changes" : "");
}

function lineTag(line, index) {
  if (line.article !== null) {
    const entry = index.get(line.article);
    return `${entry.article.id.slice(-2)} ${ROLE_NAMES[line.role]}`;
  }
  return ROLE_NAMES[line.role] || "";
}

function renderLines(index) {
  const list = $("#lines");
  const nodes = state.lines.map((line) => {
    if (line.role === "blank") {
      return el("li", {class: "line blank", id: `line-${line.n}`}, el("span", {class: "num", text: String(line.n)}));
    }
    const entry = line.article !== null ? index.get(line.article) : null;
    const roleClass = line.role === "unattributed byline" ? "unattributed" : line.role;
    const node = el("li", {
      class: `line role-${roleClass}` + (selected.includes(line.n) ? " selected" : ""),
      id: `line-${line.n}`, "data-n": line.n, "data-role": line.role,
      "data-article": line.article ?? "",
      title: line.reason || (entry ? `${entry.article.id}: ${line.role}` : line.role),
      onclick: (event) => selectLine(line.n, event.shiftKey),
    },
    el("span", {class: "num", text: String(line.n)}),
    el("span", {class: "tag", text: lineTag(line, index)}),
    el("span", {class: "text", text: line.text}));
    if (entry) {
      const strong = line.role !== "body";
      node.style.background = tint(entry.colour, strong ? 0.32 : 0.13);
      node.style.borderLeftColor = entry.colour;
    }
    return node;
  });
  list.replaceChildren(...nodes);
  const sample = (text, background) => {
    const node = el("span", {class: "sample", text});
    node.style.background = background;  // set through the DOM: the page's CSP forbids inline styles
    return node;
  };
  const legend = [
    sample("body", tint(PALETTE[0], 0.13)), sample("headline", tint(PALETTE[0], 0.32)),
    sample("unattributed byline", "#fff1b8"), sample("not an article", "#eef0f2"),
    el("span", {text: "colour = article; bold = headline, italic = kicker/subheadline, dotted = byline"})];
  $("#legend").replaceChildren(...legend);
}

function tint(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function renderTargets(index) {
  const select = $("#target");
  const keep = select.value;
  const options = state.articles.map((a) =>
    el("option", {value: a.key, text: `${a.id.slice(-2)}  ${(a.record.headline || "(no headline)").slice(0, 24)}`}));
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function renderNotices() {
  $("#notices").replaceChildren(...state.notices.map((text) => el("li", {text})));
}

function renderCards(index) {
  const list = $("#card-list");
  const existing = new Map([...list.children].map((node) => [Number(node.dataset.key), node]));
  const wanted = state.articles.map((article) => {
    const card = existing.get(article.key) || buildCard(article.key);
    updateCard(card, article, index.get(article.key).colour);
    return card;
  });
  const same = wanted.length === list.children.length && wanted.every((card, i) => list.children[i] === card);
  if (!same) list.replaceChildren(...wanted);
}

function buildCard(key) {
  const card = el("article", {class: "card", "data-key": key});
  const fields = el("div", {class: "fields"});
  for (const [name, label] of FIELDS) {
    const id = `f-${key}-${name}`;
    const input = name === "body"
      ? el("textarea", {id, name, rows: 8, spellcheck: "false"})
      : el("input", {id, name, type: "text", spellcheck: "false"});
    input.addEventListener("input", () => queueEdit(key, name, input.value));
    fields.append(el("label", {for: id}, label, el("span", {class: "edited"})), input);
  }
  card.append(
    el("header", {},
      el("span", {class: "id"}),
      el("span", {class: "badge confidence"}),
      el("span", {class: "badge changed", text: "changed in review", hidden: true}),
      el("span", {class: "badge check"}),
      el("span", {class: "card-actions"},
        el("button", {type: "button", class: "show-lines", onclick: () => showLines(key)}, "Show lines"),
        el("button", {type: "button", class: "merge-next", onclick: () => mergeNext(key)}, "Merge with next"))),
    el("div", {class: "spans"}),
    el("details", {}, el("summary", {text: "Why this confidence"}), el("ul", {class: "reasons"})),
    fields,
    el("ul", {class: "diagnostics"}));
  return card;
}

function updateCard(card, article, colour) {
  card.style.setProperty("--art", colour);
  card.querySelector(".id").textContent = article.id;
  const conf = card.querySelector(".confidence");
  if (article.confidence === null) { conf.textContent = "new"; conf.className = "badge confidence mid"; }
  else {
    conf.textContent = `confidence ${article.confidence.toFixed(2)}`;
    conf.className = "badge confidence " + (article.confidence >= 0.9 ? "high" : article.confidence >= 0.7 ? "mid" : "low");
  }
  card.querySelector(".changed").hidden = !article.changed;
  const check = card.querySelector(".check");
  check.textContent = article.errors ? plural(article.errors, "error")
    : article.warnings ? plural(article.warnings, "warning") : "valid";
  check.className = "badge check " + (article.errors ? "errors" : article.warnings ? "warnings" : "clean");
  const spans = Object.entries(article.lines).filter(([, ns]) => ns.length)
    .map(([role, ns]) => `${role} ${span(ns)}`);
  card.querySelector(".spans").textContent = spans.length ? `lines: ${spans.join(" · ")}` : "";
  card.querySelector(".reasons").replaceChildren(...article.reasons.map((r) => el("li", {text: r})));
  const last = state.articles[state.articles.length - 1];
  card.querySelector(".merge-next").disabled = last.key === article.key;
  const bad = {};
  for (const d of article.diagnostics) {
    const name = (d.pointer || "").split("/")[1] || "";
    if (!bad[name] || d.severity === "error") bad[name] = d.severity;
  }
  for (const [name] of FIELDS) {
    const input = card.querySelector(`[name="${name}"]`);
    const value = article.record[name] ?? "";
    const shown = name === "body" ? value.split("\n").join("\n\n") : value;
    if (document.activeElement !== input && !pendingEdits.has(`${article.key}/${name}`)) input.value = shown;
    input.classList.toggle("has-error", bad[name] === "error");
    input.classList.toggle("has-warning", bad[name] === "warning");
    const label = card.querySelector(`label[for="${input.id}"] .edited`);
    label.textContent = article.edited.includes(name) ? " (edited)" : "";
  }
  card.querySelector(".diagnostics").replaceChildren(...article.diagnostics.map((d) =>
    el("li", {class: d.severity},
      `${d.severity} ${d.rule} `, el("span", {text: d.message}),
      d.hint ? el("span", {class: "hint", text: ` (${d.hint})`}) : null)));
}

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

function span(numbers) {
  const first = numbers[0], last = numbers[numbers.length - 1];
  return first === last ? String(first) : `${first}–${last}`;
}

// --- editing -----------------------------------------------------------------------------

function queueEdit(key, field, value) {
  pendingEdits.set(`${key}/${field}`, {article: key, field, value});
  clearTimeout(editTimer);
  editTimer = setTimeout(flushEdits, EDIT_DELAY);
}

function mergeNext(key) {
  const i = state.articles.findIndex((a) => a.key === key);
  const next = state.articles[i + 1];
  if (next) correct("merge", {article: key, other: next.key});
}

function showLines(key) {
  const article = state.articles.find((a) => a.key === key);
  const all = Object.values(article.lines).flat().sort((a, b) => a - b);
  if (!all.length) return;
  selected = all;
  renderSelection();
  document.getElementById(`line-${all[0]}`).scrollIntoView({block: "center"});
}

// --- selecting lines ---------------------------------------------------------------------

function lineOf(n) { return state.lines[n - 1]; }

function selectLine(n, extend) {
  if (extend && anchor !== null) {
    const [a, b] = anchor < n ? [anchor, n] : [n, anchor];
    selected = state.lines.filter((l) => l.n >= a && l.n <= b && l.role !== "blank").map((l) => l.n);
  } else if (selected.length === 1 && selected[0] === n) {
    selected = [];
  } else {
    selected = [n];
    anchor = n;
    const line = lineOf(n);
    const target = line.article ?? nearestArticleBefore(n);
    if (target !== null) $("#target").value = String(target);
  }
  renderSelection();
}

function nearestArticleBefore(n) {
  for (let i = n - 1; i >= 1; i--) {
    const line = lineOf(i);
    if (line.article !== null && line.role === "body") return line.article;
  }
  return state.articles.length ? state.articles[0].key : null;
}

function clearSelection() { selected = []; anchor = null; renderSelection(); }

function renderSelection() {
  for (const node of document.querySelectorAll(".line.selected")) node.classList.remove("selected");
  for (const n of selected) document.getElementById(`line-${n}`)?.classList.add("selected");
  updateToolbar();
}

function updateToolbar() {
  const any = selected.length > 0;
  const target = Number($("#target").value);
  const lines = selected.map(lineOf);
  $("#selection").textContent = any
    ? `Selected: line${selected.length > 1 ? "s" : ""} ${span(selected)} (${selected.length})`
    : "Click a line to select it; Shift+click selects a range.";
  for (const id of ["#move", "#drop", "#clear"]) $(id).disabled = !any;
  for (const button of document.querySelectorAll(".mark")) button.disabled = !any;
  const bylineLine = lines.length > 0 && lines.every((l) => l.role === "unattributed byline" || l.role === "byline");
  $("#assign-byline").disabled = !bylineLine;
  const one = lines.length === 1 ? lines[0] : null;
  $("#split").disabled = !(one && one.role === "body" && one.article === target);
}

// --- wiring ------------------------------------------------------------------------------

function wire() {
  $("#target").addEventListener("change", updateToolbar);
  $("#move").addEventListener("click", () => correct("move", {lines: selected, article: Number($("#target").value)}));
  $("#drop").addEventListener("click", () => correct("move", {lines: selected, article: null}));
  $("#assign-byline").addEventListener("click", () =>
    correct("assign_byline", {line: selected[0], article: Number($("#target").value)}));
  $("#split").addEventListener("click", () =>
    correct("split", {article: Number($("#target").value), line: selected[0]}));
  for (const button of document.querySelectorAll(".mark")) {
    button.addEventListener("click", () =>
      correct("mark", {lines: selected, article: Number($("#target").value), role: button.dataset.role}));
  }
  $("#clear").addEventListener("click", clearSelection);
  $("#undo").addEventListener("click", async () => { await flushEdits(); await call("/api/undo", {}); });
  $("#save").addEventListener("click", () => save(false));
  $("#save-draft").addEventListener("click", () => save(true));
  $("#reload").addEventListener("click", async () => {
    if (!confirm("Reload from disk? Your unsaved corrections are lost.")) return;
    await call("/api/reload", {});
    $("#conflict").hidden = true;
    showStatus("Reloaded from disk.", "ok");
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
    if ((event.ctrlKey || event.metaKey) && event.key === "z" && !typing) {
      event.preventDefault();
      $("#undo").click();
    } else if (event.key === "Escape" && !typing) clearSelection();
  });
  window.addEventListener("beforeunload", (event) => {
    if (state && (state.unsaved || pendingEdits.size)) event.preventDefault();
  });
}

wire();
call("/api/state");
