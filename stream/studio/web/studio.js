// stylecast studio: the page. Talks to the server's /api/ routes (stream/studio/server.py).
// What a crew made lives on the server (projects, looks, history, jobs): the page keeps only which
// project is open (in its address, #project=ID), so a reload comes back to it. Shots are named by
// their ids (never their place in the cut); every change is sent with the version of the project
// the page shows (If-Match): a change another tab made since is never overwritten (412: the page
// says so and keeps what was typed). The page follows changes made elsewhere (server-sent events).
"use strict";
const token = new URLSearchParams(location.search).get("token");
const tabId = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));  // this tab, in X-Stylecast-Tab
const $ = (id) => document.getElementById(id);
let project = null;     // the open project, as GET /api/projects/ID gives it (project.version: its ETag)
let selected = null;    // the id of the shot shown in the look editor
let chosen = new Set(); // ids of shots picked together (Ctrl/Shift-click) to take one look
let playhead = 0;       // the frame under the playhead
let dirty = false;      // the look editor holds changes not saved yet
let edited = new Set(); // which of its fields the user changed (kept over a reload after a 412)
let copied = null;      // a copied look
let shuttle = 0;        // the playhead's playing speed: frames a tick, negative backwards
let mediaKinds = {};    // clip name -> "sequence" for folders of pictures
let events = null;      // the open project's change stream

class ApiError extends Error {
  constructor(message, status, body) { super(message); this.status = status; this.body = body; }
}

async function api(path, options = {}) {
  const headers = Object.assign({"X-Stylecast-Tab": tabId}, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({}, options, {headers}));
  const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError((body && body.error) || response.statusText, response.status, body);
  return body;
}

// a change to the open project, made on the version this page shows
async function change(path, options = {}) {
  const opened = project;
  try {
    const done = await api(`/api/projects/${opened.id}${path}`,
      Object.assign({}, options, {headers: {"If-Match": `"${opened.version}"`}}));
    project = Object.assign(done, {suggested_output: opened.suggested_output});
    hideStale();
    return project;
  } catch (err) {
    if (err.status === 412) showStale(err.body && err.body.change);
    throw err;
  }
}
const withToken = (url) => token ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : url;
const enc = encodeURIComponent;

// every error is shown beside what caused it, in its own slot
function shown(slot, text) { const el = $(slot); el.textContent = text || ""; if (text) el.scrollIntoView({block: "nearest"}); }
async function guarded(slot, fn) {
  try { shown(slot, ""); return await fn(); } catch (err) { shown(slot, err.message); return undefined; }
}

// -- the folder and the projects -------------------------------------------------------------
async function loadMedia(choose) {
  const media = await api("/api/media");
  mediaKinds = Object.fromEntries(media.sequences.map((name) => [name, "sequence"]));
  $("media").replaceChildren(...media.media.map((name) => new Option(mediaKinds[name] ? name + "/ (pictures)" : name, name)));
  if (choose) $("media").value = choose;
  onMediaChange();
  const styles = [...media.builtin, ...media.pictures, ...media.models];
  $("all-styles").replaceChildren(...styles.map((name) => new Option(name)));
  $("shots-from").replaceChildren(new Option("find the shots", ""),
    ...media.shot_lists.map((name) => new Option("shots from " + name, name)));
  $("paint-image").replaceChildren(new Option("none", ""), ...media.pictures.map((name) => new Option(name, name)));
}
function onMediaChange() { $("fps-label").hidden = mediaKinds[$("media").value] !== "sequence"; }

