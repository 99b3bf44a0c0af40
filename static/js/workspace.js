/*
 * Keyboard-driven annotation workspace: the thread, the queue and browse.
 *
 * The page works without this file: every button is a real form button that posts to the server. With it:
 *
 * - A key press is bound, when it is pressed, to the item (comment or article), the topic and the value it
 *   means. The row shows the new value at once (optimistic) and the change is queued for that (item, topic).
 * - Writes go to the JSON API (PUT/DELETE /api/…/annotations/{topic}/), one at a time per (item, topic), in the
 *   order pressed; other rows never wait. Each names the version it replaces (If-Match), or says there is no
 *   label yet (If-None-Match: *), so a retried write can never apply twice and another tab's change is never
 *   overwritten unseen. Responses update the row's state and never move the cursor.
 * - Each row shows its state: saving, saved, or failed with the reason and a way out (retry, keep theirs);
 *   network and server failures retry by themselves. Leaving the page with unsaved changes warns.
 * - `z` (or Ctrl/Cmd+Z) undoes the last change of this page, through the same writes.
 *
 * Offsets: the server counts code points, browsers count UTF-16 units. Each line of a body is a `.seg` element
 * whose `data-start` is its offset in code points, and the gaps between lines are newlines only
 * (debate/rendering.py), so the body can be rebuilt here exactly.
 */
