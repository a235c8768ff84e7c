// stylecast studio: the page. Talks to the server's /api/ routes (stream/studio/server.py).
// What a crew made lives on the server (projects, looks, history, jobs): the page keeps only which
// project is open (in its address, #project=ID), so a reload comes back to it.
"use strict";
const token = new URLSearchParams(location.search).get("token");
const $ = (id) => document.getElementById(id);
let project = null;     // the open project, as GET /api/projects/ID gives it
let selected = 1;       // the shot shown in the look editor
let chosen = new Set(); // shots picked together (Ctrl/Shift-click) to take one look
let playhead = 0;       // the frame under the playhead
let dirty = false;      // the look editor holds changes not saved yet
let copied = null;      // a copied look
let shuttle = 0;        // the playhead's playing speed: frames a tick, negative backwards
let mediaKinds = {};    // clip name -> "sequence" for folders of pictures

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({}, options, {headers}));
  const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((body && body.error) || response.statusText);
  return body;
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
    open.textContent = `${p.media}`;
    open.className = "reopen";
    open.title = "open this project again";
    open.onclick = () => guarded("open-error", () => showProjectById(p.id));
    const info = document.createElement("span");
    info.className = "info";
    info.textContent = ` ${p.shots} shots, ${p.looks} looks · ${p.state} · ${when}`;
    const del = document.createElement("button");
    del.textContent = "delete";
    del.className = "delete-project";
    del.onclick = () => guarded("open-error", async () => {
      if (!confirm(`Delete the project of ${p.media}? (the clip and its renders stay in the folder)`)) return;
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
  project = found;
  location.hash = "project=" + project.id;
  selected = 1; chosen = new Set([1]); playhead = 0; dirty = false;
  $("output").value = project.suggested_output || "";
  showProject();
  await loadProjects();
}

function closeProject() {
  project = null;
  history.replaceState(null, "", location.pathname + location.search);
  $("cut").hidden = $("shot").hidden = $("render-form").hidden = true;
}

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
  $("clip-name").textContent = `of ${project.media} (${project.frames} frames at ${project.rate} frames/s${tc})`;
  for (const fmt of ["otio", "edl", "xml", "csv"]) $("export-" + fmt).href = withToken(`/api/projects/${project.id}/cut.${fmt}`);
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
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  li.setAttribute("aria-label", `shot ${shot.shot}`);
  li.classList.toggle("selected", shot.shot === selected);
  li.classList.toggle("chosen", chosen.has(shot.shot) && chosen.size > 1);
  const img = new Image();
  img.src = withToken(`/api/projects/${project.id}/shots/${shot.shot}.jpg?f=${shot.first_frame}-${shot.last_frame}`);
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
    merge.onclick = (event) => { event.stopPropagation(); guarded("cut-error", () => recut("merge", {shot: shot.shot})); };
    li.append(merge);
  }
  const pick = (event) => guarded("look-error", () => choose(shot.shot, event.ctrlKey || event.metaKey, event.shiftKey));
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
    seg.classList.toggle("selected", shot.shot === selected);
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
  if (follow && shot && shot.shot !== selected) guarded("look-error", () => choose(shot.shot, false, false));
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

async function recut(kind, body) {
  project = Object.assign(await api(`/api/projects/${project.id}/${kind}`, {method: "POST", json: body}),
                          {suggested_output: project.suggested_output});
  selected = Math.min(selected, project.shots.length);
  chosen = new Set([selected]);
  dirty = false;
  showProject();
  await loadProjects();
}

async function step(way) {
  project = Object.assign(await api(`/api/projects/${project.id}/${way}`, {method: "POST"}),
                          {suggested_output: project.suggested_output});
  selected = Math.min(selected, project.shots.length);
  chosen = new Set([selected]);
  dirty = false;
  showProject();
}

// -- a shot's look ----------------------------------------------------------------------------
async function choose(shot, add, range) {
  if (dirty && !add && !range && shot !== selected) await saveLook();  // a change is never dropped
  if (range) {
    const [a, b] = [Math.min(selected, shot), Math.max(selected, shot)];
    for (let n = a; n <= b; n++) chosen.add(n);
  } else if (add) {
    chosen.has(shot) && chosen.size > 1 ? chosen.delete(shot) : chosen.add(shot);
  } else {
    chosen = new Set([shot]);
    selected = shot;
  }
  for (const li of $("strip").children) {
    li.classList.toggle("selected", Number(li.dataset.shot) === selected);
    li.classList.toggle("chosen", chosen.has(Number(li.dataset.shot)) && chosen.size > 1);
  }
  showTimeline();
  showShot();
}