async function loadProjects() {
  const {projects} = await api("/api/projects");
  $("no-projects").hidden = projects.length > 0;
  $("project-list").replaceChildren(...projects.map((p) => {
    const li = document.createElement("li");
    li.dataset.project = p.id;
    const when = p.updated ? new Date(p.updated * 1000).toLocaleString() : "";
    const open = document.createElement("button");
    open.textContent = p.name || p.media;
    open.className = "reopen";
    open.title = `open ${p.name || p.media} again`;
    open.onclick = () => guarded("open-error", () => showProjectById(p.id));
    const info = document.createElement("span");
    info.className = "info";
    info.textContent = ` ${p.shots} shots, ${p.looks} looks · ${p.state} · ${when}`;
    const del = document.createElement("button");
    del.textContent = "delete";
    del.className = "delete-project";
    del.onclick = () => guarded("open-error", async () => {
      if (!confirm(`Delete the project ${p.name || p.media}? (the clip and its renders stay in the folder)`)) return;
      await api(`/api/projects/${p.id}`, {method: "DELETE"});
      if (project && project.id === p.id) closeProject();
      await loadProjects();
    });
    li.append(open, info, " ", del);
    li.classList.toggle("current", !!project && project.id === p.id);
    return li;
  }));
}

async function openProject() {
  const media = $("media").value;
  if (!media) throw new Error("choose a clip of the folder first");
  const body = {media, shots: $("shots-from").value || null};
  if (mediaKinds[media] === "sequence") body.fps = Number($("fps").value);
  const {id} = await api("/api/projects", {method: "POST", json: body});
  await showProjectById(id);
}

async function showProjectById(id) {
  let found = await api(`/api/projects/${id}`);
  if (found.state === "finding") {
    $("finding").hidden = false;
    while (found.state === "finding") {
      $("find-progress").value = found.progress;
      await new Promise((r) => setTimeout(r, 300));
      found = await api(`/api/projects/${id}`);
    }
    $("finding").hidden = true;
  }
  await loadProjects();
  if (found.state === "failed") throw new Error(found.error);  // the project open before stays open
  if (project && project.id !== found.id && !(await settle("open another project"))) return;
  project = found;
  location.hash = "project=" + project.id;
  selected = project.shots.length ? project.shots[0].id : null;
  chosen = new Set(selected ? [selected] : []); playhead = 0; setDirty(false);
  $("output").value = project.suggested_output || "";
  hideStale();
  showProject();
  follow();
  await loadProjects();
}

function closeProject() {
  project = null;
  if (events) { events.close(); events = null; }
  history.replaceState(null, "", location.pathname + location.search);
  $("cut").hidden = $("shot").hidden = $("render-form").hidden = true;
}

// -- changes made elsewhere: followed when nothing is unsaved here, else said ------------------
function follow() {
  if (events) events.close();
  const id = project.id;
  events = new EventSource(withToken(`/api/projects/${id}/events?since=${project.version}`));
  events.addEventListener("change", (event) => {
    const news = JSON.parse(event.data);
    if (!project || project.id !== id || news.by === tabId || news.version <= project.version) return;
    const words = `another tab changed this project: ${news.what || "a change"}`;
    if (dirty) { showStale({what: news.what, by: news.by}); return; }  // what was typed here stays
    guarded("cut-error", async () => { await refresh(); $("elsewhere").textContent = words; });
  });
  events.addEventListener("deleted", () => { $("elsewhere").textContent = "this project was deleted in another tab"; });
}

async function refresh() {
  // the project as it is now; the look editor keeps the fields typed here and not saved
  const typed = dirty ? Object.fromEntries([...edited].map((id) => [id, fieldValue(id)])) : null;
  const fresh = await api(`/api/projects/${project.id}`);
  project = Object.assign(fresh, {suggested_output: fresh.suggested_output || project.suggested_output});
  if (!project.shots.some((s) => s.id === selected)) {
    const at = shotAt(playhead) || project.shots[0];
    if (typed) shown("look-error", "the shot you were editing is no longer in the cut: your changes are shown on the shot at the playhead");
    selected = at ? at.id : null;
  }
  chosen = new Set([...chosen].filter((id) => project.shots.some((s) => s.id === id)));
  if (!chosen.size && selected) chosen.add(selected);
  hideStale();
  showProject();
  if (typed) {
    for (const [id, value] of Object.entries(typed)) setField(id, value);
    edited = new Set(Object.keys(typed));
    setDirty(true);
  }
}

