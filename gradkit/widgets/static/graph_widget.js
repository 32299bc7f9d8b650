// gradkit GraphWidget front end: shows the server-made SVG at its natural size
// (zoom and scroll, never shrunk), patches values and grads in place by node id,
// steps through backward/forward a window of steps at a time, inspects on click.
// Hand-written ES module, no bundler, no network. Every string from the kernel is
// put in the page with textContent, and the SVG is sanitised before insertion.

const SVG_NS = "http://www.w3.org/2000/svg";
const PX_PER_PT = 4 / 3;          // Graphviz sizes in points; 100% zoom draws 1pt as 1.33 CSS px
const ZOOMS = [0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3];

function h(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// Parse SVG text and drop anything that could run code (defence in depth: the
// kernel already escapes every label).
function sanitizedSvg(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg") return null;
  const allowed = new Set(["svg", "g", "title", "path", "polygon", "polyline", "ellipse", "text", "a", "defs"]);
  for (const node of Array.from(svg.querySelectorAll("*"))) {
    if (!allowed.has(node.localName)) node.remove();   // no script, style, animate, set, foreignObject ...
  }
  for (const node of svg.querySelectorAll("*")) {
    for (const attr of Array.from(node.attributes)) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith("on")) node.removeAttribute(attr.name);
      if ((name === "href" || name === "xlink:href") && !value.startsWith("#")) node.removeAttribute(attr.name);
    }
  }
  return document.importNode(svg, true);
}

function byId(root, id) {
  return root ? root.querySelector(`[id="${CSS.escape(id)}"]`) : null;
}

