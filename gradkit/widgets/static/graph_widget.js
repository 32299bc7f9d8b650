// gradkit GraphWidget front end: shows the server-made SVG, patches values and
// grads in place by node id, steps through backward/forward, inspects on click.
// Hand-written ES module, no bundler, no network. Every string from the kernel is
// put in the page with textContent, and the SVG is sanitised before insertion.

const SVG_NS = "http://www.w3.org/2000/svg";

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

function render({ model, el }) {
  const root = h("div", { class: "gradkit-graph" });
  const toolbar = h("div", { class: "gk-toolbar" });
  const title = h("span", { class: "gk-title" });
  const modeInspect = h("button", { class: "gk-mode gk-on", "data-mode": "inspect", title: "click a node to see everything about it" }, "inspect");
  const modeToggle = h("button", { class: "gk-mode", "data-mode": "toggle", title: "click a leaf to flip its requires_grad" }, "toggle requires_grad");
  const direction = h("select", { class: "gk-direction", title: "which pass to step through" });
  direction.append(h("option", { value: "backward" }, "backward"), h("option", { value: "forward" }, "forward"));
  const reset = h("button", { class: "gk-reset", title: "back to the live values" }, "reset");
  const prev = h("button", { class: "gk-prev", title: "previous step" }, "◀");
  const next = h("button", { class: "gk-next", title: "next step" }, "step ▶");
  const play = h("button", { class: "gk-play", title: "play all steps" }, "play");
  toolbar.append(title, h("span", { class: "gk-label" }, "click:"), modeInspect, modeToggle,
                 h("span", { class: "gk-sep" }), direction, reset, prev, next, play);
  const status = h("div", { class: "gk-status", role: "status" });
  const body = h("div", { class: "gk-body" });
  const picture = h("div", { class: "gk-svg" });
  const panel = h("div", { class: "gk-panel" });
  panel.hidden = true;
  body.append(picture, panel);
  root.append(toolbar, status, body);
  el.append(root);

  let svg = null;
  let mode = "inspect";
  let stepIndex = -1;
  let playTimer = null;
  let wantFirstStep = false;

  function drawSvg() {
    picture.replaceChildren();
    svg = sanitizedSvg(model.get("svg") || "");
    if (svg) picture.append(svg);
    applyValues(false);
    applyUntracked();
    applyStep();
  }

  function applyValues(flash = true) {
    if (!svg || stepIndex >= 0) return;
    for (const [id, v] of Object.entries(model.get("values") || {})) {
      setCell(svg, `gk-${id}-value`, v.value, flash);
      setCell(svg, `gk-${id}-grad`, v.grad == null ? "None" : v.grad, flash);
    }
  }

  function applyUntracked() {
    if (!svg) return;
    const off = new Set(model.get("untracked") || []);
    for (const g of svg.querySelectorAll("g.node")) {
      g.classList.toggle("gk-untracked", off.has(g.id.replace(/^gk-/, "")));
    }
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
      if (t && t.textContent === `${src}->${dst}`) found.push(g);
    }
    return found;
  }

  function labelEdge(edge, text) {
    const path = edge.querySelector("path");
    if (!path || typeof path.getTotalLength !== "function") return;
    const p = path.getPointAtLength(path.getTotalLength() / 2);
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("x", p.x + 6);
    label.setAttribute("y", p.y + 4);
    label.setAttribute("class", "gk-edge-grad");
    label.textContent = text;
    edge.append(label);
    edge.classList.add("gk-active");
  }

  function stepList() {
    const steps = model.get("steps") || {};
    return steps[direction.value] || [];
  }

  function applyStep() {
    clearStep();
    const steps = stepList();
    const error = (model.get("steps") || {}).error;
    if (stepIndex < 0 || !svg) {
      status.textContent = error && direction.value === "backward" ? error : model.get("note") || "";
      if (stepIndex < 0) applyValues(false);
      return;
    }
    const step = steps[stepIndex];
    if (!step) return;
    const active = byId(svg, `gk-${step.node}`);
    if (active) active.classList.add("gk-active");
    if (direction.value === "backward") {
      const used = new Map();
      for (const e of step.edges) {
        const key = `${e.src}->${e.dst}`;
        const list = edgesBetween(e.src, e.dst);
        const i = used.get(key) || 0;
        used.set(key, i + 1);
        if (list[i]) labelEdge(list[i], e.grad);
      }
      for (const [id, v] of Object.entries(model.get("values") || {})) {
        if (v.is_leaf && v.requires_grad) setCell(svg, `gk-${id}-grad`, step.leaf_grads[id] || "None", true);
      }
      for (let i = 0; i < stepIndex; i++) {
        const done = byId(svg, `gk-${steps[i].node}`);
        if (done) done.classList.add("gk-done");
      }
      const sent = step.edges.map((e) => `${e.grad} to ${e.to}`).join(", ");
      status.textContent = `backward step ${stepIndex + 1}/${steps.length}: ${step.name} receives ` +
        `${step.arriving.join(", ")} and sends ${sent || "nothing"}` +
        (stepIndex === steps.length - 1 ? " — done: these are the .grad values backward() gives" : "");
    } else {
      const later = new Set();
      for (let i = stepIndex + 1; i < steps.length; i++) {
        later.add(steps[i].node);
        for (const o of steps[i].outputs) later.add(o);
      }
      for (const g of svg.querySelectorAll("g.node")) {
        if (later.has(g.id.replace(/^gk-/, ""))) g.classList.add("gk-future");
      }
      status.textContent = `forward step ${stepIndex + 1}/${steps.length}: ${(byId(svg, `gk-${step.node}`)?.querySelector("text")?.textContent) || step.node} runs and records its grad_fn`;
    }
  }

  function go(delta) {
    const steps = stepList();
    if (!steps.length) {
      if (!(model.get("steps") || {}).backward) {
        wantFirstStep = true;
        model.send({ type: "steps" });
      }
      applyStep();
      return false;
    }
    stepIndex = Math.max(-1, Math.min(steps.length - 1, stepIndex + delta));
    applyStep();
    return stepIndex < steps.length - 1;
  }

  function stopPlay() {
    if (playTimer) clearInterval(playTimer);
    playTimer = null;
    play.textContent = "play";
  }

  function onClick(event) {
    const node = event.target.closest && event.target.closest("g.node");
    if (!node || !node.id.startsWith("gk-")) return;
    model.send({ type: mode, id: node.id.slice(3) });
  }

  function renderDetails() {
    const d = model.get("details") || {};
    panel.replaceChildren();
    if (!d.id) { panel.hidden = true; return; }
    const close = h("button", { class: "gk-close", title: "close" }, "×");
    close.addEventListener("click", () => { panel.hidden = true; });
    const table = h("table");
    for (const [k, v] of d.rows || []) {
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
    "change:untracked": applyUntracked,
    "change:details": renderDetails,
    "change:note": () => { if (stepIndex < 0) status.textContent = model.get("note"); },
    "change:title": () => { title.textContent = model.get("title"); },
    "change:steps": () => { if (wantFirstStep) { wantFirstStep = false; stepIndex = -1; go(1); } else applyStep(); },
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
  next.addEventListener("click", () => { stopPlay(); go(1); });
  prev.addEventListener("click", () => { stopPlay(); go(-1); });
  reset.addEventListener("click", () => { stopPlay(); stepIndex = -1; applyStep(); applyValues(false); });
  direction.addEventListener("change", () => { stopPlay(); stepIndex = -1; applyStep(); });
  play.addEventListener("click", () => {
    if (playTimer) { stopPlay(); return; }
    stepIndex = -1;
    play.textContent = "pause";
    go(1);
    playTimer = setInterval(() => { if (!go(1)) stopPlay(); }, 900);
  });

  title.textContent = model.get("title") || "";
  drawSvg();
  renderDetails();
  // step=True gets the steps ready, but the drawing starts live: values and grads
  // keep updating until the learner presses "step".
  if (model.get("step_mode")) status.textContent = "press step ▶ to walk through backward one node at a time";

  return () => {
    stopPlay();
    for (const [event, fn] of Object.entries(handlers)) model.off(event, fn);
  };
}

export default { render };