function showStale(news) {
  const who = news && news.what ? ` (another tab: ${news.what})` : "";
  $("stale-words").textContent = `changed elsewhere${who}: reload to see it. What you typed is kept, to save again.`;
  $("stale").hidden = false;
}
function hideStale() { $("stale").hidden = true; $("elsewhere").textContent = ""; }

// -- the cut: timeline, playhead, wipe, strip --------------------------------------------------
function lookWords(look, own) {
  if (!look) return "";
  if (look.keyframe) return "painted";
  const parts = [look.style || "?"];
  if (look.strength !== undefined && look.strength !== 1) parts.push(`strength ${look.strength}`);
  if (look.keep_colors) parts.push("keeps colours");
  if (look.keyframes && look.keyframes.length) parts.push(`${look.keyframes.length} keyframes`);
  return (own ? "" : "default: ") + parts.join(" · ");
}

function showProject() {
  $("cut").hidden = $("render-form").hidden = false;
  const tc = project.timecode ? `, starts at ${project.timecode}` : "";
  $("clip-name").textContent = `of ${project.name || project.media} (${project.frames} frames at ${project.rate} frames/s${tc})`;
  $("clip-name").title = project.media;
  for (const fmt of ["otio", "edl", "xml", "csv"]) $("export-" + fmt).href = withToken(`/api/projects/${project.id}/cut.${fmt}`);
  $("export-json").href = withToken(`/api/projects/${project.id}/looks.json`);
  $("undo").disabled = !project.undo; $("undo").title = project.undo ? `undo ${project.undo} (Ctrl+Z)` : "nothing to undo";
  $("redo").disabled = !project.redo; $("redo").title = project.redo ? `redo ${project.redo} (Ctrl+Shift+Z)` : "nothing to redo";
  $("default-style").value = project.default_look.style || "";
  $("default-strength").value = project.default_look.strength ?? 1;
  $("playhead-frame").max = project.frames - 1;
  showTimeline();
  $("strip").replaceChildren(...project.shots.map(shotCard));
  showShot();
  movePlayhead(playhead, false);
}

function shotCard(shot) {
  const li = document.createElement("li");
  li.dataset.shot = shot.shot;
  li.dataset.id = shot.id;
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  li.setAttribute("aria-label", `shot ${shot.shot}`);
  li.classList.toggle("selected", shot.id === selected);
  li.classList.toggle("chosen", chosen.has(shot.id) && chosen.size > 1);
  const img = new Image();
  img.src = withToken(`/api/projects/${project.id}/shots/${shot.id}.jpg?f=${shot.first_frame}-${shot.last_frame}`);
  img.alt = `shot ${shot.shot}`;
  const text = document.createElement("div");
  const own = !!shot.look;
  text.innerHTML = `<b>${shot.shot}</b> <span class="tc"></span><div class="tc frames"></div><div class="look-name"></div>`;
  text.querySelector(".tc").textContent = `${shot.timecode_in} – ${shot.timecode_out}`;
  text.querySelector(".frames").textContent = `frames ${shot.first_frame}–${shot.last_frame}`;
  const name = text.querySelector(".look-name");
  name.textContent = lookWords(shot.renders, own);
  name.classList.toggle("inherited", !own);
  li.append(img, text);
  if (shot.shot < project.shots.length) {
    const merge = document.createElement("button");
    merge.textContent = "merge with next";
    merge.className = "merge";
    merge.onclick = (event) => { event.stopPropagation(); guarded("cut-error", () => recut("merge", {shot: shot.id})); };
    li.append(merge);
  }
  const pick = (event) => guarded("look-error", () => choose(shot.id, event.ctrlKey || event.metaKey, event.shiftKey));
  li.onclick = pick;
  li.onkeydown = (event) => { if (event.key === "Enter") pick(event); };
  return li;
}