function setCell(root, id, text, flash) {
  const cell = byId(root, id);
  const textNode = cell && cell.querySelector("text");
  if (!textNode || text == null || textNode.textContent === text) return;
  textNode.textContent = text;
  if (flash) {
    cell.classList.remove("gk-changed");
    void cell.getBoundingClientRect();  // restart the flash animation
    cell.classList.add("gk-changed");
  }
}

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function render({ model, el }) {
  const root = h("div", { class: "gradkit-graph" });
  const toolbar = h("div", { class: "gk-toolbar" });
  const title = h("span", { class: "gk-title" });
  const modeInspect = h("button", { class: "gk-mode gk-on", "data-mode": "inspect", title: "click a node to see everything about it" }, "inspect");
  const modeToggle = h("button", { class: "gk-mode", "data-mode": "toggle", title: "click a leaf to set its requires_grad to the opposite (changes the tensor in your kernel)" }, "toggle requires_grad");
  const direction = h("select", { class: "gk-direction", title: "which pass to step through", "aria-label": "pass to step through" });
  direction.append(h("option", { value: "backward" }, "backward"), h("option", { value: "forward" }, "forward"));
  const reset = h("button", { class: "gk-reset", title: "back to the live values" }, "reset");
  const prev = h("button", { class: "gk-prev", title: "previous step", "aria-label": "previous step" }, "◀");
  const next = h("button", { class: "gk-next", title: "next step" }, "step ▶");
  const play = h("button", { class: "gk-play", title: "play all steps" }, "play");
  const zoomOut = h("button", { class: "gk-zoom-out", title: "zoom out (ctrl + wheel)", "aria-label": "zoom out" }, "−");
  const zoomReset = h("button", { class: "gk-zoom-reset", title: "actual size" }, "100%");
  const zoomIn = h("button", { class: "gk-zoom-in", title: "zoom in (ctrl + wheel)", "aria-label": "zoom in" }, "+");
  const group = (...items) => { const g = h("span", { class: "gk-group" }); g.append(...items); return g; };
  toolbar.append(title, group(h("span", { class: "gk-label" }, "click:"), modeInspect, modeToggle),
                 group(direction, reset, prev, next, play), group(zoomOut, zoomReset, zoomIn));
  const status = h("div", { class: "gk-status", role: "status" });
  const body = h("div", { class: "gk-body" });
  const picture = h("div", { class: "gk-svg" });
  const panel = h("div", { class: "gk-panel" });
  panel.hidden = true;
  body.append(picture, panel);
  root.append(toolbar, status, body);
  el.append(root);

  let svg = null;
  let natural = null;      // the drawing's size in CSS px at 100%
  let zoom = 1;
  let mode = "inspect";
  let stepIndex = -1;
  let pendingIndex = null; // a step asked for whose window has not arrived yet
  let playTimer = null;

  // ------------------------------------------------------------ drawing and zoom
  function applyZoom() {
    if (!svg || !natural) return;
    svg.style.width = `${natural.width * zoom}px`;
    svg.style.height = `${natural.height * zoom}px`;
    zoomReset.textContent = `${Math.round(zoom * 100)}%`;
  }

  function setZoom(value, anchor) {
    const old = zoom;
    zoom = Math.max(ZOOMS[0], Math.min(ZOOMS[ZOOMS.length - 1], value));
    // keep the point under the pointer (or the view's centre) where it is
    const ax = anchor ? anchor.x : picture.clientWidth / 2;
    const ay = anchor ? anchor.y : picture.clientHeight / 2;
    const fx = (picture.scrollLeft + ax) / old, fy = (picture.scrollTop + ay) / old;
    applyZoom();
    picture.scrollLeft = fx * zoom - ax;
    picture.scrollTop = fy * zoom - ay;
  }

  function stepZoom(up) {
    const i = ZOOMS.findIndex((z) => z >= zoom - 1e-9);
    setZoom(up ? ZOOMS[Math.min(ZOOMS.length - 1, (ZOOMS[i] > zoom + 1e-9 ? i : i + 1))] : ZOOMS[Math.max(0, i - 1)]);
  }

  function drawSvg() {
    const keep = { left: picture.scrollLeft, top: picture.scrollTop };
    picture.replaceChildren();
    svg = sanitizedSvg(model.get("svg") || "");
    natural = null;
    if (svg) {
      const box = svg.viewBox && svg.viewBox.baseVal;
      const w = parseFloat(svg.getAttribute("width")), hgt = parseFloat(svg.getAttribute("height"));
      natural = box && box.width ? { width: box.width * PX_PER_PT, height: box.height * PX_PER_PT }
        : { width: w * PX_PER_PT, height: hgt * PX_PER_PT };
      svg.removeAttribute("style");          // the static output's "max-width:100%" would shrink it
      svg.style.maxWidth = "none";
      svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
      picture.append(svg);
      applyZoom();
    }
    applyValues(false);
    applyMarks();
    applyStep();
    picture.scrollLeft = keep.left;          // an update keeps the learner's place
    picture.scrollTop = keep.top;
  }

  function applyValues(flash = true) {
    if (!svg || stepIndex >= 0) return;
    for (const [id, v] of Object.entries(model.get("values") || {})) {
      setCell(svg, `gk-${id}-value`, v.value, flash);
      setCell(svg, `gk-${id}-grad`, v.grad == null ? "None" : v.grad, flash);
    }
  }

  function applyMarks() {
    if (!svg) return;
    const off = new Set(model.get("untracked") || []);
    const stale = new Set(model.get("stale") || []);
    for (const g of svg.querySelectorAll("g.node")) {
      const id = g.id.replace(/^gk-/, "");
      g.classList.toggle("gk-untracked", off.has(id));
      g.classList.toggle("gk-stale", stale.has(id));
    }
  }

  // ------------------------------------------------------------ step-through
  function windowFor(dir) {
    const win = model.get("step_window") || {};
    return win.direction === dir ? win : null;
  }

  function stepAt(i) {
    const win = windowFor(direction.value);
    if (!win || i < win.start || i >= win.start + win.steps.length) return null;
    return win.steps[i - win.start];
  }

  function total() {
    const win = windowFor(direction.value);
    return win ? win.total : null;
  }

  function request(index) {
    pendingIndex = index;
    model.send({ type: "steps", direction: direction.value, start: Math.max(0, index) });
  }

  function clearStep() {
    if (!svg) return;
    for (const n of svg.querySelectorAll(".gk-active, .gk-future, .gk-done")) n.classList.remove("gk-active", "gk-future", "gk-done");
    for (const n of svg.querySelectorAll(".gk-edge-grad")) n.remove();
  }

  function edgesBetween(src, dst) {
    const found = [];
    for (const g of svg.querySelectorAll("g.edge")) {
      const t = g.querySelector("title");
      if (t && (t.textContent === `${src}->${dst}` || t.textContent === `${src}&#45;&gt;${dst}`)) found.push(g);
    }
    return found;
  }

  // Where labels may not go: every text of the drawing, and the labels already placed.
  function occupiedBoxes() {
    return Array.from(svg.querySelectorAll("g.node text, g.edge text:not(.gk-edge-grad)")).map((t) => t.getBBox());
  }

  // Put a gradient label beside an edge, at the first spot along it that overlaps no other text.
  function labelEdge(edge, text, taken) {
    const path = edge.querySelector("path");
    if (!path || typeof path.getTotalLength !== "function") return;
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("class", "gk-edge-grad");
    label.textContent = text;
    edge.append(label);
    const length = path.getTotalLength();
    let chosen = null;
    let first = null;
    for (const f of [0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85]) {
      const p = path.getPointAtLength(length * f);
      for (const side of [1, -1]) {
        label.setAttribute("text-anchor", side > 0 ? "start" : "end");
        label.setAttribute("x", p.x + 5 * side);
        label.setAttribute("y", p.y + 4);
        const box = label.getBBox();
        if (!first) first = { x: p.x + 5 * side, y: p.y + 4, anchor: side > 0 ? "start" : "end", box };
        if (!taken.some((b) => overlaps(b, box))) { chosen = box; break; }
      }
      if (chosen) break;
    }
    if (!chosen) {           // nowhere free: stack below the first spot until it is
      label.setAttribute("x", first.x);
      label.setAttribute("text-anchor", first.anchor);
      let y = first.y;
      for (let k = 0; k < 40; k++) {
        label.setAttribute("y", y);
        chosen = label.getBBox();
        if (!taken.some((b) => overlaps(b, chosen))) break;
        y += chosen.height;
      }
    }
    taken.push(chosen);
    edge.classList.add("gk-active");
  }

  function describeBackward(step, index, count) {
    const head = `backward step ${index + 1}/${count}: `;
    const done = index === count - 1 ? " Done: these are the .grad values backward() gives." : "";
    if (step.kind === "accumulate") {
      const parts = step.contributions > 1 ? `its ${step.contributions} contributions, summed, = ${step.sum}` : `its gradient ${step.sum}`;
      const was = step.before == null ? `${step.leaf}.grad was None, so it is set to ${step.grad}`
        : `${step.leaf}.grad was ${step.before}: backward adds, ${step.leaf}.grad = ${step.grad}`;
      return `${head}AccumulateGrad writes ${step.leaf}.grad once, with ${parts}. ${was}.${done}`;
    }
    const sent = step.edges.map((e) => `${e.grad} to ${e.to}`).join(", ");
    let text = `${head}${step.name} receives ${step.arriving.join(", ") || "nothing"} and sends ${sent || "nothing"}.`;
    const waiting = Object.entries(step.buffers || {}).filter(([, b]) => b.got < b.of);
    for (const [id, b] of waiting) {
      const label = edgeLabelOf(step, id) || id;
      text += ` ${label}'s gradient is collected first: ${b.sum} so far (${b.got} of ${b.of} contributions); ` +
        `${label}.grad is written once, when all have arrived.`;
    }
    return text + done;
  }

  function edgeLabelOf(step, id) {
    const e = step.edges.find((x) => x.src === id);
    if (e) return e.to;
    const node = byId(svg, `gk-${id}`);
    const t = node && node.querySelector("text");
    return t ? t.textContent : null;
  }

  function applyStep() {
    clearStep();
    const win = model.get("step_window") || {};
    const error = windowFor("backward") ? windowFor("backward").error : "";
    if (stepIndex < 0 || !svg) {
      status.textContent = error && direction.value === "backward" ? error : model.get("note") || "";
      if (stepIndex < 0) applyValues(false);
      renderDetails();
      return;
    }
    const step = stepAt(stepIndex);
    if (!step) return;
    const count = total();
    const active = byId(svg, `gk-${step.node}`);
    if (active) active.classList.add("gk-active");
    if (direction.value === "backward") {
      const used = new Map();
      const taken = occupiedBoxes();
      for (const e of step.edges) {
        const key = `${e.src}->${e.dst}`;
        const list = edgesBetween(e.src, e.dst);
        const i = used.get(key) || 0;
        used.set(key, i + 1);
        if (list[i]) labelEdge(list[i], e.grad, taken);
      }
      for (const [id, v] of Object.entries(model.get("values") || {})) {
        if (v.is_leaf && v.requires_grad) setCell(svg, `gk-${id}-grad`, step.leaf_grads[id] ?? "None", true);
      }
      for (const [id, text] of Object.entries(step.tensor_grads || {})) setCell(svg, `gk-${id}-grad`, text, true);
      status.textContent = describeBackward(step, stepIndex, count);
    } else {
      const ran = new Set();
      for (let i = 0; i <= stepIndex; i++) {
        const s = stepAt(i);
        if (s) { ran.add(s.node); for (const o of s.outputs) ran.add(o); }
      }
      const values = model.get("values") || {};
      for (const g of svg.querySelectorAll("g.node")) {
        const id = g.id.replace(/^gk-/, "");
        const v = values[id];
        const made = v ? !v.is_leaf : id.startsWith("op");
        if (made && !ran.has(id)) g.classList.add("gk-future");
      }
      const name = byId(svg, `gk-${step.node}`)?.querySelector("text")?.textContent || step.node;
      status.textContent = `forward step ${stepIndex + 1}/${count}: ${name} runs and records its grad_fn`;
    }
    if (win) renderDetails();
  }

  function go(delta) {
    const count = total();
    if (count == null) { request(delta > 0 ? 0 : -1); return true; }
    if (!count) { stepIndex = -1; applyStep(); return false; }
    const target = Math.max(-1, Math.min(count - 1, stepIndex + delta));
    if (target >= 0 && !stepAt(target)) { request(target); return true; }
    stepIndex = target;
    applyStep();
    return stepIndex < count - 1;
  }

  function stopPlay() {
    if (playTimer) clearInterval(playTimer);
    playTimer = null;
    play.textContent = "play";
  }

  function backToLive() {
    stopPlay();
    stepIndex = -1;
    pendingIndex = null;
    applyStep();
    applyValues(false);
  }

  // ------------------------------------------------------------ inspect panel
  function onClick(event) {
    const node = event.target.closest && event.target.closest("g.node");
    if (!node || !node.id.startsWith("gk-")) return;
    model.send({ type: mode, id: node.id.slice(3) });
  }

  function renderDetails() {
    const d = model.get("details") || {};
    panel.replaceChildren();
    if (!d.id) { panel.hidden = true; return; }
    const close = h("button", { class: "gk-close", title: "close", "aria-label": "close" }, "×");
    close.addEventListener("click", () => { panel.hidden = true; });
    const table = h("table");
    let rows = (d.rows || []).map((r) => r.slice());
    const step = stepIndex >= 0 && direction.value === "backward" ? stepAt(stepIndex) : null;
    if (step) {
      // the drawing shows the replayed state: so does the panel (the live .grad is kept below)
      const replayed = step.leaf_grads[d.id] ?? step.tensor_grads[d.id];
      const row = rows.find((r) => r[0] === "grad");
      if (row) {
        const live = row[1];
        row[1] = `${replayed ?? "None"}   (step ${stepIndex + 1}/${total()} of the replay)`;
        rows = rows.filter((r) => r[0] !== "why");
        rows.push(["live .grad", live]);
      }
    }
    for (const [k, v] of rows) {
      const tr = h("tr");
      tr.append(h("th", {}, k), h("td", {}, v));
      table.append(tr);
    }
    panel.append(close, h("div", { class: "gk-panel-title" }, d.title || ""), table);
    panel.hidden = false;
  }

  const handlers = {
    "change:svg": drawSvg,
    "change:values": () => applyValues(true),
    "change:untracked": applyMarks,
    "change:stale": applyMarks,
    "change:details": renderDetails,
    "change:note": () => { if (stepIndex < 0) status.textContent = model.get("note"); },
    "change:title": () => { title.textContent = model.get("title"); },
    "change:step_window": () => {
      const win = model.get("step_window") || {};
      if (!win.direction) { backToLive(); return; }     // a new drawing: its steps are asked for again
      if (pendingIndex !== null) {
        const target = Math.min(pendingIndex, win.total - 1);
        pendingIndex = null;
        stepIndex = target;
      }
      applyStep();
    },
  };
  for (const [event, fn] of Object.entries(handlers)) model.on(event, fn);

  for (const button of [modeInspect, modeToggle]) {
    button.addEventListener("click", () => {
      mode = button.dataset.mode;
      modeInspect.classList.toggle("gk-on", mode === "inspect");
      modeToggle.classList.toggle("gk-on", mode === "toggle");
      root.classList.toggle("gk-toggle-mode", mode === "toggle");
    });
  }
  picture.addEventListener("click", onClick);
  picture.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;              // ctrl + wheel, and a trackpad's pinch, zoom
    event.preventDefault();
    const rect = picture.getBoundingClientRect();
    setZoom(zoom * Math.exp(-event.deltaY / 300), { x: event.clientX - rect.left, y: event.clientY - rect.top });
  }, { passive: false });
  zoomIn.addEventListener("click", () => stepZoom(true));
  zoomOut.addEventListener("click", () => stepZoom(false));
  zoomReset.addEventListener("click", () => setZoom(1));
  next.addEventListener("click", () => { stopPlay(); go(1); });
  prev.addEventListener("click", () => { stopPlay(); go(-1); });
  reset.addEventListener("click", backToLive);
  direction.addEventListener("change", () => { backToLive(); });
  play.addEventListener("click", () => {
    if (playTimer) { stopPlay(); return; }
    stepIndex = -1;
    play.textContent = "pause";
    go(1);
    playTimer = setInterval(() => { if (pendingIndex === null && !go(1)) stopPlay(); }, 900);
  });

  title.textContent = model.get("title") || "";
  drawSvg();
  renderDetails();
  // step=True shows the controls, but the drawing starts live: values and grads
  // keep updating until the learner presses "step".
  if (model.get("step_mode") && !model.get("note")) status.textContent = "press step ▶ to walk through backward one node at a time";

  return () => {
    stopPlay();
    for (const [event, fn] of Object.entries(handlers)) model.off(event, fn);
  };
}

export default { render };