(function () {
  "use strict";

  const STANCE_OF_KEY = { 1: "favor", 2: "against", 3: "neutral", 4: "not_about" };
  const STANCE_NAMES = { favor: "favor", against: "against", neutral: "neutral", not_about: "not about" };
  const RETRY_DELAYS = [500, 1000, 2000, 4000, 8000, 15000];

  const state = {
    item: null, // the current item element ([data-comment])
    topic: 0, // index of the current topic row within it
    selection: null, // the last selection inside a body: {item, start, end}
    itemStart: new Map(), // item id -> when the annotator arrived at it (lead time)
    lastAction: null, // {itemId, time} of the last label change
    autoAdvance: false,
  };
  const undoStack = [];
  const entries = new Map(); // "itemId|topic" -> the label's state, see entryFor
  // For tests and the curious: milliseconds from each handled key press to the next animation frame.
  const metrics = { keyToFrame: [], writes: 0, failures: 0, unsaved: () => unsaved().length };
  window.workspaceMetrics = metrics;

  const items = () => Array.from(document.querySelectorAll("[data-comment]"));
  const rowsOf = (item) => (item ? Array.from(item.querySelectorAll("[data-topic-row]")) : []);
  const itemId = (item) => item.dataset.commentId;
  const isQueue = () => document.body.classList.contains("queue");

  function isTyping(element) {
    if (!element || element === document.body) return false;
    if (element.isContentEditable) return true;
    const tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      const type = (element.getAttribute("type") || "text").toLowerCase();
      return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file", "image"].includes(type);
    }
    return false;
  }

  const openDialog = () => document.querySelector("dialog[open]");

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  /* --- label state ------------------------------------------------------------------------------- */

  function normalise(label) {
    if (!label) return null;
    const spans = new Map();
    for (const span of label.evidence || []) spans.set(`${span.start}:${span.end}`, { start: span.start, end: span.end, text: span.text });
    const evidence = Array.from(spans.values()).sort((a, b) => a.start - b.start || a.end - b.end);
    return {
      stance: label.stance,
      unsure: Boolean(label.unsure),
      confidence: label.confidence === undefined ? null : label.confidence,
      note: label.note || "",
      evidence,
    };
  }

  function same(a, b) {
    if (!a || !b) return a === b;
    return (
      a.stance === b.stance &&
      a.unsure === b.unsure &&
      a.confidence === b.confidence &&
      a.note === b.note &&
      JSON.stringify(a.evidence) === JSON.stringify(b.evidence)
    );
  }

  function describe(label) {
    if (!label) return "no label";
    return STANCE_NAMES[label.stance] + (label.unsure ? ", unsure" : "");
  }

  // One entry per (item, topic), made from the row's data-label when first needed. `server` is the label the
  // server last confirmed (with its `version`), `desired` what the annotator last asked for; a write is due
  // while they differ.
  function entryFor(row) {
    const item = row.closest("[data-comment]");
    const key = `${itemId(item)}|${row.dataset.topic}`;
    let entry = entries.get(key);
    if (!entry) {
      const raw = row.dataset.label ? JSON.parse(row.dataset.label) : null;
      const panel = row.closest("[data-panel]");
      const server = normalise(raw);
      entry = {
        key,
        itemId: itemId(item),
        topic: row.dataset.topic,
        url: panel && panel.dataset.api ? panel.dataset.api.replace(/_\/$/, `${encodeURIComponent(row.dataset.topic)}/`) : null,
        server,
        version: raw ? raw.version : null,
        desired: server,
        // Made under older guidelines: choosing the same values again confirms it (a write all the same).
        outdated: row.hasAttribute("data-outdated-label"),
        confirm: false,
        leadTime: null,
        inflight: false,
        status: server ? "saved" : "",
        problem: null, // {text, kind: "retrying" | "stale" | "refused"}
        attempts: 0,
        timer: null,
        row,
      };
      entries.set(key, entry);
    }
    return entry;
  }

  function rowOf(entry) {
    if (entry.row && entry.row.isConnected) return entry.row;
    const item = document.querySelector(`[data-comment-id="${entry.itemId}"]`);
    entry.row = item ? item.querySelector(`[data-topic-row][data-topic="${entry.topic}"]`) : null;
    return entry.row;
  }

  const unsaved = () => Array.from(entries.values()).filter((entry) => !same(entry.desired, entry.server) || entry.inflight);

  /* --- changes ----------------------------------------------------------------------------------- */

  function leadTime(item, when) {
    const id = itemId(item);
    let start = state.itemStart.get(id);
    if (start === undefined) {
      // Reached with the mouse: since the last label on another item, else since the page opened.
      start = state.lastAction && state.lastAction.itemId !== id ? state.lastAction.time : 0;
      state.itemStart.set(id, start);
    }
    return Math.max(0, Math.round(when - start));
  }

  // Change one row: `next` maps the desired label to the new one (null removes it, undefined changes nothing).
  // Returns the undo record, or null when nothing changed.
  function change(row, next, when) {
    const entry = entryFor(row);
    if (!entry.url) return null;
    const before = entry.desired;
    const after = next(before);
    if (after === undefined) return null;
    if (same(before, after)) {
      if (!(after && entry.outdated && same(after, entry.server))) return null;
      entry.confirm = true; // the same label, confirmed under the current guidelines
    }
    const item = row.closest("[data-comment]");
    entry.desired = after;
    if (after) entry.leadTime = leadTime(item, when);
    state.lastAction = { itemId: entry.itemId, time: when };
    if (entry.problem && entry.problem.kind !== "retrying") entry.problem = null;
    paint(entry);
    schedule(entry);
    return { entry, before };
  }

  function record(changes) {
    const done = changes.filter(Boolean);
    if (done.length) undoStack.push(done);
    return done.length > 0;
  }

  function undo() {
    const last = undoStack.pop();
    if (!last) {
      announce("Nothing to undo.");
      return;
    }
    for (const { entry, before } of last.slice().reverse()) {
      entry.desired = before;
      if (entry.problem && entry.problem.kind !== "retrying") entry.problem = null;
      paint(entry);
      schedule(entry);
    }
    const first = last[0].entry;
    announce(`Undone: ${first.topic} on ${itemLabel(first.itemId)} is ${describe(first.desired)} again.`);
  }

  const withStance = (stance) => (label) => ({ ...(label || normalise({ stance })), stance });

  /* --- writes ------------------------------------------------------------------------------------ */

  function schedule(entry) {
    if (entry.inflight) return; // the write under way looks again when it ends
    window.clearTimeout(entry.timer);
    entry.timer = null;
    send(entry);
  }

  async function send(entry) {
    if (same(entry.desired, entry.server) && !(entry.confirm && entry.desired)) {
      entry.confirm = false;
      settle(entry);
      return;
    }
    entry.confirm = false;
    const target = entry.desired;
    entry.inflight = true;
    entry.status = "pending";
    paint(entry);
    const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    if (entry.server) headers["If-Match"] = `"${entry.version}"`;
    else headers["If-None-Match"] = "*";
    let response;
    try {
      metrics.writes += 1;
      if (target === null) {
        response = await fetch(entry.url, { method: "DELETE", headers, credentials: "same-origin" });
      } else {
        headers["Content-Type"] = "application/json";
        const body = { ...target, lead_time_ms: entry.leadTime };
        response = await fetch(entry.url, { method: "PUT", headers, credentials: "same-origin", body: JSON.stringify(body) });
      }
    } catch (error) {
      retryLater(entry, "No answer from the server (network down?)");
      return;
    }
    if (response.ok) {
      if (target === null) {
        entry.server = null;
        entry.version = null;
      } else {
        const body = await response.json();
        entry.server = normalise(body);
        entry.version = body.version;
        if (entry.outdated && body.outdated === false) {
          entry.outdated = false;
          const row = rowOf(entry);
          const badge = row && row.querySelector("[data-outdated]");
          if (badge) badge.remove();
          if (row) row.removeAttribute("data-outdated-label");
        }
      }
      finish(entry);
    } else if (response.status === 412 || (response.status === 404 && target === null)) {
      // The label is not the one this write replaces: another tab or window changed it, or an earlier attempt
      // of ours arrived although its answer did not. Read it: if it is what we want, we are done.
      let current;
      try {
        current = await readCurrent(entry);
      } catch (error) {
        retryLater(entry, "No answer from the server (network down?)");
        return;
      }
      entry.server = current.label;
      entry.version = current.version;
      if (same(current.label, target)) finish(entry);
      else stale(entry, target);
    } else if (response.status >= 500 || response.status === 429 || response.status === 408) {
      retryLater(entry, `The server could not save it (${response.status})`);
    } else {
      let detail = `refused (${response.status})`;
      try {
        detail = (await response.json()).detail || detail;
      } catch (error) {
        /* not JSON */
      }
      refuse(entry, detail);
    }
  }

  async function readCurrent(entry) {
    const response = await fetch(entry.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.status === 404) return { label: null, version: null };
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    return { label: normalise(body), version: body.version };
  }

  function finish(entry) {
    entry.inflight = false;
    entry.attempts = 0;
    if (entry.problem && entry.problem.kind === "retrying") entry.problem = null;
    if (!same(entry.desired, entry.server)) send(entry); // pressed again meanwhile: the next write, in order
    else settle(entry);
  }

  function settle(entry) {
    entry.inflight = false;
    entry.status = entry.server ? "saved" : "";
    entry.problem = null;
    paint(entry);
    updateStatus();
  }

  function retryLater(entry, reason) {
    metrics.failures += 1;
    entry.inflight = false;
    entry.status = "failed";
    const delay = RETRY_DELAYS[Math.min(entry.attempts, RETRY_DELAYS.length - 1)];
    entry.attempts += 1;
    entry.problem = { kind: "retrying", text: `${reason}; trying again in ${Math.round(delay / 100) / 10} s.` };
    paint(entry);
    window.clearTimeout(entry.timer);
    entry.timer = window.setTimeout(() => schedule(entry), delay);
  }

  function stale(entry, mine) {
    entry.inflight = false;
    entry.status = "failed";
    entry.problem = {
      kind: "stale",
      text: `Someone changed this label in another tab or window: it is now “${describe(entry.server)}”. Yours, “${describe(mine)}”, is not saved.`,
      mine,
    };
    paint(entry);
  }

  function refuse(entry, detail) {
    entry.inflight = false;
    entry.status = "failed";
    entry.problem = { kind: "refused", text: `Not saved: ${detail}` };
    paint(entry);
  }

  function retry(entry) {
    if (entry.problem && entry.problem.kind === "stale") entry.desired = entry.problem.mine;
    entry.problem = null;
    entry.attempts = 0;
    schedule(entry);
  }

  function withdraw(entry) {
    entry.desired = entry.server;
    entry.problem = null;
    window.clearTimeout(entry.timer);
    settle(entry);
  }

  window.addEventListener("online", () => entries.forEach((entry) => entry.problem && entry.problem.kind === "retrying" && schedule(entry)));
  window.addEventListener("beforeunload", (event) => {
    if (!unsaved().length) return;
    event.preventDefault();
    event.returnValue = "";
  });

  /* --- painting: DOM writes only, no layout reads -------------------------------------------------- */

  function paint(entry) {
    const row = rowOf(entry);
    if (!row) return;
    const label = entry.desired;
    row.classList.toggle("is-labelled", Boolean(label));
    row.dataset.state = entry.problem ? "failed" : entry.status;
    for (const button of row.querySelectorAll(".stance")) {
      const pressed = label && button.dataset.stance === label.stance ? "true" : "false";
      if (button.getAttribute("aria-pressed") !== pressed) button.setAttribute("aria-pressed", pressed);
    }
    const unsure = row.querySelector("[data-unsure]");
    if (unsure) unsure.setAttribute("aria-pressed", label && label.unsure ? "true" : "false");
    const count = row.querySelector("[data-evidence-count]");
    const spans = label ? label.evidence : [];
    if (count) count.textContent = spans.length ? ` ${spans.length}` : "";
    const mark = row.querySelector("[data-note-mark]");
    if (mark) mark.textContent = label && label.note ? " ✎" : "";
    const note = row.querySelector("textarea");
    if (note && document.activeElement !== note && entry.lastNote !== (label ? label.note : "")) {
      note.value = label ? label.note : "";
      entry.lastNote = note.value;
    }
    const version = row.querySelector(`input[name="version-${entry.topic}"]`);
    if (version) version.value = entry.version === null ? "" : String(entry.version);
    const key = JSON.stringify(spans);
    if (entry.paintedEvidence !== key) {
      entry.paintedEvidence = key;
      paintEvidenceList(row, entry, spans);
      if (entry.paintedEvidenceOnce) highlightEvidence();
      entry.paintedEvidenceOnce = true;
    }
    const stateNote = row.querySelector("[data-row-state]");
    if (stateNote) {
      const text = entry.problem ? "" : entry.status === "pending" ? "saving…" : entry.status === "saved" ? "saved" : "";
      if (stateNote.textContent !== text) stateNote.textContent = text;
    }
    paintProblem(row, entry);
    const panel = row.closest("[data-panel]");
    if (panel) panel.dataset.complete = isComplete(row.closest("[data-comment]")) ? "true" : "false";
  }

  function paintEvidenceList(row, entry, spans) {
    const list = row.querySelector("[data-evidence-list]");
    if (!list) return;
    list.replaceChildren(
      ...spans.map((span, index) => {
        const li = document.createElement("li");
        const quote = document.createElement("q");
        quote.textContent = span.text.length > 80 ? `${span.text.slice(0, 79)}…` : span.text;
        const remove = document.createElement("button");
        remove.type = "submit";
        remove.name = "do";
        remove.value = `${entry.topic}:remove:${index}`;
        remove.className = "icon-button";
        remove.dataset.removeEvidence = String(index);
        remove.setAttribute("aria-label", `Remove evidence “${span.text.slice(0, 30)}”`);
        remove.textContent = "×";
        li.append(quote, remove);
        return li;
      }),
    );
  }

  function paintProblem(row, entry) {
    let box = row.querySelector("[data-row-problem]");
    if (!entry.problem) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.className = "row-problem";
      box.dataset.rowProblem = "";
      box.setAttribute("role", "alert");
      row.appendChild(box);
    }
    const text = document.createElement("span");
    text.textContent = entry.problem.text;
    const stale = entry.problem.kind === "stale";
    const button = (className, data, label, action) => {
      const element = document.createElement("button");
      element.type = "button";
      element.className = className;
      element.dataset[data] = "";
      element.textContent = label;
      element.addEventListener("click", () => action(entry));
      return element;
    };
    box.replaceChildren(
      text,
      button("toggle", "retry", stale ? "Put mine back" : "Retry now", retry),
      button("toggle subtle", "withdraw", stale ? "Keep theirs" : "Withdraw my change", withdraw),
    );
  }

  function isComplete(item) {
    const rows = rowsOf(item);
    return rows.length > 0 && rows.every((row) => Boolean(entryFor(row).desired));
  }

  /* --- the cursor ---------------------------------------------------------------------------------- */

  function itemLabel(id) {
    const item = document.querySelector(`[data-comment-id="${id}"]`);
    const head = item && item.querySelector(".comment-head .number");
    return head ? head.textContent.trim() : id;
  }

  function renderCursor() {
    const old = document.querySelector(".comment.is-current");
    if (old && old !== state.item) old.classList.remove("is-current");
    const oldRow = document.querySelector(".topic-row.is-current-topic");
    const rows = rowsOf(state.item);
    if (rows.length) state.topic = Math.min(Math.max(state.topic, 0), rows.length - 1);
    const row = rows[state.topic] || null;
    if (oldRow && oldRow !== row) {
      oldRow.classList.remove("is-current-topic");
      oldRow.removeAttribute("aria-current");
    }
    if (!state.item) return;
    state.item.classList.add("is-current");
    if (row) {
      row.classList.add("is-current-topic");
      row.setAttribute("aria-current", "true");
    }
    updateStatus();
  }

  function updateStatus() {
    const status = document.getElementById("workspace-status");
    if (!status || !state.item) return;
    const rows = rowsOf(state.item);
    const row = rows[state.topic];
    const name = row ? row.querySelector(".topic-name").textContent.trim() : "";
    const pending = unsaved().length;
    const text = `Current: ${itemLabel(itemId(state.item))}${name ? " · " + name : ""}${pending ? ` · ${pending} saving` : ""}`;
    if (status.textContent !== text) status.textContent = text;
  }

  function announce(message) {
    const status = document.getElementById("workspace-status");
    if (status) status.textContent = message;
  }

  function arrive(item, topic, { focus = true, scroll = true } = {}) {
    if (!item) return;
    if (item !== state.item) state.itemStart.set(itemId(item), performance.now());
    state.item = item;
    state.topic = topic;
    renderCursor();
    if (focus) item.focus({ preventScroll: true });
    if (scroll) window.requestAnimationFrame(() => reveal(item));
  }

  // One layout read, then one scroll, in the frame after the key press.
  function reveal(item) {
    const box = item.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.6) window.scrollBy(0, box.top - 12);
  }

  function move(step) {
    const list = items();
    if (!list.length) return;
    const index = list.indexOf(state.item);
    const next = index === -1 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(index + step, 0), list.length - 1);
    if (list[next] !== state.item) arrive(list[next], 0); // landing on its first topic
  }

  function moveTopic(step) {
    if (!state.item) return arrive(items()[0], 0);
    const rows = rowsOf(state.item);
    if (!rows.length) return;
    state.topic = (state.topic + step + rows.length) % rows.length; // wraps within the item
    renderCursor();
  }

  const currentRow = () => rowsOf(state.item)[state.topic] || null;
  const firstOpen = (item) => rowsOf(item).findIndex((row) => !entryFor(row).desired);

  function nextUnfinished() {
    if (isQueue()) return queueNext();
    const list = items();
    const start = list.indexOf(state.item);
    for (let offset = 1; offset <= list.length; offset += 1) {
      const candidate = list[(start + offset) % list.length];
      const open = firstOpen(candidate);
      if (open !== -1) return arrive(candidate, open);
    }
    announce("Every item on this page is labelled on every topic.");
  }

  function nextItem() {
    if (isQueue()) return queueNext();
    move(1);
  }

  /* --- the keys' actions --------------------------------------------------------------------------- */

  function setStance(stance, when) {
    const row = currentRow();
    if (!row) return;
    record([change(row, withStance(stance), when)]);
    if (state.autoAdvance) advance();
  }

  function advance() {
    const rows = rowsOf(state.item);
    for (let offset = 1; offset < rows.length; offset += 1) {
      const index = (state.topic + offset) % rows.length;
      if (!entryFor(rows[index]).desired) {
        state.topic = index;
        renderCursor();
        return;
      }
    }
    nextItem();
  }

  // The fast path: not about on every topic of the current item that has no label yet.
  function fillNotAbout(when) {
    if (!state.item) return false;
    const changes = rowsOf(state.item)
      .filter((row) => !entryFor(row).desired)
      .map((row) => change(row, withStance("not_about"), when));
    return record(changes);
  }

  function toggleUnsure(when) {
    const row = currentRow();
    if (!row) return;
    const done = record([change(row, (label) => (label ? { ...label, unsure: !label.unsure } : undefined), when)]);
    if (!done) flash(row, "Choose a stance first: unsure qualifies a label.");
  }

  function clearLabel(when) {
    const row = currentRow();
    if (row) record([change(row, () => null, when)]);
  }

  function addEvidence(row, when) {
    const span = selectionSpan() || state.selection;
    const item = row.closest("[data-comment]");
    if (!span || span.item !== item) {
      flash(row, "Select some text of this item first (s selects a sentence).");
      return;
    }
    if (!entryFor(row).desired) {
      flash(row, "Choose a stance first: evidence supports a label.");
      return;
    }
    const text = bodyText(item).slice(span.start, span.end).join("");
    state.selection = null; // used once: a later `e` must not silently reuse an old selection
    record([change(row, (label) => normalise({ ...label, evidence: [...label.evidence, { start: span.start, end: span.end, text }] }), when)]);
  }

  function flash(row, message) {
    let note = row.querySelector(".flash");
    if (!note) {
      note = document.createElement("p");
      note.className = "flash error";
      note.setAttribute("role", "alert");
      row.appendChild(note);
    }
    note.textContent = message;
    window.setTimeout(() => note.remove(), 4000);
  }

  function showDialog(id) {
    const dialog = document.getElementById(id);
    if (dialog && !dialog.open) dialog.showModal();
  }

  /* --- evidence: offsets, highlights, sentences ---------------------------------------------------- */

  const codePoints = (text) => Array.from(text);

  function segmentsOf(item) {
    const body = item.querySelector("[data-body]");
    return body ? Array.from(body.querySelectorAll(".seg")) : [];
  }

  // The body as code points: each line at its offset, newlines between (the only characters between lines).
  function bodyText(item) {
    const text = [];
    for (const segment of segmentsOf(item)) {
      const start = Number(segment.dataset.start);
      while (text.length < start) text.push("\n");
      text.push(...codePoints(segment.textContent));
    }
    return text;
  }

  function boundaryOffset(segments, node, offset, isEnd) {
    for (let i = 0; i < segments.length; i += 1) {
      const segment = segments[i];
      const range = document.createRange();
      range.selectNodeContents(segment);
      const position = range.comparePoint(node, offset);
      const start = Number(segment.dataset.start);
      if (position === 0) {
        const before = document.createRange();
        before.setStart(segment, 0);
        before.setEnd(node, offset);
        return start + codePoints(before.toString()).length;
      }
      if (position < 0) {
        if (!isEnd || i === 0) return start;
        const previous = segments[i - 1];
        return Number(previous.dataset.start) + codePoints(previous.textContent).length;
      }
    }
    const last = segments[segments.length - 1];
    return Number(last.dataset.start) + codePoints(last.textContent).length;
  }

  function selectionSpan() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    const container = range.commonAncestorContainer;
    const element = container.nodeType === Node.ELEMENT_NODE ? container : container.parentElement;
    const item = element && element.closest("[data-comment]");
    const body = item && item.querySelector("[data-body]");
    if (!body || !(body.contains(range.startContainer) || body === range.startContainer)) return null;
    const segments = segmentsOf(item);
    if (!segments.length) return null;
    const start = boundaryOffset(segments, range.startContainer, range.startOffset, false);
    const end = boundaryOffset(segments, range.endContainer, range.endOffset, true);
    return end > start ? { item, start, end } : null;
  }

  // A code-point offset of the body as a DOM position (text node, UTF-16 offset), clamped into a line.
  function domPosition(segments, offset, isEnd) {
    for (let i = 0; i < segments.length; i += 1) {
      const segment = segments[i];
      const start = Number(segment.dataset.start);
      const points = codePoints(segment.textContent);
      const node = segment.firstChild;
      if (!node) continue;
      if (offset < start) return isEnd && i > 0 ? endOf(segments[i - 1]) : { node, offset: 0 };
      if (offset <= start + points.length) return { node, offset: points.slice(0, offset - start).join("").length };
    }
    return endOf(segments[segments.length - 1]);
  }

  function endOf(segment) {
    const node = segment.firstChild;
    return { node, offset: node ? node.data.length : 0 };
  }

  function rangeOf(item, start, end) {
    const segments = segmentsOf(item);
    if (!segments.length) return null;
    const from = domPosition(segments, start, false);
    const to = domPosition(segments, end, true);
    if (!from.node || !to.node) return null;
    const range = document.createRange();
    range.setStart(from.node, from.offset);
    range.setEnd(to.node, to.offset);
    return range;
  }

  // Saved (and pending) evidence stays marked in the text, through the CSS Custom Highlight API: no change to
  // the text's elements, so selections and offsets are untouched.
  function highlightEvidence() {
    if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") return;
    const ranges = [];
    for (const item of items()) {
      for (const row of rowsOf(item)) {
        const label = entryFor(row).desired;
        if (!label || !label.evidence.length) continue;
        for (const span of label.evidence) {
          const range = rangeOf(item, span.start, span.end);
          if (range) ranges.push(range);
        }
      }
    }
    CSS.highlights.set("evidence", new Highlight(...ranges));
  }

  // `s` selects the current item's first sentence, or extends the selection by the next one.
  function selectSentence() {
    if (!state.item) return;
    const text = bodyText(state.item);
    const current = selectionSpan();
    const from = current && current.item === state.item ? current.start : null;
    let position = current && current.item === state.item ? current.end : 0;
    while (position < text.length && /\s/.test(text[position])) position += 1;
    if (position >= text.length) return;
    const start = from === null ? position : from;
    let end = position;
    while (end < text.length) {
      const char = text[end];
      end += 1;
      if (char === "\n") {
        end -= 1;
        break;
      }
      if (/[.!?…]/.test(char) && (end >= text.length || /[\s"'”’)]/.test(text[end]))) {
        while (end < text.length && /["'”’)]/.test(text[end])) end += 1;
        break;
      }
    }
    const range = rangeOf(state.item, start, end);
    if (!range) return;
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    state.selection = { item: state.item, start, end };
  }

  document.addEventListener("selectionchange", () => {
    const span = selectionSpan();
    if (span) state.selection = span;
  });

  /* --- keys ---------------------------------------------------------------------------------------- */

  function measure(event) {
    const pressed = event.timeStamp;
    window.requestAnimationFrame(() => {
      metrics.keyToFrame.push(performance.now() - pressed);
      if (metrics.keyToFrame.length > 2000) metrics.keyToFrame.shift();
    });
  }

  function handleKey(event) {
    const key = event.key;
    const when = event.timeStamp;
    if (["1", "2", "3", "4"].includes(key)) setStance(STANCE_OF_KEY[key], when);
    else if (key === "0") {
      fillNotAbout(when);
      if (state.autoAdvance) nextItem();
    } else if (key === "Enter") {
      // Done with this item: not about on the topics still open, then the next item.
      const target = event.target;
      if (target && target.closest && target.closest("button, a, summary, input, select, textarea, [contenteditable]")) return false;
      fillNotAbout(when);
      nextItem();
    } else if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "t") moveTopic(1);
    else if (key === "T") moveTopic(-1);
    else if (key === "n") nextUnfinished();
    else if (key === "u") toggleUnsure(when);
    else if (key === "x" || key === "Delete" || key === "Backspace") clearLabel(when);
    else if (key === "z") undo();
    else if (key === "e") {
      const row = currentRow();
      if (row) addEvidence(row, when);
    } else if (key === "s") selectSentence();
    else if (key === "g") {
      const row = currentRow();
      if (row) showDialog(`guidelines-${row.dataset.topic}`);
    } else return false;
    return true;
  }

  document.addEventListener("pointerdown", () => (state.pointer = true), true);
  document.addEventListener("keydown", (event) => {
    state.pointer = false;
    if (event.defaultPrevented || event.altKey) return;
    const typing = isTyping(event.target);
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && (event.key === "z" || event.key === "Z")) {
      if (typing || openDialog() || !items().length) return;
      event.preventDefault();
      undo();
      measure(event);
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (event.key === "?" && !typing) {
      event.preventDefault();
      const help = document.getElementById("help");
      if (help && help.open) help.close();
      else showDialog("help");
      return;
    }
    if (openDialog() || typing || !items().length) return;
    if (!state.item) arrive(items()[0], 0, { scroll: false });
    if (handleKey(event)) {
      event.preventDefault();
      measure(event);
    }
  });

  /* --- mouse and forms ------------------------------------------------------------------------------ */

  // The panel's buttons go through the same writes as the keys (their form posts only without this file).
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      const panel = form.closest && form.closest("[data-panel]");
      if (!panel || !panel.dataset.api) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const button = event.submitter;
      if (!button || !button.value) return;
      // A click leaves the keyboard on the item, so that Enter means "done" rather than this button again;
      // a button reached with Tab keeps the focus.
      if (state.pointer) {
        const owner = button.closest("[data-comment]");
        if (owner) window.setTimeout(() => owner.focus({ preventScroll: true }), 0);
      }
      const [topic, operation, argument] = button.value.split(":");
      const row = panel.querySelector(`[data-topic-row][data-topic="${topic}"]`);
      if (!row) return;
      const when = performance.now();
      const item = row.closest("[data-comment]");
      if (item !== state.item) arrive(item, rowsOf(item).indexOf(row), { focus: false, scroll: false });
      if (STANCE_NAMES[operation]) record([change(row, withStance(operation), when)]);
      else if (operation === "unsure") {
        state.topic = rowsOf(item).indexOf(row);
        toggleUnsure(when);
      } else if (operation === "clear") record([change(row, () => null, when)]);
      else if (operation === "evidence") addEvidence(row, when);
      else if (operation === "remove") {
        const index = Number(argument);
        record([change(row, (label) => (label ? { ...label, evidence: label.evidence.filter((_, i) => i !== index) } : undefined), when)]);
      } else if (operation === "note") {
        const note = row.querySelector("textarea");
        const value = note ? note.value : "";
        const done = record([change(row, (label) => (label ? { ...label, note: value } : undefined), when)]);
        if (!done && !entryFor(row).desired) flash(row, "Choose a stance first: a note belongs to a label.");
      }
    },
    true,
  );

  // Pointer and focus set the current item and topic too, so mouse and keyboard can be mixed.
  function pointAt(target) {
    const item = target.closest && target.closest("[data-comment]");
    if (!item) return;
    const row = target.closest("[data-topic-row]");
    const topic = row ? rowsOf(item).indexOf(row) : item === state.item ? state.topic : 0;
    if (item === state.item && topic === state.topic) return;
    if (item !== state.item && !state.itemStart.has(itemId(item)) && state.lastAction) {
      state.itemStart.set(itemId(item), state.lastAction.time);
    }
    state.item = item;
    state.topic = topic;
    renderCursor();
  }

  document.addEventListener("focusin", (event) => pointAt(event.target));
  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!target.closest) return;
    const guidelines = target.closest("[data-guidelines]");
    if (guidelines) showDialog(`guidelines-${guidelines.dataset.guidelines}`);
    if (target.closest("[data-show-help]")) showDialog("help");
    // The queue's "Next" link moves on as `n` does: after the saves, without a round trip when it can.
    if (target.closest("[data-next-unfinished]") && !event.defaultPrevented && event.button === 0 && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      queueNext();
      return;
    }
    pointAt(target);
  });
  document.addEventListener("mousedown", (event) => {
    // The evidence button collapses the selection when pressed: remember it first.
    const span = selectionSpan();
    if (span) state.selection = span;
    if (event.target.closest && event.target.closest("[data-evidence-button]")) event.preventDefault();
  });

  window.addEventListener("hashchange", () => {
    const target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (target && target.matches("[data-comment]")) arrive(target, 0, { scroll: false });
  });

  // A thread's next chunk arrived: its evidence is marked too.
  document.addEventListener("htmx:afterSettle", () => highlightEvidence());

  /* --- settings ---------------------------------------------------------------------------------- */

  function settingKey() {
    const user = document.querySelector(".username");
    return `debate:auto-advance:${user ? user.textContent.trim() : ""}`;
  }

  function initSettings() {
    try {
      state.autoAdvance = window.localStorage.getItem(settingKey()) === "true";
    } catch (error) {
      state.autoAdvance = false;
    }
    for (const box of document.querySelectorAll("[data-auto-advance]")) {
      box.checked = state.autoAdvance;
      box.addEventListener("change", () => {
        state.autoAdvance = box.checked;
        try {
          window.localStorage.setItem(settingKey(), String(box.checked));
        } catch (error) {
          /* private mode: for this page only */
        }
        document.querySelectorAll("[data-auto-advance]").forEach((other) => (other.checked = box.checked));
      });
    }
  }

  /* --- the queue: the next item fetched ahead, moved to without a round trip ------------------------- */

  const prefetch = { url: null, html: null, promise: null };
  metrics.prefetched = () => Boolean(prefetch.html);

  function queueNextUrl() {
    const link = document.querySelector("[data-next-unfinished]");
    return link ? link.href : null;
  }

  // Not for qualification items: the next page shows the gold answers to this one, which it must read after
  // this item's labels are saved.
  const mayPrefetch = () => !document.querySelector("[data-next-unfinished][data-no-prefetch]");

  function prefetchNext() {
    const url = queueNextUrl();
    if (!url || prefetch.url === url || !mayPrefetch()) return;
    prefetch.url = url;
    prefetch.html = null;
    prefetch.promise = fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (prefetch.url === url) prefetch.html = html;
        return html;
      })
      .catch(() => null);
  }

  // Leaving the page: once every change is saved (a failed one stays, and says so, instead).
  function leaveWhenSaved(url) {
    const waiting = () => unsaved().filter((entry) => !entry.problem).length;
    if (unsaved().some((entry) => entry.problem)) {
      announce("A change is not saved: retry or withdraw it before moving on.");
      return;
    }
    if (!waiting()) {
      window.location.href = url;
      return;
    }
    announce("Saving before moving on…");
    window.setTimeout(() => leaveWhenSaved(url), 50);
  }

  function queueNext() {
    const url = queueNextUrl();
    if (!url) return;
    if (prefetch.url !== url || !prefetch.html || !mayPrefetch()) {
      leaveWhenSaved(url);
      return;
    }
    const next = new DOMParser().parseFromString(prefetch.html, "text/html");
    const main = next.querySelector("main");
    if (!main) {
      leaveWhenSaved(url);
      return;
    }
    const progress = document.getElementById("queue-progress");
    const finished = state.item && isComplete(state.item) && state.item.dataset.completeOnArrival !== "true";
    const done = progress ? Number(progress.value) + (finished ? 1 : 0) : 0;
    document.querySelector("main").replaceChildren(...Array.from(main.childNodes).map((node) => document.importNode(node, true)));
    document.title = next.title;
    window.history.pushState({}, "", url);
    const nextProgress = document.getElementById("queue-progress");
    if (nextProgress && progress) {
      nextProgress.value = Math.max(Number(nextProgress.value), done);
      const label = document.querySelector("label[for=queue-progress]");
      if (label) label.textContent = label.textContent.replace(/^\d+/, String(nextProgress.value));
    }
    if (window.htmx) window.htmx.process(document.querySelector("main"));
    start({ fresh: true });
  }

  window.addEventListener("popstate", () => {
    if (isQueue()) window.location.reload();
  });

  function initFocusMode() {
    const toggle = document.querySelector("[data-focus-mode]");
    if (!toggle) return;
    let on = false;
    try {
      on = window.localStorage.getItem("debate:focus-mode") === "true";
    } catch (error) {
      on = false;
    }
    const apply = () => {
      document.body.classList.toggle("focus-mode", on);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
    };
    apply();
    toggle.addEventListener("click", (event) => {
      on = !on;
      // Clicked: the keys go on working on the item (Enter would press this button again otherwise).
      if (event.detail > 0 && state.item) state.item.focus({ preventScroll: true });
      try {
        window.localStorage.setItem("debate:focus-mode", String(on));
      } catch (error) {
        /* for this page only */
      }
      apply();
    });
  }

  /* --- start ------------------------------------------------------------------------------------- */

  function start({ fresh = false } = {}) {
    const list = items();
    if (!document.getElementById("workspace-status") && list.length && document.body.classList.contains("workspace")) {
      const status = document.createElement("p");
      status.id = "workspace-status";
      status.className = "workspace-status";
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    for (const item of list) {
      item.dataset.completeOnArrival = isComplete(item) ? "true" : "false";
      for (const row of rowsOf(item)) paint(entryFor(row));
    }
    highlightEvidence();
    // The cursor: a deep link's item, else the first item not finished (else the first), on its first topic.
    const hash = decodeURIComponent(window.location.hash.slice(1));
    const target = hash ? document.getElementById(hash) : null;
    const linked = target && target.matches("[data-comment]") ? target : null;
    const initial = linked || list.find((item) => !isComplete(item)) || list[0];
    if (initial) {
      state.item = null;
      const moved = initial !== list[0];
      arrive(initial, 0, { focus: Boolean(linked) || moved || isQueue(), scroll: !linked && moved });
    }
    if (isQueue()) {
      initFocusMode();
      prefetchNext();
    }
    if (!fresh) initSettings();
    else document.querySelectorAll("[data-auto-advance]").forEach((box) => (box.checked = state.autoAdvance));
  }

  document.addEventListener("DOMContentLoaded", () => start());
})();