function showTimeline() {
  $("segments").replaceChildren(...project.shots.map((shot) => {
    const seg = document.createElement("div");
    seg.className = "segment";
    seg.style.flexGrow = shot.frames;
    seg.title = `shot ${shot.shot}: ${lookWords(shot.renders, !!shot.look)}`;
    seg.classList.toggle("selected", shot.id === selected);
    seg.textContent = shot.shot;
    return seg;
  }));
}

function shotAt(frame) { return project.shots.find((s) => s.first_frame <= frame && frame <= s.last_frame); }

function movePlayhead(frame, follow = true) {
  if (!project) return;
  playhead = Math.max(0, Math.min(project.frames - 1, Math.round(frame)));
  $("playhead").style.left = `${(100 * playhead) / Math.max(1, project.frames)}%`;
  $("playhead-frame").value = playhead;
  const shot = shotAt(playhead);
  $("playhead-tc").textContent = shot ? timecodeOf(playhead) + ` (shot ${shot.shot})` : "";
  $("wipe-before").src = withToken(`/api/projects/${project.id}/frames/${playhead}.jpg`);
  const painted = shot && shot.renders && shot.renders.keyframe;
  $("wipe-after-box").hidden = !!painted;
  $("wipe-note").textContent = painted ? "a painted shot: see its preview" : "before | after (drag)";
  if (!painted) $("wipe-after").src = withToken(`/api/projects/${project.id}/frames/${playhead}.jpg?look=1&v=${project.undo || ""}`);
  if (follow && shot && shot.id !== selected) guarded("look-error", () => choose(shot.id, false, false));
}

function timecodeOf(frame) {
  const shot = shotAt(frame);
  if (!shot) return "";
  const [h, m, s, f] = shot.timecode_in.split(/[:;]/).map(Number);
  const [num, den] = String(project.rate).split("/").map(Number);
  const rate = Math.round(num / (den || 1));  // "25" or "30000/1001": labels count whole frames
  let total = (((h * 60 + m) * 60 + s) * rate + f) + (frame - shot.first_frame);
  const ff = total % rate; total = Math.floor(total / rate);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}:${pad(ff)}`;
}

function timelineFrame(event) {
  const box = $("timeline").getBoundingClientRect();
  return ((event.clientX - box.left) / box.width) * project.frames;
}

function keepSelection() {
  // the selected shot by its id; where it is gone (merged, undone), the shot at the playhead
  if (!project.shots.some((s) => s.id === selected)) {
    const at = shotAt(playhead) || project.shots[0];
    selected = at ? at.id : null;
  }
  chosen = new Set(selected ? [selected] : []);
}

async function recut(kind, body) {
  if (!(await settle(kind))) return;
  await change(`/${kind}`, {method: "POST", json: body});
  keepSelection();
  showProject();
  await loadProjects();
}

async function step(way) {
  if (dirty) {  // the unsaved edit is what an undo takes back first, once the user says so
    if (way === "undo" && confirm(`Undo your unsaved changes to shot ${numberOf(selected)}'s look?`)) { showShot(); return; }
    if (way === "redo" && !(await settle("redo"))) return;
    if (way === "undo") return;
  }
  await change(`/${way}`, {method: "POST"});
  keepSelection();
  showProject();
}

// a pending look edit is saved before anything that would show another state of the look editor
async function settle(what) {
  if (!dirty) return true;
  try { await saveLook(); return true; }
  catch (err) { shown("look-error", `${err.message} (your changes are kept; ${what} waits until they are saved)`); return false; }
}

// -- a shot's look ----------------------------------------------------------------------------
function numberOf(id) { const s = project.shots.find((shot) => shot.id === id); return s ? s.shot : "?"; }