function showShot() {
  const shot = project.shots[selected - 1];
  if (!shot) { $("shot").hidden = true; return; }
  $("shot").hidden = false;
  $("shot-title").textContent = chosen.size > 1 ? `Shots ${[...chosen].sort((a, b) => a - b).join(", ")}` : `Shot ${shot.shot}`;
  $("shot-range").textContent = `${shot.timecode_in} – ${shot.timecode_out}, ${shot.frames} frames`;
  $("save-look").textContent = chosen.size > 1 ? `Use this look for the ${chosen.size} shots` : "Use this look";
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

function setDirty(value, words) {
  dirty = value;
  $("saved").textContent = value ? "unsaved changes" : (words ? "✓ " + words : "");
  $("saved").classList.toggle("unsaved", value);
}

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
  const shots = [...chosen].sort((a, b) => a - b);
  const done = shots.length > 1
    ? await api(`/api/projects/${project.id}/looks`, {method: "PUT", json: {shots, look}})
    : await api(`/api/projects/${project.id}/looks/${selected}`, {method: "PUT", json: look});
  project = Object.assign(done, {suggested_output: project.suggested_output});
  dirty = false;
  showProject();
  setDirty(false, shots.length > 1 ? `saved for shots ${shots.join(", ")}` : "saved");
  await loadProjects();
}

async function saveDefault() {
  const look = {style: $("default-style").value.trim(), strength: Number($("default-strength").value)};
  project = Object.assign(await api(`/api/projects/${project.id}/default-look`, {method: "PUT", json: look}),
                          {suggested_output: project.suggested_output});
  showProject();
}

async function preview() {
  if (dirty) await saveLook();
  $("preview").disabled = true;
  $("flicker").textContent = "rendering the preview…";
  $("preview-box").hidden = false;
  try {
    const p = await api(`/api/projects/${project.id}/shots/${selected}/preview`, {method: "POST", json: {seconds: 3}});
    $("before").src = withToken(p.before);
    $("after").src = withToken(p.after);
    $("preview-video").src = withToken(p.video);
    $("flicker").textContent = `${p.frames} frames in ${p.style}, stabilized; flicker ${p.flicker ?? "–"} grey levels ` +
      `a frame where the picture holds still (lower is steadier; the source's own: ${p.source_flicker ?? "–"})`;
  } catch (err) {
    $("flicker").textContent = "";
    $("preview-box").hidden = true;
    throw err;
  } finally { $("preview").disabled = false; }
}

async function loadGallery() {
  const {styles} = await api("/api/styles");
  $("gallery").replaceChildren(...styles.map((name) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.style = name;
    button.title = name;
    const img = new Image();
    img.src = withToken(`/api/thumbs/${name}.jpg`);
    img.alt = name;
    button.append(img, name);
    button.onclick = () => { $("style").value = name; $("paint-image").value = ""; markGallery(); setDirty(true); };
    return button;
  }));
}
function markGallery() {
  for (const b of $("gallery").children) b.classList.toggle("chosen", b.dataset.style === $("style").value);
}

// -- renders and jobs --------------------------------------------------------------------------
async function render() {
  if (dirty) await saveLook();
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
  cells[1].textContent = job.clip || "";
  cells[2].textContent = job.output;
  cells[3].textContent = job.state + (job.phase ? ` (${job.phase})` : "") + (job.error ? ": " + job.error : "");
  cells[4].querySelector("progress").value = job.progress;
  cells[4].querySelector("span").textContent = ` ${Math.round(job.progress * 100)}%`;
  cells[5].textContent = job.fps != null ? job.fps.toFixed(1) : "";
  cells[6].textContent = job.eta_s != null ? `${Math.round(job.eta_s)} s` : "";
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

// -- keys: an editor's ------------------------------------------------------------------------
function typing(event) { return ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName) && event.target.type !== "range"; }
document.addEventListener("keydown", (event) => {
  if (!project) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z" && !typing(event)) {
    event.preventDefault();
    guarded("cut-error", () => step(event.shiftKey ? "redo" : "undo"));
    return;
  }
  if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  const shot = project.shots[selected - 1];
  if (key === "ArrowRight" || key === "ArrowLeft") {
    const next = Math.max(1, Math.min(project.shots.length, selected + (key === "ArrowRight" ? 1 : -1)));
    event.preventDefault();
    guarded("look-error", async () => { await choose(next, false, false); movePlayhead(project.shots[next - 1].first_frame, false); });
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
$("copy-look").onclick = () => guarded("look-error", async () => { copied = editedLook(); $("paste-look").disabled = false; setDirty(dirty, "copied"); });
$("paste-look").onclick = () => guarded("look-error", () => saveLook(copied));
$("preview").onclick = () => guarded("look-error", preview);
$("render-go").onclick = () => guarded("render-error", render);
for (const id of ["style", "keyframes", "keep-colors", "paint-frame", "paint-image"]) {
  $(id).addEventListener("input", () => { setDirty(true); if (id === "style") markGallery(); });
}
for (const id of ["strength", "stability"]) {
  $(id).oninput = () => { $(id + "-value").textContent = $(id).value; setDirty(true); };
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
