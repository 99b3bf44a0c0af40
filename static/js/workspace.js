/*
 * Keyboard-driven annotation workspace.
 *
 * The page works without this file: every button is a real form button that posts to the server. This adds
 * the current comment and topic, the shortcuts listed in the help dialog, and evidence from a text selection.
 *
 * Offsets: the server counts code points, browsers count UTF-16 units. Each line of a comment body is a
 * `.seg` element whose `data-start` is its offset in code points; a selection is converted by counting the
 * code points of the selected text up to each boundary (Array.from splits by code point).
 */
(function () {
  "use strict";

  const state = { comment: null, topic: 0, selection: null };

  const comments = () => Array.from(document.querySelectorAll("[data-comment]"));
  const topicRows = (comment) => (comment ? Array.from(comment.querySelectorAll("[data-topic-row]")) : []);

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

  function openDialog() {
    return document.querySelector("dialog[open]");
  }

  function render() {
    document.querySelectorAll(".is-current").forEach((el) => el.classList.remove("is-current"));
    document.querySelectorAll("[aria-current='true'][data-topic-row]").forEach((el) => el.removeAttribute("aria-current"));
    document.querySelectorAll(".is-current-topic").forEach((el) => el.classList.remove("is-current-topic"));
    if (!state.comment || !document.body.contains(state.comment)) return;
    state.comment.classList.add("is-current");
    const rows = topicRows(state.comment);
    if (rows.length) {
      state.topic = Math.min(Math.max(state.topic, 0), rows.length - 1);
      rows[state.topic].classList.add("is-current-topic");
      rows[state.topic].setAttribute("aria-current", "true");
    }
    const status = document.getElementById("workspace-status");
    if (status) {
      const head = state.comment.querySelector(".comment-head .number, .result-where a");
      const topicName = rows.length ? rows[state.topic].querySelector(".topic-name").textContent : "";
      status.textContent = `Current: ${head ? head.textContent : "comment"}${topicName ? " · " + topicName : ""}`;
    }
  }

  function select(comment, { focus = true } = {}) {
    if (!comment) return;
    state.comment = comment;
    render();
    if (focus) {
      comment.focus({ preventScroll: true });
      comment.scrollIntoView({ block: "nearest", behavior: "instant" });
      if (comment.getBoundingClientRect().top < 0 || comment.getBoundingClientRect().top > window.innerHeight * 0.6) {
        comment.scrollIntoView({ block: "start", behavior: "instant" });
      }
    }
  }

  function move(step) {
    const list = comments();
    if (!list.length) return;
    const index = list.indexOf(state.comment);
    const next = index === -1 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(index + step, 0), list.length - 1);
    select(list[next]);
  }

  function moveTopic(step) {
    if (!state.comment) select(comments()[0]);
    const rows = topicRows(state.comment);
    if (!rows.length) return false;
    const next = state.topic + step;
    if (next < 0 || next >= rows.length) return false;
    state.topic = next;
    render();
    rows[state.topic].scrollIntoView({ block: "nearest", behavior: "instant" });
    return true;
  }

  function currentRow() {
    if (!state.comment) select(comments()[0]);
    return topicRows(state.comment)[state.topic] || null;
  }

  // One request at a time per comment: a key pressed while its panel is being saved waits for the new
  // panel, so fast typing neither clicks a button that is about to be replaced nor races two saves.
  const pending = new Map(); // comment id -> actions waiting for the comment's request to finish

  function whenIdle(comment, action) {
    const queue = pending.get(comment.dataset.commentId);
    if (queue) queue.push(action);
    else action();
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    const comment = event.target.closest && event.target.closest("[data-comment]");
    if (comment && !pending.has(comment.dataset.commentId)) pending.set(comment.dataset.commentId, []);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const id = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-comment]")?.dataset.commentId;
    const queue = id && pending.get(id);
    if (!queue) return;
    pending.delete(id);
    // Later actions re-queue themselves if the first one starts a new request.
    window.setTimeout(() => queue.forEach((action) => whenIdleById(id, action)), 0);
  });

  function whenIdleById(id, action) {
    const comment = document.querySelector(`[data-comment-id="${id}"]`);
    if (comment) whenIdle(comment, action);
  }

  function press(selector) {
    const row = currentRow();
    if (!row) return false;
    const comment = row.closest("[data-comment]");
    const topic = row.dataset.topic;
    whenIdle(comment, () => {
      // Look the button up again: the panel may have been re-rendered since the key was pressed.
      const fresh = document.querySelector(`[data-comment-id="${comment.dataset.commentId}"] [data-topic-row][data-topic="${topic}"]`);
      const button = fresh && fresh.querySelector(selector);
      if (!button || button.disabled) return;
      if (window.htmx) window.htmx.process(button.form || button);
      button.click();
    });
    return true;
  }

  function nextUnfinished() {
    const direct = document.querySelector("[data-next-unfinished]");
    if (direct) {
      window.location.href = direct.href;
      return;
    }
    const list = comments();
    const start = list.indexOf(state.comment);
    for (let offset = 1; offset <= list.length; offset += 1) {
      const candidate = list[(start + offset + list.length) % list.length];
      const panel = candidate.querySelector("[data-panel]");
      if (panel && panel.dataset.complete !== "true") {
        state.topic = firstUnlabelledTopic(candidate);
        select(candidate);
        return;
      }
    }
    window.location.href = "/annotate/";
  }

  function firstUnlabelledTopic(comment) {
    const index = topicRows(comment).findIndex((row) => !row.classList.contains("is-labelled"));
    return index === -1 ? 0 : index;
  }

  function showDialog(id) {
    const dialog = document.getElementById(id);
    if (dialog && !dialog.open) dialog.showModal();
  }

  /* --- evidence ---------------------------------------------------------------------------------- */

  function codePoints(text) {
    return Array.from(text).length;
  }

  function boundaryOffset(segments, node, offset, isEnd) {
    // The body offset (code points) of a selection boundary, clamped to the text of the segments.
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
        return start + codePoints(before.toString());
      }
      if (position < 0) {
        // The boundary lies before this segment: an end stops after the previous one, a start begins here.
        if (!isEnd) return start;
        if (i === 0) return start;
        const previous = segments[i - 1];
        return Number(previous.dataset.start) + codePoints(previous.textContent);
      }
    }
    const last = segments[segments.length - 1];
    return Number(last.dataset.start) + codePoints(last.textContent);
  }

  function selectionSpan() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    const container = range.commonAncestorContainer;
    const element = container.nodeType === Node.ELEMENT_NODE ? container : container.parentElement;
    const comment = element && element.closest("[data-comment]");
    const body = comment && comment.querySelector("[data-body]");
    if (!body || !(body.contains(range.startContainer) || body === range.startContainer)) return null;
    const segments = Array.from(body.querySelectorAll(".seg"));
    if (!segments.length) return null;
    const start = boundaryOffset(segments, range.startContainer, range.startOffset, false);
    const end = boundaryOffset(segments, range.endContainer, range.endOffset, true);
    return end > start ? { comment, start, end } : null;
  }

  document.addEventListener("selectionchange", () => {
    const span = selectionSpan();
    if (span) state.selection = span;
  });

  function attachEvidence(form, button) {
    // The live selection first (`selectionchange` arrives late after a fast keystroke), else the one remembered
    // before a click on the button collapsed it.
    const span = selectionSpan() || state.selection;
    const comment = form.closest("[data-comment]");
    if (!span || span.comment !== comment) {
      flash(button, "Select some text of this comment first.");
      return false;
    }
    form.querySelector("input[name=start]").value = String(span.start);
    form.querySelector("input[name=end]").value = String(span.end);
    state.selection = null; // used once: a later `e` must not silently reuse an old selection
    return true;
  }

  function flash(element, message) {
    const row = element.closest("[data-topic-row]");
    if (!row) return;
    let note = row.querySelector(".flash");
    if (!note) {
      note = document.createElement("p");
      note.className = "flash error";
      note.setAttribute("role", "alert");
      row.appendChild(note);
    }
    note.textContent = message;
  }

  // The evidence button sends the remembered selection's offsets, filled in just before the panel's form goes
  // (by click or by `e`); without a selection in this comment it sends nothing.
  document.addEventListener(
    "submit",
    (event) => {
      const button = event.submitter;
      if (button && button.matches("[data-evidence-button]") && !attachEvidence(event.target, button)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
  /* --- events ------------------------------------------------------------------------------------ */

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?" && !isTyping(event.target)) {
      event.preventDefault();
      const help = document.getElementById("help");
      if (help && help.open) help.close();
      else showDialog("help");
      return;
    }
    if (openDialog() || isTyping(event.target)) return;
    if (!comments().length) return;

    const key = event.key;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "t" || key === "T") moveTopic(key === "T" ? -1 : 1);
    else if (key === "Tab") {
      // Tab walks the topics of the current comment; past the last one it leaves, as Tab normally does.
      const inWorkspace = state.comment && (event.target === state.comment || state.comment.contains(event.target));
      if (!inWorkspace || !moveTopic(event.shiftKey ? -1 : 1)) return;
      const row = currentRow();
      const pressed = row && (row.querySelector(".stance[aria-pressed='true']") || row.querySelector(".stance"));
      if (pressed) pressed.focus({ preventScroll: true });
    } else if (["1", "2", "3", "4"].includes(key)) press(`.stance[data-stance-key="${key}"]`);
    else if (key === "u") press("[data-unsure]");
    else if (key === "e") press("[data-evidence-button]");
    else if (key === "n") nextUnfinished();
    else if (key === "g") {
      const row = currentRow();
      if (row) showDialog(`guidelines-${row.dataset.topic}`);
    } else return;
    event.preventDefault();
  });

  // Pointer and focus set the current comment and topic too, so mouse and keyboard can be mixed.
  document.addEventListener("focusin", (event) => {
    const comment = event.target.closest && event.target.closest("[data-comment]");
    if (!comment) return;
    const row = event.target.closest("[data-topic-row]");
    if (row) state.topic = topicRows(comment).indexOf(row);
    if (comment !== state.comment || row) {
      state.comment = comment;
      render();
    }
  });
  document.addEventListener("click", (event) => {
    const guidelines = event.target.closest && event.target.closest("[data-guidelines]");
    if (guidelines) showDialog(`guidelines-${guidelines.dataset.guidelines}`);
    if (event.target.closest && event.target.closest("[data-show-help]")) showDialog("help");
    const comment = event.target.closest && event.target.closest("[data-comment]");
    if (!comment) return;
    const row = event.target.closest("[data-topic-row]");
    if (row) state.topic = topicRows(comment).indexOf(row);
    state.comment = comment;
    render();
  });

  // A re-rendered panel replaces the old one: point the state at the new elements and keep the focus there.
  document.addEventListener("htmx:afterSwap", (event) => {
    const panel = event.detail.target && event.detail.target.id && document.getElementById(event.detail.target.id);
    const comment = (panel && panel.closest("[data-comment]")) || state.comment;
    if (comment && comment.querySelector("[data-panel]")) {
      state.comment = comment;
      render();
      const row = currentRow();
      const pressed = row && row.querySelector(".stance[aria-pressed='true']");
      if (pressed && comment.contains(document.activeElement) === false) pressed.focus({ preventScroll: true });
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    const status = document.createElement("p");
    status.id = "workspace-status";
    status.className = "workspace-status";
    status.setAttribute("aria-live", "polite");
    if (comments().length && document.body.classList.contains("workspace")) document.body.appendChild(status);
    const id = decodeURIComponent(window.location.hash.slice(1));
    const target = id ? document.getElementById(id) : null;
    const initial = target && target.matches("[data-comment]") ? target : comments()[0];
    if (initial) {
      state.topic = firstUnlabelledTopic(initial);
      select(initial, { focus: Boolean(target) || document.body.classList.contains("queue") });
    }
  });
})();