async function choose(shot, add, range) {
  if (!add && !range && shot === selected && chosen.size === 1) return;  // already shown: the edit stays as it is
  if (dirty && !add && !range && !(await settle("moving to another shot"))) return;  // a change is never dropped
  if (range) {
    const numbers = [numberOf(selected), numberOf(shot)];
    const [a, b] = [Math.min(...numbers), Math.max(...numbers)];
    for (const s of project.shots) if (s.shot >= a && s.shot <= b) chosen.add(s.id);
  } else if (add) {
    chosen.has(shot) && chosen.size > 1 ? chosen.delete(shot) : chosen.add(shot);
  } else {
    chosen = new Set([shot]);
    selected = shot;
  }
  for (const li of $("strip").children) {
    li.classList.toggle("selected", Number(li.dataset.id) === selected);
    li.classList.toggle("chosen", chosen.has(Number(li.dataset.id)) && chosen.size > 1);
  }
  showTimeline();
  if (add || range) { showTitle(); return; }  // picking more shots keeps the look being edited
  showShot();
}

function showTitle() {
  const numbers = [...chosen].map(numberOf).sort((a, b) => a - b);
  const shot = project.shots.find((s) => s.id === selected);
  $("shot-title").textContent = chosen.size > 1 ? `Shots ${numbers.join(", ")}` : `Shot ${shot ? shot.shot : "?"}`;
  $("save-look").textContent = chosen.size > 1 ? `Use this look for the ${chosen.size} shots` : "Use this look";
}

function showShot() {
  const shot = project.shots.find((s) => s.id === selected);
  if (!shot) { $("shot").hidden = true; return; }
  $("shot").hidden = false;
  showTitle();
  $("shot-range").textContent = `${shot.timecode_in} – ${shot.timecode_out}, ${shot.frames} frames`;
  const look = shot.look || {};
  $("style").value = look.style || "";
  $("style").placeholder = look.keyframe ? "" : `default: ${project.default_look.style}`;
  $("strength").value = look.strength ?? 1;
  $("stability").value = look.stability ?? 0.8;
  $("keep-colors").checked = !!look.keep_colors;
  $("keyframes").value = look.keyframes ? JSON.stringify(look.keyframes) : "";
  const painted = (look.keyframe || [])[0];
  $("paint-frame").value = painted ? painted.frame : Math.round((shot.first_frame + shot.last_frame) / 2);
  $("paint-image").value = painted ? painted.image : "";
  $("strength-value").textContent = $("strength").value;
  $("stability-value").textContent = $("stability").value;
  $("preview-box").hidden = true;
  $("paste-look").disabled = !copied;
  setDirty(false, shot.look ? "saved" : "no look of its own: the default");
  markGallery();
}

// "✓ saved" only ever follows the server's answer
function setDirty(value, words) {
  dirty = value;
  if (!value) edited = new Set();
  $("saved").textContent = value ? "unsaved changes" : (words ? "✓ " + words : "");
  $("saved").classList.toggle("unsaved", value);
}

function fieldValue(id) { return $(id).type === "checkbox" ? $(id).checked : $(id).value; }
function setField(id, value) {
  if ($(id).type === "checkbox") $(id).checked = value; else $(id).value = value;
  if ($(id + "-value")) $(id + "-value").textContent = value;
  if (id === "style") markGallery();
}
function edit(id) { edited.add(id); setDirty(true); }

function editedLook() {
  const look = {strength: Number($("strength").value), stability: Number($("stability").value),
                keep_colors: $("keep-colors").checked};
  if ($("paint-image").value) {
    look.keyframe = [{frame: Number($("paint-frame").value), image: $("paint-image").value}];
  } else if ($("style").value.trim()) look.style = $("style").value.trim();
  if ($("keyframes").value.trim()) {
    try { look.keyframes = JSON.parse($("keyframes").value); }
    catch (err) { throw new Error(`the keyframes are not JSON (${err.message}): write them as in a looks file`); }
  }
  return look;
}

async function saveLook(look = editedLook()) {
  const ids = [...chosen];
  const numbers = ids.map(numberOf).sort((a, b) => a - b);
  if (ids.length > 1) await change("/looks", {method: "PUT", json: {shots: ids, look}});
  else await change(`/looks/${selected}`, {method: "PUT", json: look});
  setDirty(false);
  showProject();
  setDirty(false, ids.length > 1 ? `saved for shots ${numbers.join(", ")}` : "saved");
  await loadProjects();
}

