// Client behaviour of the demo: [n] → source card, "open full document" → article viewer.
// Loaded once into <head>; everything uses event delegation because Gradio re-renders the DOM.
(function () {
  if (window.__ragUi) return;
  window.__ragUi = true;

  function panel() {
    return document.getElementById("sources");
  }

  function scroller(el) {
    for (let node = el && el.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
    }
    return null;
  }

  function showGroup(root, turn) {
    const group = root.querySelector('.source-group[data-turn="' + turn + '"]');
    if (!group) return null;
    root.querySelectorAll(".source-group.active").forEach((g) => g !== group && g.classList.remove("active"));
    group.classList.add("active");
    return group;
  }

  function focusCard(turn, n) {
    const root = panel();
    if (!root) return;
    const group = showGroup(root, turn);
    if (!group) return;
    const card = group.querySelector('.source-card[data-n="' + n + '"]');
    if (!card) return;
    root.querySelectorAll(".source-card.focused").forEach((c) => c.classList.remove("focused"));
    // restart the flash animation even when the same card is clicked twice
    void card.offsetWidth;
    card.classList.add("focused");
    const box = scroller(card);
    const wide = window.matchMedia("(min-width: 861px)").matches;
    if (box && wide) {
      // scroll inside the sources column only, never the page
      const top = card.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop - 40;
      box.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
    } else {
      card.scrollIntoView({ behavior: "smooth", block: wide ? "nearest" : "start" });
    }
    card.focus({ preventScroll: true });
  }

  function viewer() {
    let v = document.getElementById("doc-viewer");
    if (!v) {
      v = document.createElement("div");
      v.id = "doc-viewer";
      v.className = "doc-viewer";
      v.setAttribute("hidden", "");
      v.innerHTML = '<div class="doc-backdrop"></div><div class="doc-sheet" role="dialog" aria-modal="true"></div>';
      (document.querySelector(".gradio-container") || document.body).appendChild(v);
    }
    return v;
  }

  function closeViewer() {
    const v = document.getElementById("doc-viewer");
    if (v) {
      v.setAttribute("hidden", "");
      v.classList.remove("open");
    }
  }

  async function openDocument(button) {
    const v = viewer();
    const sheet = v.querySelector(".doc-sheet");
    sheet.innerHTML = '<div class="doc-loading">…</div>';
    v.removeAttribute("hidden");
    v.classList.add("open");
    const server = window.__ragServer;
    try {
      if (!server || !server.full_document) throw new Error("not connected");
      const html = await server.full_document({
        doc: button.dataset.doc,
        para: Number(button.dataset.para),
        spans: button.dataset.spans || "",
        lang: button.dataset.lang || "zh",
        collection: document.querySelector("#collection input")?.value || "",
      });
      sheet.innerHTML = html;
      const hl = sheet.querySelector(".doc-para.hl");
      if (hl) hl.scrollIntoView({ block: "center" });
      const close = sheet.querySelector(".doc-close");
      if (close) close.focus({ preventScroll: true });
    } catch (err) {
      console.error(err);
      sheet.innerHTML = '<div class="doc-loading">⚠</div>';
    }
  }

  document.addEventListener("click", function (event) {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const cite = target.closest("a.cite");
    if (cite) {
      event.preventDefault();
      focusCard(cite.dataset.turn, cite.dataset.n);
      return;
    }
    const open = target.closest("button.open-doc");
    if (open) {
      event.preventDefault();
      openDocument(open);
      return;
    }
    if (target.closest(".doc-close") || target.classList.contains("doc-backdrop")) {
      closeViewer();
    }
  });

  // The documents tab: "select the page" ticks every row; a ticked row is highlighted.
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.closest("#doc-list")) return;
    const table = box.closest("table");
    if (box.classList.contains("doc-all") && table) {
      table.querySelectorAll("input.doc-pick").forEach((pick) => {
        pick.checked = box.checked;
        pick.closest("tr").classList.toggle("picked", box.checked);
      });
    } else if (box.classList.contains("doc-pick")) {
      box.closest("tr").classList.toggle("picked", box.checked);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeViewer();
  });


  // An answer arrives whole; it is revealed here piece by piece (about 14 steps, the caret at its
  // end), so the server holds no slot for the animation. Its timing line stays hidden until the text is in.
  const REVEAL_PIECES = 14;
  // Gradio may render a message twice in a row (a new element, the same text): an answer first
  // seen less than REVEAL_FRESH_MS ago is revealed again; an older one is left as it is.
  const REVEAL_FRESH_MS = 2000;
  const firstSeen = new Map();
  const handled = new WeakSet();

  function reveal(answer) {
    if (handled.has(answer)) return;
    handled.add(answer);
    const key = answer.dataset.turn + "\u0000" + answer.textContent;
    const now = Date.now();
    if (!firstSeen.has(key)) firstSeen.set(key, now);
    if (now - firstSeen.get(key) > REVEAL_FRESH_MS) return;
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push([node, node.data]);
    const total = nodes.reduce((sum, pair) => sum + pair[1].length, 0);
    const step = Math.max(4, Math.ceil(total / REVEAL_PIECES));
    if (total <= step) return;
    answer.classList.add("revealing");
    holdTimings();
    let shown = 0;
    function paint() {
      if (!answer.isConnected) return holdTimings(); // replaced by a new render, which reveals itself
      shown = Math.min(total, shown + step);
      let left = shown;
      for (const [node, text] of nodes) {
        node.data = text.slice(0, Math.max(0, left));
        left -= text.length;
      }
      if (shown < total) {
        setTimeout(paint, window.__ragRevealStepMs || 25);
        return;
      }
      answer.classList.remove("revealing");
      holdTimings();
    }
    paint();
  }

  // A timing line is held back (kept in place, hidden) while an answer beside it is still being
  // revealed, and shown again as soon as none is: whichever element Gradio re-renders, no line is lost.
  function holdTimings() {
    document.querySelectorAll("#chat .timing").forEach(function (timing) {
      const parent = timing.parentElement;
      const busy = !!parent && !!parent.querySelector(":scope > .answer.revealing");
      if (timing.classList.contains("held") !== busy) timing.classList.toggle("held", busy);
    });
  }

  function revealNew() {
    document.querySelectorAll("#chat .answer:not(.pending):not(.error):not(.draft)").forEach(reveal);
    holdTimings();
  }

  new MutationObserver(revealNew).observe(document.documentElement, { childList: true, subtree: true });

  window.ragUi = { focusCard: focusCard, openDocument: openDocument, closeViewer: closeViewer };
})();
