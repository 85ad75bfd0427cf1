// obclip ui: the page. Plain JavaScript, no libraries, nothing from the network but this UI's
// own endpoints. Every decision about privacy and settings is made by the Swift side; this
// file only shows what it answers.
"use strict";

const $ = (id) => document.getElementById(id);
const numberFields = ["steps", "switchStep", "guidance", "width", "height", "dpEpsilon", "dpSubsetSize"];
const textFields = ["server", "token", "mode", "scheduler", "seed", "precision", "taxonomy", "negativePrompt"];
let config = null;
let analyzeTimer = null;
let analyzeSequence = 0;
let running = null;  // { id, links, source }

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function options(select, values) {
  select.replaceChildren(...values.map((value) => element("option", { value }, value)));
}

// The form as the UI's endpoints read it. A number field that does not parse is sent as typed,
// so the server side names the field and says what it expects.
function settings() {
  const form = {};
  for (const id of textFields) form[id] = $(id).value;
  for (const id of numberFields) {
    const raw = $(id).value.trim();
    form[id] = raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  form.accelerations = config.accelerations.filter((name) => $("accelerate-" + name).checked);
  form.dpSubset = $("dpSubset").checked;
  return form;
}

function fill(defaults) {
  for (const id of textFields.concat(numberFields)) $(id).value = defaults[id];
  for (const name of config.accelerations) $("accelerate-" + name).checked = defaults.accelerations.includes(name);
  $("dpSubset").checked = defaults.dpSubset;
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  return response.ok ? { ok: true, data } : { ok: false, error: data.error || { field: "server", message: response.statusText } };
}

// MARK: Problems

function showProblem(problem) {
  for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
  const box = $("problem");
  if (!problem) { box.hidden = true; box.textContent = ""; return; }
  const field = $(problem.field) || (problem.field === "accelerations" ? $("accelerations") : null);
  if (field) field.classList.add("invalid");
  const label = field && field.closest("label") ? field.closest("label").firstChild.textContent.trim()
    : document.querySelector(`label[for="${problem.field}"]`) ? document.querySelector(`label[for="${problem.field}"]`).firstChild.textContent.trim()
    : problem.field;
  box.textContent = `${label}: ${problem.message}`;
  box.dataset.field = problem.field;
  box.hidden = false;
}

// MARK: Analysis, as the person types

function analyzeSoon() {
  clearTimeout(analyzeTimer);
  analyzeTimer = setTimeout(analyze, 250);
}

async function analyze() {
  const sequence = ++analyzeSequence;
  const prompt = $("prompt").value;
  if (!prompt.trim()) { renderAnalysis(null); showProblem(null); return; }
  const answer = await call("POST", "/api/analyze", { prompt, settings: settings() });
  if (sequence !== analyzeSequence) return;  // a newer keystroke won
  if (!answer.ok) { renderAnalysis(null); showProblem(answer.error); return; }
  renderAnalysis(answer.data);
  showProblem(answer.data.problem || null);
}

function renderBackdrop(analysis) {
  const prompt = $("prompt").value;
  const marks = [];
  if (analysis && analysis.prompt === prompt) {
    for (const h of analysis.highlights) {
      const slot = h.slot === undefined || h.slot === null ? null : analysis.report.slots[h.slot];
      marks.push({ start: h.start, end: h.end, class: slot ? "hl slot" + (h.slot % 4) : "hl article",
                   title: slot ? `${slot.attribute}: hidden among ${slot.hiddenAmong.join(", ")}` : "article recomputed for every candidate" });
    }
    for (const u of analysis.unhidden) {
      if (u.start === undefined || u.start === null) continue;
      if (marks.some((m) => m.start < u.end && u.start < m.end)) continue;
      marks.push({ start: u.start, end: u.end, class: "unhidden", title: u.word.why });
    }
  }
  marks.sort((a, b) => a.start - b.start);
  const parts = [];
  let at = 0;
  for (const m of marks) {
    parts.push(prompt.slice(at, m.start));
    parts.push(element("mark", { class: m.class, title: m.title }, prompt.slice(m.start, m.end)));
    at = m.end;
  }
  parts.push(prompt.slice(at) + "\n");
  $("prompt-backdrop").replaceChildren(...parts);
}

function renderAnalysis(analysis) {
  renderBackdrop(analysis);
  if (!analysis) {
    $("candidate-count").textContent = "–";
    $("summary-text").textContent = "candidates";
    $("hidden-list").replaceChildren(element("li", { class: "muted" }, "nothing yet"));
    $("unhidden-list").replaceChildren(element("li", { class: "muted" }, "nothing"));
    $("candidate-list").replaceChildren();
    for (const id of ["guess", "cost", "dp", "sent-note"]) $(id).textContent = "";
    return;
  }
  const report = analysis.report;
  $("candidate-count").textContent = String(analysis.candidateCount);
  $("summary-text").textContent = analysis.candidateCount === 1
    ? "candidate: no sensitive attribute found, the prompt is sent as rendered"
    : `candidates: your prompt is one of ${analysis.candidateCount} the server cannot tell apart by their values`;

  $("hidden-list").replaceChildren(...(report.slots.length ? report.slots.map((slot, index) => element("li", {},
    element("span", { class: "swatch slot" + (index % 4) }),
    `person ${slot.person} (“${slot.personWord}”) ${slot.attribute} among `,
    ...slot.hiddenAmong.map((value) => element("span", { class: value === slot.realValue ? "chip real" : "chip",
      title: value === slot.realValue ? "yours (stays on this device)" : "" }, value))))
    : [element("li", { class: "muted" }, "no sensitive attribute found")]));

  $("unhidden-list").replaceChildren(...(analysis.unhidden.length ? analysis.unhidden.map((u) => element("li", {},
    element("span", { class: "unhidden-word" }, `“${u.word.word}”`), ` (${u.word.kind}; reveals ${u.word.reveals.join(", ")}): ${u.word.why}`))
    : [element("li", { class: "muted" }, "nothing: every sensitive word found is hidden")]));

  const sent = analysis.sent;
  $("candidate-list").replaceChildren(...analysis.candidates.map((candidate, index) => element("li", {
    class: index === analysis.realIndex ? "real" : "" }, candidate)));
  $("sent-note").textContent = sent.candidates.length === 0 ? "(nothing: device-only)"
    : sent.isPrivate ? `(${sent.candidates.length} prompts, ${sent.serverSteps} of ${sent.totalSteps} steps each)`
    : `(only your prompt: this mode hides nothing, ${sent.serverSteps} of ${sent.totalSteps} steps)`;

  $("guess").textContent = report.candidateCount > 1
    ? `The server's best guess is right with probability ${report.maxPosterior.toFixed(3)} under the population prior `
      + `(effective k = ${report.effectiveK.toFixed(2)}; 1/N = ${report.uniformGuessProbability.toFixed(3)}). `
      + `It sees that the prompt mentions ${report.attributeTypesRevealed.join(", ")}.`
    : "";
  const cost = analysis.serverCost;
  $("cost").textContent = !cost ? "" : cost.flops !== undefined && cost.flops !== null
    ? `Server cost: ${gflops(cost.flops)} (${gflops(cost.flopsWithoutAccelerations)} without accelerations), counted on ${cost.model}.`
    : `Server cost: ${cost.unavailable}.`;
  const dp = analysis.dpSubset;
  $("dp").textContent = dp
    ? `DP subset: ${dp.subsetSize} of ${dp.fullSize} are sent, drawn afresh for each generation (ε = ${dp.epsilon}); your variant is among them `
      + `with probability ${dp.inclusionProbability.toFixed(2)}, else the device makes the image alone; the server's best guess ≤ ${dp.maxPosteriorBound.toFixed(3)}.`
    : "";
}

function gflops(flops) {
  return flops >= 1e12 ? (flops / 1e12).toFixed(2) + " TFLOP" : (flops / 1e9).toFixed(2) + " GFLOP";
}

// MARK: Generation

async function generate() {
  const prompt = $("prompt").value;
  showProblem(null);
  const answer = await call("POST", "/api/generations", { prompt, settings: settings() });
  if (!answer.ok) { showProblem(answer.error); return; }
  const links = answer.data;
  $("progress").hidden = false;
  $("cancel").disabled = false;
  $("generate").disabled = true;
  setBar({ kind: "preparing", fraction: 0, label: "starting" });
  const source = new EventSource(links.events);
  running = { id: links.id, links, source };
  for (const kind of ["queued", "preparing", "server", "device", "decoding", "done", "failed", "cancelled"]) {
    source.addEventListener(kind, (event) => onUpdate(links, JSON.parse(event.data)));
  }
}

function setBar(update) {
  const bar = $("progress-bar");
  bar.className = update.kind;
  if (update.fraction === null || update.fraction === undefined) {
    // The server answers once: its wait shows as stripes; the bar keeps its width.
    if (update.kind === "server") bar.classList.add("waiting");
    if (update.serverShare) bar.style.width = (100 * update.serverShare).toFixed(1) + "%";
  } else {
    bar.style.width = (100 * update.fraction).toFixed(1) + "%";
  }
  bar.dataset.fraction = update.fraction === null || update.fraction === undefined ? "" : String(update.fraction);
  bar.dataset.kind = update.kind;
  const seconds = update.elapsed !== undefined ? ` · ${update.elapsed.toFixed(1)} s` : "";
  $("progress-label").textContent = update.label + seconds;
}

async function onUpdate(links, update) {
  if (!running || running.id !== links.id) return;
  setBar(update);
  if (!["done", "failed", "cancelled"].includes(update.kind)) return;
  running.source.close();
  running = null;
  $("cancel").disabled = true;
  $("generate").disabled = false;
  if (update.kind === "failed") showProblem({ field: "generation", message: update.label });
  if (update.kind !== "done") return;
  const report = await call("GET", links.report);
  $("result-image").src = links.image;
  $("download-image").href = links.image;
  $("download-report").href = links.report;
  $("result").hidden = false;
  if (report.ok) renderReport(report.data);
  refreshGallery();
}

function renderReport(report) {
  const rows = [];
  const add = (term, value) => rows.push(element("dt", {}, term), element("dd", {}, value));
  const privacy = report.privacy;
  const dp = report.dpSubset;
  if (privacy) {
    for (const slot of privacy.slots) add(`hidden: ${slot.attribute}`, `${slot.realValue}, among ${slot.hiddenAmong.join(", ")}`);
    add("visible", privacy.unhidden.length ? privacy.unhidden.map((u) => `“${u.word}” (${u.reveals.join(", ")})`).join("; ")
      : "no unhidden sensitive word");
    add("revealed by shape", privacy.attributeTypesRevealed.join(", ") || "nothing");
    add("best guess", dp ? `≤ ${dp.maxPosteriorBound.toFixed(3)} (DP subset, ε = ${dp.epsilon})`
      : `${privacy.maxPosterior.toFixed(3)} (effective k ${privacy.effectiveK.toFixed(2)}, N = ${privacy.candidateCount})`);
    if (dp) add("DP subset", `${dp.subsetSize} of ${dp.fullSize} sent; yours ${dp.realIndex === undefined || dp.realIndex === null ? "was not among them: made on the device alone" : "was among them"}`);
  } else {
    add("privacy", `none: mode ${report.mode} sends ${report.candidatesSent ? "your prompt itself" : "nothing"}`);
  }
  add("mode", `${report.mode}, ${report.candidatesSent} sent, seed ${report.seed}`);
  if (report.server) add("server", `${gflops(2 * report.server.executedMultiplyAdds)} executed, ${report.serverModelCalls} calls per candidate`);
  add("device", `${gflops(2 * report.device.executedMultiplyAdds)} executed, ${report.device.modelCalls} calls`);
  if (report.wire) add("wire", `${report.wire.requestBytes} bytes out, ${report.wire.responseBytes} back, ${report.wire.attempts} attempt(s)`);
  add("time", `${report.totalSeconds.toFixed(2)} s`);
  $("report").replaceChildren(element("h3", {}, "Privacy report"), element("dl", {}, ...rows));
}

async function cancel() {
  if (!running) return;
  $("cancel").disabled = true;
  await call("POST", running.links.cancel);
}

async function refreshGallery() {
  const answer = await call("GET", "/api/gallery");
  if (!answer.ok) return;
  const entries = answer.data;
  $("gallery").replaceChildren(...(entries.length ? entries.map((entry) => {
    const s = entry.settings;
    return element("figure", { title: entry.prompt },
      element("a", { href: entry.links.image, target: "_blank" }, element("img", { src: entry.links.image, alt: entry.prompt })),
      element("figcaption", {}, `${s.mode}, T ${s.steps}, k ${s.switchStep}, ${s.scheduler}, seed ${entry.seed}`));
  }) : [element("p", { class: "empty" }, "nothing yet")]));
}

// MARK: Start

async function start() {
  config = (await call("GET", "/api/config")).data;
  options($("mode"), config.modes);
  options($("scheduler"), config.schedulers);
  options($("precision"), config.precisions);
  options($("taxonomy"), config.taxonomies);
  $("accelerations").append(...config.accelerations.map((name) => element("label", { class: "inline" },
    element("input", { id: "accelerate-" + name, type: "checkbox" }), name)));
  fill(config.defaults);
  $("status").textContent = [config.demo ? "demo: bundled server running in this process" : config.local ? "device only" : "server " + (config.defaults.server || "not set"),
    "device model: " + config.deviceModel].join(" · ");
  $("prompt").addEventListener("input", analyzeSoon);
  $("prompt").addEventListener("scroll", () => { $("prompt-backdrop").scrollTop = $("prompt").scrollTop; });
  $("settings-form").addEventListener("input", analyzeSoon);
  $("settings-form").addEventListener("change", analyzeSoon);
  $("generate").addEventListener("click", generate);
  $("cancel").addEventListener("click", cancel);
  await refreshGallery();
  document.body.dataset.ready = "true";
  analyzeSoon();
}

start();