async function saveDefault() {
  const look = {style: $("default-style").value.trim(), strength: Number($("default-strength").value)};
  await change("/default-look", {method: "PUT", json: look});
  showProject();
}

// -- a shot's preview: its own work on the server, followed here (training, then rendering) -----
let previewKey = null;
function minutes(s) { return s == null ? "" : s < 90 ? `about ${Math.round(s)} s left` : `about ${Math.round(s / 60)} min left`; }

async function preview() {
  if (!(await settle("the preview"))) return;
  $("preview").disabled = true;
  $("preview-box").hidden = false;
  $("preview-progress").hidden = false;
  $("preview-progress").value = 0;
  $("flicker").textContent = "rendering the preview…";
  try {
    let p = await api(`/api/projects/${project.id}/shots/${selected}/preview`, {method: "POST", json: {seconds: 3}});
    previewKey = p.key;
    $("preview-cancel").hidden = p.state !== "running";
    while (p.state === "running") {
      showPreviewProgress(p);
      await new Promise((r) => setTimeout(r, 500));
      if (previewKey !== p.key) return;  // another preview took its place
      p = await api(`/api/previews/${p.key}/state`);
    }
    if (p.state !== "done") throw new Error(`the preview ${p.state}: ${p.error || ""}`);
    $("before").src = withToken(p.before);
    $("after").src = withToken(p.after);
    $("preview-video").src = withToken(p.video);
    $("flicker").textContent = `${p.frames} frames in ${p.style}, stabilized; flicker ${p.flicker ?? "–"} grey levels ` +
      `a frame where the picture holds still (lower is steadier; the source's own: ${p.source_flicker ?? "–"})`;
  } catch (err) {
    $("flicker").textContent = "";
    $("preview-box").hidden = true;
    throw err;
  } finally {
    $("preview").disabled = false;
    $("preview-cancel").hidden = true;
    $("preview-progress").hidden = true;
  }
}

function showPreviewProgress(p) {
  $("preview-progress").value = p.progress || 0;
  const left = minutes(p.eta_s);
  $("flicker").textContent = p.training
    ? `training the painting's network: ${p.done || 0}%${p.info ? " (" + p.info + ")" : ""}${left ? ", " + left : ""}`
    : `rendering the preview: frame ${p.done || 0}${p.total ? " of " + p.total : ""}${left ? ", " + left : ""}`;
}

async function cancelPreview() {
  if (!previewKey) return;
  await api(`/api/previews/${previewKey}/cancel`, {method: "POST"});
}

async function loadGallery() {
  const {styles} = await api("/api/styles");
  $("gallery").replaceChildren(...styles.map(({name}) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.style = name;
    button.title = name;
    const img = new Image();
    img.src = withToken(`/api/thumbs/${name}.jpg`);
    img.alt = name;
    button.append(img, name);
    button.onclick = () => { $("style").value = name; $("paint-image").value = ""; markGallery(); edit("style"); edit("paint-image"); };
    return button;
  }));
}
function markGallery() {
  for (const b of $("gallery").children) b.classList.toggle("chosen", b.dataset.style === $("style").value);
}

// -- renders and jobs --------------------------------------------------------------------------
async function render() {
  if (!(await settle("the render"))) return;
  const reply = await api(`/api/projects/${project.id}/render`, {method: "POST",
    json: {output: $("output").value.trim(), codec: $("codec").value || null,
           from: $("range-from").value.trim() || null, to: $("range-to").value.trim() || null}});
  const fresh = await api(`/api/projects/${project.id}`);
  $("output").value = fresh.suggested_output || "";  // the next render gets a name of its own
  project.suggested_output = fresh.suggested_output;
  shown("render-error", "");
  await showJobs();
  return reply;
}

function jobRow(tr, job) {
  tr.dataset.state = job.state;
  const cells = tr.children;
  cells[0].textContent = job.id;
  cells[1].textContent = cells[1].title = job.clip || "";
  cells[2].textContent = cells[2].title = job.output;
  cells[3].textContent = job.state + (job.phase ? ` (${job.phase})` : "") + (job.error ? ": " + job.error : "");
  const share = job.training ? (job.training.done / Math.max(1, job.training.total)) : job.progress;
  cells[4].querySelector("progress").value = share;
  cells[4].querySelector("span").textContent = ` ${Math.round(share * 100)}%` + (job.training ? " trained" : "");
  cells[5].textContent = job.fps != null && !job.training ? job.fps.toFixed(1) : "";
  cells[6].textContent = job.eta_s != null ? minutes(job.eta_s).replace("about ", "").replace(" left", "") : "";
  const actions = cells[7];
  const want = job.state === "done" ? ["play", "download", "delete"]
    : (job.state === "queued" || job.state === "running") ? ["cancel"] : ["retry", "delete"];
  if (actions.dataset.want === want.join()) return;  // left as it is: focus stays on its buttons
  actions.dataset.want = want.join();
  actions.replaceChildren(...want.map((what) => jobAction(job, what)));
}

function jobAction(job, what) {
  if (what === "download") {
    const a = document.createElement("a");
    a.href = withToken(`/api/jobs/${job.id}/download`);
    a.textContent = "download";
    a.className = "download";
    return a;
  }
  const b = document.createElement("button");
  b.textContent = what;
  b.className = what;
  b.onclick = () => guarded("jobs-error", async () => {
    if (what === "play") {
      $("player").hidden = false;
      $("player-title").textContent = `Job ${job.id}: ${job.output}`;
      $("player-video").src = withToken(`/api/jobs/${job.id}/download?play=1`);
      return;
    }
    await api(`/api/jobs/${job.id}` + (what === "delete" ? "" : "/" + what), {method: what === "delete" ? "DELETE" : "POST"});
    await showJobs();
  });
  return b;
}

async function showJobs() {
  const {jobs} = await api("/api/jobs");
  $("no-jobs").hidden = jobs.length > 0;
  const body = $("jobs").tBodies[0];
  const rows = new Map([...body.rows].map((tr) => [tr.dataset.job, tr]));
  const order = jobs.slice().reverse();
  for (const job of order) {
    let tr = rows.get(String(job.id));
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.job = job.id;
      tr.innerHTML = "<td></td><td></td><td></td><td class='state'></td><td><progress max='1'></progress><span></span></td>" +
        "<td class='fps'></td><td></td><td class='job-actions'></td>";
    }
    jobRow(tr, job);
    rows.delete(String(job.id));
    body.append(tr);  // moves an existing row in place; its buttons, and the focus on them, stay
  }
  for (const tr of rows.values()) tr.remove();
}

function upload() {
  const file = $("upload").files[0];
  if (!file) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/upload?name=${enc(file.name)}`);
    if (token) xhr.setRequestHeader("Authorization", "Bearer " + token);
    $("upload-progress").hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) $("upload-progress").value = e.loaded / e.total; };
    xhr.onload = async () => {
      $("upload-progress").hidden = true;
      $("upload").value = "";
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      if (xhr.status >= 400) return reject(new Error((body && body.error) || xhr.statusText));
      await loadMedia(body.media);
      $("open-status").textContent = `${body.media} is in the folder`;
      resolve();
    };
    xhr.onerror = () => { $("upload-progress").hidden = true; reject(new Error("the upload broke off")); };
    xhr.send(file);
  });
}

// -- keys: an editor's, when no control has the focus (a focused button, field or slider keeps its own keys)
function onControl(event) {
  const el = event.target;
  if (!el || el === document.body || el.id === "timeline") return false;
  return ["INPUT", "SELECT", "TEXTAREA", "BUTTON", "A", "VIDEO", "SUMMARY", "LI", "LABEL"].includes(el.tagName)
    || el.isContentEditable || el.getAttribute("role") === "button";
}
document.addEventListener("keydown", (event) => {
  if (!project || onControl(event)) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") {
    event.preventDefault();
    guarded("cut-error", () => step(event.shiftKey ? "redo" : "undo"));
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const shot = project.shots.find((s) => s.id === selected);
  if ((key === "ArrowRight" || key === "ArrowLeft") && shot) {
    const number = Math.max(1, Math.min(project.shots.length, shot.shot + (key === "ArrowRight" ? 1 : -1)));
    const next = project.shots[number - 1];
    event.preventDefault();
    guarded("look-error", async () => { await choose(next.id, false, false); movePlayhead(next.first_frame, false); });
  } else if (key === "l" || key === "L") { shuttle = shuttle > 0 ? Math.min(shuttle * 2, 8) : 1; }
  else if (key === "j" || key === "J") { shuttle = shuttle < 0 ? Math.max(shuttle * 2, -8) : -1; }
  else if (key === "k" || key === "K") { shuttle = 0; }
  else if (key === " ") { event.preventDefault(); shuttle = shuttle ? 0 : 1; }
  else if (key === "." || key === ",") { shuttle = 0; movePlayhead(playhead + (key === "." ? 1 : -1)); }
  else if ((key === "s" || key === "S") && shot) { guarded("cut-error", () => recut("split", {frame: playhead})); }
});
setInterval(() => { if (shuttle && project) movePlayhead(playhead + shuttle * 2); }, 200);

// -- wiring -------------------------------------------------------------------------------------
$("open").onclick = () => guarded("open-error", openProject);
$("media").onchange = onMediaChange;
$("upload").onchange = () => guarded("open-error", upload);
$("undo").onclick = () => guarded("cut-error", () => step("undo"));
$("redo").onclick = () => guarded("cut-error", () => step("redo"));
$("split").onclick = () => guarded("cut-error", () => recut("split", {frame: playhead}));
$("playhead-frame").onchange = () => movePlayhead(Number($("playhead-frame").value));
$("timeline").onpointerdown = (event) => {
  movePlayhead(timelineFrame(event));
  const move = (e) => movePlayhead(timelineFrame(e), false);
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", () => window.removeEventListener("pointermove", move), {once: true});
};
$("wipe-position").oninput = () => { $("wipe-after-box").style.clipPath = `inset(0 0 0 ${$("wipe-position").value}%)`; };
$("save-default").onclick = () => guarded("default-error", saveDefault);
$("save-look").onclick = () => guarded("look-error", () => saveLook());
$("no-look").onclick = () => guarded("look-error", () => saveLook({}));
$("copy-look").onclick = () => guarded("look-error", async () => {
  copied = editedLook(); $("paste-look").disabled = false; if (!dirty) setDirty(false, "copied");
});
$("paste-look").onclick = () => guarded("look-error", () => saveLook(copied));
$("preview").onclick = () => guarded("look-error", preview);
$("preview-cancel").onclick = () => guarded("look-error", cancelPreview);
$("render-go").onclick = () => guarded("render-error", render);
$("stale-reload").onclick = () => guarded("look-error", refresh);
for (const id of ["style", "keyframes", "keep-colors", "paint-frame", "paint-image"]) {
  $(id).addEventListener("input", () => { edit(id); if (id === "style") markGallery(); });
}
for (const id of ["strength", "stability"]) {
  $(id).oninput = () => { $(id + "-value").textContent = $(id).value; edit(id); };
}
window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); });
$("wipe-after-box").style.clipPath = "inset(0 0 0 50%)";

guarded("open-error", async () => {
  await loadMedia();
  await loadProjects();
  await loadGallery();
  await showJobs();
  const again = /project=(\d+)/.exec(location.hash);
  if (again) await showProjectById(Number(again[1]));  // a reload comes back to the open project
});
setInterval(() => { showJobs().catch(() => {}); }, 1000);
